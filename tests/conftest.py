"""Shared test fixtures.

``PREFLIGHT_TEST_FFMPEG_CPUFLAGS=0`` (or another ``AV_CPU_FLAG_*`` mask) forces the SIMD level
of the FFmpeg libraries PyAV bundles, for the whole test session: with ``NPY_DISABLE_CPU_FEATURES``
and ``OPENCV_CPU_DISABLE`` it simulates another CPU, which is how the golden documents are
checked to hold on machines other than the one that recorded them (see tests/golden_compare.py).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import av
import pytest
from click.testing import CliRunner


def _force_ffmpeg_cpu_flags() -> None:
    flags = os.environ.get("PREFLIGHT_TEST_FFMPEG_CPUFLAGS")
    if flags is None:
        return
    libs = Path(av.__file__).resolve().parent.parent / "av.libs"
    avutil = next(libs.glob("libavutil*"), None)
    if avutil is None:
        raise pytest.UsageError(f"PREFLIGHT_TEST_FFMPEG_CPUFLAGS: no libavutil in {libs}")
    ctypes.CDLL(str(avutil)).av_force_cpu_flags(int(flags, 0))


def pytest_configure(config: pytest.Config) -> None:
    _force_ffmpeg_cpu_flags()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
