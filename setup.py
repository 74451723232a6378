"""Build of the optional C kernels (all other metadata is in pyproject.toml).

The extensions are ``optional``: without a working C compiler the install still succeeds and
* ``qa.ssim`` uses its OpenCV path (same results, ~2x slower; ``qa.ssim.KERNEL`` tells which);
* ``preflight.media.decode`` shrinks frames with OpenCV + numpy (same bytes, ~0.1 ms more per
  1080p frame).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# GCC/Clang: -O3 vectorises the hot loops; -fopenmp-simd honours the `omp simd` reductions
# without linking an OpenMP runtime. No -ffast-math: results must not depend on the compiler.
_UNIX_FLAGS = ["-O3", "-fopenmp-simd", "-std=c11"]


class _BuildExt(build_ext):
    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                ext.extra_compile_args = [*_UNIX_FLAGS, *ext.extra_compile_args]
        super().build_extensions()


setup(
    ext_modules=[
        # Both include preflight/media/_buffer2d.h (the checks of 2-D buffer arguments).
        Extension("qa._ssimkernel", sources=["qa/_ssimkernel.c"], include_dirs=["preflight/media"],
                  depends=["preflight/media/_buffer2d.h"], optional=True),
        Extension("preflight.media._areakernel", sources=["preflight/media/_areakernel.c"],
                  include_dirs=["preflight/media"], depends=["preflight/media/_buffer2d.h"], optional=True),
    ],
    cmdclass={"build_ext": _BuildExt},
)
