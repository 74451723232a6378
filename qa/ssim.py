"""SSIM of Wang et al. (2004) on luma, fast, with a region excluded.

Definition (Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error visibility
to structural similarity", IEEE TIP 13(4), 2004, eq. 13): for local statistics taken with an
11x11 circular-symmetric Gaussian window (sigma 1.5, normalised to unit sum),

    SSIM(x, y) = (2 mu_x mu_y + C1) (2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))

with ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` and ``L = 2^bitdepth - 1``; (co)variances are
population moments (``use_sample_covariance=False``). The frame score is the mean of the map
over pixels at least the window radius (5 px) away from the frame edge, which is exactly what
``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=L)`` computes (its ``crop(S, pad)``): this module
agrees with it to ~1e-5 per frame (tests/test_qa_ssim.py).

Speed. Only four Gaussian blurs are needed, not five: the map depends on the variances through
``sigma_x^2 + sigma_y^2`` alone, so ``x^2 + y^2`` is blurred as one image. The frame is processed
in horizontal strips of ``strip_rows`` rows (plus a 5-row halo each side), and the element-wise
part in sub-strips of ``CHUNK_ROWS`` rows, so that the working set stays in cache instead of
streaming ten full-frame float maps through memory: whole-frame passes are memory bound (an
element-wise op on a 1080p float32 map takes ~1.5 ms, ~0.3 ms in cache). 180-row strips cost
~10% halo recomputation and measured fastest at 1080p (19 ms per frame pair on one core of this
machine, vs 21 ms at 64 rows and ~40 ms whole-frame). All
arithmetic is float32 OpenCV calls (SIMD, GIL released) into preallocated buffers; 8-bit input is
never converted, the blur reads it directly.

Border handling matches skimage: its Gaussian filter is ``scipy.ndimage`` with ``mode='reflect'``
(``dcba|abcd``), which is OpenCV's ``BORDER_REFLECT``; the 5-px crop makes the two agree
exactly for the pixels that are averaged in any case, since no averaged pixel's window reaches
past the edge.

Two interchangeable backends compute the same sums (tests/test_qa_ssim.py runs every check on
both): ``"c"``, the fused C kernel ``qa._ssimkernel`` (built by setup.py when a C compiler is
present; one cache-resident pass per column tile, ~2x faster than OpenCV at 1080p), and
``"opencv"``, the strip-wise OpenCV path in this file, used when the extension is missing.
:data:`KERNEL` names the default; ``SSIMKernel(backend=...)`` picks one explicitly.

``--scale auto`` follows Wang's reference ``ssim.m`` (2009 revision): downsample both images by
``f = max(1, round(min(H, W) / 256))`` with an ``f x f`` average filter (``imfilter(...,
'symmetric', 'same')``) followed by taking every ``f``-th pixel, then compute SSIM as above.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import cv2
import numpy as np

try:  # optional compiled kernel (setup.py); the OpenCV path below gives the same numbers
    from . import _ssimkernel as _native
except ImportError:  # pragma: no cover - depends on the build
    _native = None

WIN_RADIUS = 5
"""Radius of the 11x11 window; also the border crop and the region dilation (pixels)."""
SIGMA = 1.5
K1 = 0.01
K2 = 0.03
DEFAULT_STRIP_ROWS = 180
CHUNK_ROWS = 16
PSNR_CAP_DB = 100.0
"""PSNR reported for identical pixels (MSE 0): finite so JSON stays valid."""

_F32 = cv2.CV_32F
_BORDER = cv2.BORDER_REFLECT

Backend = Literal["c", "opencv"]
KERNEL: Backend = "c" if _native is not None else "opencv"
"""The backend :class:`SSIMKernel` uses by default: ``"c"`` when ``qa._ssimkernel`` is built."""
_NATIVE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))


def gaussian_window(radius: int = WIN_RADIUS, sigma: float = SIGMA) -> np.ndarray:
    """The 1-D Gaussian of the SSIM window, normalised to unit sum.

    Same taps as ``scipy.ndimage.gaussian_filter(sigma=1.5, truncate=3.5)`` (radius
    ``int(3.5 * 1.5 + 0.5) = 5``), which skimage uses.

    Returns
    -------
    ndarray, shape (2 * radius + 1, 1), float32
    """
    if radius < 1 or sigma <= 0:
        raise ValueError(f"need radius >= 1 and sigma > 0, got radius={radius}, sigma={sigma}")
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    return (w / w.sum()).astype(np.float32).reshape(-1, 1)


def data_range_for(bit_depth: int) -> float:
    """``L = 2^bitdepth - 1``: 255 for 8-bit, 1023 for 10-bit luma."""
    if not 1 <= bit_depth <= 16:
        raise ValueError(f"bit depth must be 1-16, got {bit_depth}")
    return float((1 << bit_depth) - 1)


def auto_scale_factor(height: int, width: int) -> int:
    """Downsampling factor of Wang's ``ssim.m``: ``max(1, round(min(H, W) / 256))``.

    MATLAB's ``round`` rounds halves away from zero (Python's rounds them to even).
    """
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    return max(1, math.floor(min(height, width) / 256 + 0.5))


def wang_downsample(img: np.ndarray, factor: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """Average-filter and subsample by ``factor`` exactly as ``ssim.m`` does.

    ``imfilter(img, ones(f)/f^2, 'symmetric', 'same')`` centres an ``f``-tap kernel at
    ``floor((f + 1) / 2)`` (1-based), so the output pixel kept at 0-based ``i = k f`` averages input
    ``[i - (f - 1) // 2, i - (f - 1) // 2 + f)``; ``'symmetric'`` padding is OpenCV's
    ``BORDER_REFLECT``. Taking every ``f``-th pixel then keeps ``ceil(N / f)`` samples per axis.

    Parameters
    ----------
    img : ndarray, shape (H, W), uint8, uint16 or float32
    factor : int >= 1
    out : ndarray, shape (ceil(H/f), ceil(W/f)), float32, optional

    Returns
    -------
    ndarray, shape (ceil(H / f), ceil(W / f)), float32
    """
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    h, w = img.shape
    oh, ow = -(-h // factor), -(-w // factor)
    if factor == 1:
        res = img.astype(np.float32, copy=False)
        if out is not None:
            np.copyto(out, res)
            return out
        return res
    native = _native is not None and img.dtype in (np.uint8, np.uint16) and factor <= 16
    if native and img.strides[1] == img.itemsize:
        if out is None:
            out = np.empty((oh, ow), np.float32)
        _native.block_mean(img, factor, out)  # one pass, no padded or float copy (bit-identical)
        return out
    lead = (factor - 1) // 2
    pad_b = oh * factor - h - lead
    pad_r = ow * factor - w - lead
    # Trailing padding may be negative (the last block ends before the edge): crop instead.
    padded = cv2.copyMakeBorder(img, lead, max(0, pad_b), lead, max(0, pad_r), _BORDER)
    padded = padded[: oh * factor, : ow * factor]
    if img.dtype in (np.uint8, np.uint16) and factor <= 16:
        return _block_mean_int(padded, factor, oh, ow, out)
    padded = padded.astype(np.float32)
    # Block means of non-overlapping f x f tiles: INTER_AREA at an exact integer ratio averages
    # each tile exactly (float32 sums are exact for <= 16-bit data at any practical factor), at
    # ~1.6 ms per 1080p frame against ~17 ms for a numpy reshape-mean.
    return cv2.resize(padded, (ow, oh), dst=out, interpolation=cv2.INTER_AREA)


def _block_mean_int(padded: np.ndarray, factor: int, oh: int, ow: int, out: np.ndarray | None) -> np.ndarray:
    """Block means of integer luma, bit-identical to INTER_AREA on float32 without the float copy.

    Row sums of each block (``uint16`` for 8-bit input, exact up to ``factor`` 16; ``float32``,
    exact below 2^24, for 16-bit), then column sums by ``cv2.reduce``, times ``1/f^2`` in float32
    as OpenCV's area resampling does: 25% less CPU than converting the whole frame to float first.
    """
    rows = padded.reshape(oh, factor, ow * factor)
    acc = rows[:, 0].astype(np.uint16 if padded.dtype == np.uint8 else np.float32)
    for k in range(1, factor):
        np.add(acc, rows[:, k], out=acc, casting="unsafe")
    sums = cv2.reduce(acc.reshape(oh * ow, factor), 1, cv2.REDUCE_SUM, dtype=cv2.CV_32F).reshape(oh, ow)
    return np.multiply(sums, np.float32(1) / np.float32(factor * factor), out=out)


@dataclass(frozen=True)
class FrameSums:
    """Raw per-frame sums; :meth:`score` turns them into the reported numbers.

    ``ssim_out_sum``/``n_out``: SSIM map summed over the scored outside pixels; ``ssim_in_sum``/
    ``n_in``: over the (undilated) region; ``ssim_full_sum``/``n_full``: over the whole frame
    less the 5-px border (skimage's mean); ``sq_err_out``: summed squared luma error outside.
    """

    ssim_out_sum: float
    n_out: int
    ssim_in_sum: float
    n_in: int
    ssim_full_sum: float
    n_full: int
    sq_err_out: float


@dataclass(frozen=True)
class FrameScore:
    """Scores of one frame pair.

    Attributes
    ----------
    ssim_outside : float
        Mean SSIM over pixels outside the dilated edit region (NaN when this frame has none).
    psnr_outside : float
        PSNR in dB over the same pixels, capped at ``PSNR_CAP_DB``.
    inside_change : float or None
        ``1 - mean SSIM`` over the region; ``None`` without a region in this frame.
    ssim_full : float
        Unmasked mean (skimage's number), for reference.
    """

    ssim_outside: float
    psnr_outside: float
    inside_change: float | None
    ssim_full: float


def score_from_sums(sums: FrameSums, data_range: float) -> FrameScore:
    """Means and PSNR from :class:`FrameSums` (see there)."""
    if sums.n_out:
        ssim_out = sums.ssim_out_sum / sums.n_out
        mse = sums.sq_err_out / sums.n_out
        floor = data_range * data_range * 10.0 ** (-PSNR_CAP_DB / 10.0)
        psnr = 10.0 * math.log10(data_range * data_range / max(mse, floor))
    else:
        ssim_out = psnr = math.nan
    inside = 1.0 - sums.ssim_in_sum / sums.n_in if sums.n_in else None
    full = sums.ssim_full_sum / sums.n_full if sums.n_full else math.nan
    return FrameScore(ssim_outside=ssim_out, psnr_outside=psnr, inside_change=inside, ssim_full=full)


@dataclass(frozen=True)
class _StripWeights:
    """Scoring weights of one strip: ``None`` means "every interior column counts"."""

    out: np.ndarray | None  # (rows, W) float32 0/1, or None = all interior columns
    out_u8: np.ndarray | None  # same as uint8 for cv2.norm's mask
    inside: np.ndarray | None  # (rows, W) float32 0/1, or None = no region pixel in the strip
    row_lo: int  # interior rows of the strip (relative), for the None case
    row_hi: int


@dataclass(frozen=True)
class PreparedRegion:
    """A region made ready for :class:`SSIMKernel`: dilated and cropped.

    Attributes
    ----------
    region : ndarray, shape (H, W), uint8 0/1, or None
        The edit region as given (undilated), on the scoring grid.
    outside : ndarray, shape (H, W), bool
        Pixels that are scored: not within ``WIN_RADIUS`` (Chebyshev distance) of the region and
        not within ``WIN_RADIUS`` of the frame edge.
    n_out, n_in : int
        Pixel counts of ``outside`` and of the region.
    rows : tuple of (int, int)
        The OpenCV backend's strips ``[r0, r1)``; :attr:`strips` cuts the weights along them.
    """

    region: np.ndarray | None
    outside: np.ndarray
    n_out: int
    n_in: int
    rows: tuple[tuple[int, int], ...]

    @functools.cached_property
    def strips(self) -> tuple[_StripWeights, ...]:
        """Per-strip scoring weights of the OpenCV path, cut on first use: the C kernel reads
        ``outside`` and ``region`` directly, so with it (per-frame masks included) this work is
        never done."""
        h, w = self.outside.shape
        r = WIN_RADIUS
        strips = []
        for r0, r1 in self.rows:
            lo, hi = max(r0, r) - r0, min(r1, h - r) - r0
            out_s = self.outside[r0:r1]
            # outside is a subset of the interior, so equal counts mean every interior pixel of
            # the strip is scored and no weights are needed.
            full_interior = int(np.count_nonzero(out_s)) == max(hi - max(lo, 0), 0) * (w - 2 * r)
            in_s = self.region[r0:r1] if self.region is not None else None
            strips.append(
                _StripWeights(
                    out=None if full_interior else out_s.astype(np.float32),
                    out_u8=None if full_interior else out_s.astype(np.uint8),
                    inside=in_s.astype(np.float32) if in_s is not None and in_s.any() else None,
                    row_lo=max(lo, 0),
                    row_hi=max(hi, 0),
                )
            )
        return tuple(strips)


def _native_ok(x: np.ndarray, y: np.ndarray, ssim_map: np.ndarray | None) -> bool:
    """Whether the C kernel takes these arrays as they are (same dtype, contiguous rows going down)."""
    return (
        x.dtype == y.dtype
        and x.dtype in _NATIVE_DTYPES
        and x.strides[1] == x.itemsize
        and y.strides[1] == y.itemsize
        and x.strides[0] > 0
        and y.strides[0] > 0
        and (ssim_map is None or (ssim_map.dtype == np.float32 and ssim_map.strides[1] == 4))
    )


class SSIMKernel:
    """Per-frame SSIM on a fixed frame size, with reusable buffers.

    One instance per thread (buffers are not shared). Thread-safe across instances: every call
    releases the GIL inside OpenCV.

    Parameters
    ----------
    height, width : int
        Frame size (the scoring grid), each >= 11.
    data_range : float
        ``L`` (255 for 8-bit luma, 1023 for 10-bit).
    strip_rows : int
        Rows per blur strip of the OpenCV backend (see the module notes on cache use).
    backend : {"c", "opencv"}, optional
        Default :data:`KERNEL`. ``"c"`` raises ``ValueError`` when the extension is not built.
    """

    def __init__(
        self,
        height: int,
        width: int,
        *,
        data_range: float,
        strip_rows: int = DEFAULT_STRIP_ROWS,
        backend: Backend | None = None,
    ):
        win = 2 * WIN_RADIUS + 1
        if height < win or width < win:
            raise ValueError(
                f"frames must be at least {win}x{win} px for the SSIM window, got {width}x{height}"
            )
        if data_range <= 0:
            raise ValueError(f"data_range must be > 0, got {data_range}")
        if strip_rows < 2 * WIN_RADIUS:
            raise ValueError(f"strip_rows must be >= {2 * WIN_RADIUS}, got {strip_rows}")
        backend = KERNEL if backend is None else backend
        if backend not in ("c", "opencv"):
            raise ValueError(f'backend must be "c" or "opencv", got {backend!r}')
        if backend == "c" and _native is None:
            raise ValueError('backend "c" needs the compiled qa._ssimkernel: reinstall with a C compiler')
        self.backend: Backend = backend
        self._native: ModuleType | None = _native if backend == "c" else None
        self.height, self.width = height, width
        self.data_range = float(data_range)
        self.strip_rows = strip_rows
        self.c1 = (K1 * data_range) ** 2
        self.c2 = (K2 * data_range) ** 2
        self._k = gaussian_window()
        self._taps = np.ascontiguousarray(self._k.ravel())
        halo = strip_rows + 2 * WIN_RADIUS
        self._halo = {n: np.empty((halo, width), np.float32) for n in ("xf", "yf", "mx", "my", "q", "p")}
        self._core = {n: np.empty((CHUNK_ROWS, width), np.float32) for n in ("t1", "t2", "a", "b")}
        self._core["s"] = np.empty((strip_rows, width), np.float32)
        self._rows = [(r0, min(height, r0 + strip_rows)) for r0 in range(0, height, strip_rows)]
        self._whole = self.prepare(None)

    # ------------------------------------------------------------------ regions
    def prepare(self, region: np.ndarray | None) -> PreparedRegion:
        """Dilate ``region`` by the window radius and mark the pixels that are scored.

        Parameters
        ----------
        region : ndarray, shape (H, W), uint8 or bool, nonzero = edited; or None (whole frame)

        Returns
        -------
        PreparedRegion
            May have ``n_out == 0`` (nothing to score): callers decide whether that is an error.
        """
        h, w, r = self.height, self.width, WIN_RADIUS
        interior = np.zeros((h, w), bool)
        interior[r : h - r, r : w - r] = True
        if region is None:
            reg = None
            outside = interior
            n_in = 0
        else:
            if region.shape != (h, w):
                raise ValueError(f"region is {region.shape[1]}x{region.shape[0]}, expected {w}x{h}")
            reg = (np.asarray(region) != 0).astype(np.uint8)
            # An SSIM value depends on every pixel of its 11x11 window, i.e. within Chebyshev
            # distance 5: a square structuring element excludes exactly the pixels an edit can reach.
            dilated = cv2.dilate(reg, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
            outside = interior & (dilated == 0)
            n_in = int(np.count_nonzero(reg))
        return PreparedRegion(
            region=reg,
            outside=outside,
            n_out=int(np.count_nonzero(outside)),
            n_in=n_in,
            rows=tuple(self._rows),
        )

    # ------------------------------------------------------------------ per frame
    def frame(
        self,
        x: np.ndarray,
        y: np.ndarray,
        region: PreparedRegion | None = None,
        *,
        ssim_map: np.ndarray | None = None,
    ) -> FrameSums:
        """SSIM sums for one frame pair.

        Parameters
        ----------
        x, y : ndarray, shape (H, W), uint8, uint16 or float32
            Reference (source) and test (edited) luma on the same grid, values in ``[0, L]``.
            Row-strided views (e.g. a decoded plane with padding) are fine: nothing is copied for
            8-bit input.
        region : PreparedRegion, optional
            From :meth:`prepare`; default whole frame.
        ssim_map : ndarray, shape (H, W), float32, optional
            Filled with the full SSIM map (for heat maps) when given.

        Returns
        -------
        FrameSums
        """
        h, w, rad = self.height, self.width, WIN_RADIUS
        if x.shape != (h, w) or y.shape != (h, w):
            raise ValueError(f"frames must be {w}x{h}, got {x.shape[::-1]} and {y.shape[::-1]}")
        if x.dtype != y.dtype:  # e.g. an 8-bit source against a float edited: compare as float32
            x, y = x.astype(np.float32), y.astype(np.float32)
        reg = region or self._whole
        if self._native is not None and _native_ok(x, y, ssim_map):
            # outside is bool: its uint8 view is the 0/1 weight plane, no copy.
            out_sum, in_sum, full_sum, sq_err = self._native.frame_sums(
                x, y, self._taps, self.c1, self.c2, reg.outside.view(np.uint8),
                reg.region if reg.n_in else None, ssim_map,
            )
            return FrameSums(
                ssim_out_sum=out_sum, n_out=reg.n_out, ssim_in_sum=in_sum, n_in=reg.n_in,
                ssim_full_sum=full_sum, n_full=(h - 2 * rad) * (w - 2 * rad), sq_err_out=sq_err,
            )
        return self._frame_opencv(x, y, reg, ssim_map)

    def _frame_opencv(
        self, x: np.ndarray, y: np.ndarray, reg: PreparedRegion, ssim_map: np.ndarray | None
    ) -> FrameSums:
        """The OpenCV fallback of :meth:`frame` (no C kernel, or inputs it does not take)."""
        h, w, rad = self.height, self.width, WIN_RADIUS
        k = self._k
        hb, cb = self._halo, self._core
        c1, c2 = self.c1, self.c2
        direct = x.dtype == np.uint8 and y.dtype == np.uint8
        out_sum = in_sum = full_sum = sq_err = 0.0
        for (r0, r1), sw in zip(self._rows, reg.strips, strict=True):
            a0, a1 = max(0, r0 - rad), min(h, r1 + rad)
            n, m, o0 = a1 - a0, r1 - r0, r0 - a0
            if direct:
                xs, ys = x[a0:a1], y[a0:a1]
            else:
                xs, ys = hb["xf"][:n], hb["yf"][:n]
                np.copyto(xs, x[a0:a1], casting="unsafe")
                np.copyto(ys, y[a0:a1], casting="unsafe")
            # Local means, E[x^2 + y^2] and E[xy] (the only moments the map needs). The product
            # blurs run in place: OpenCV filters consume a source row before writing that row.
            mx = cv2.sepFilter2D(xs, _F32, k, k, dst=hb["mx"][:n], borderType=_BORDER)[o0 : o0 + m]
            my = cv2.sepFilter2D(ys, _F32, k, k, dst=hb["my"][:n], borderType=_BORDER)[o0 : o0 + m]
            q = cv2.multiply(xs, xs, dst=hb["q"][:n], dtype=_F32)
            cv2.accumulateSquare(ys, q)
            p = cv2.multiply(xs, ys, dst=hb["p"][:n], dtype=_F32)
            mq = cv2.sepFilter2D(q, _F32, k, k, dst=hb["q"][:n], borderType=_BORDER)[o0 : o0 + m]
            mp = cv2.sepFilter2D(p, _F32, k, k, dst=hb["p"][:n], borderType=_BORDER)[o0 : o0 + m]
            s_strip = ssim_map[r0:r1] if ssim_map is not None else cb["s"][:m]
            # The element-wise part runs on sub-strips of CHUNK_ROWS rows: its ten passes then stay
            # in L1/L2 (measured ~1.3x faster at 1080p than on whole 64-row strips).
            for c0 in range(0, m, CHUNK_ROWS):
                c1_ = min(m, c0 + CHUNK_ROWS)
                k_ = c1_ - c0
                cmx, cmy, cmq, cmp = mx[c0:c1_], my[c0:c1_], mq[c0:c1_], mp[c0:c1_]
                # t1 = 2 mx my; t2 = mx^2 + my^2
                t1 = cv2.multiply(cmx, cmy, dst=cb["t1"][:k_], scale=2.0)
                t2 = cv2.multiply(cmx, cmx, dst=cb["t2"][:k_])
                cv2.accumulateSquare(cmy, t2)
                # A2 = 2 sigma_xy + C2 = 2 E[xy] - 2 mx my + C2; B2 = sigma_x^2 + sigma_y^2 + C2
                a2 = cv2.addWeighted(cmp, 2.0, t1, -1.0, c2, dst=cb["a"][:k_])
                b2 = cv2.addWeighted(cmq, 1.0, t2, -1.0, c2, dst=cb["b"][:k_])
                a1 = cv2.add(t1, c1, dst=t1)
                b1 = cv2.add(t2, c1, dst=t2)
                num = cv2.multiply(a1, a2, dst=a2)
                den = cv2.multiply(b1, b2, dst=b2)
                cv2.divide(num, den, dst=s_strip[c0:c1_])
            s = s_strip
            # Pooling: OpenCV sums float32 in double; np.dot (BLAS) only where a mask cuts the strip.
            interior = s[sw.row_lo : sw.row_hi, rad : w - rad]
            strip_full = cv2.sumElems(interior)[0] if sw.row_hi > sw.row_lo else 0.0
            full_sum += strip_full
            xo, yo = x[r0:r1], y[r0:r1]
            if sw.out is None:
                out_sum += strip_full
                if sw.row_hi > sw.row_lo:
                    sq_err += cv2.norm(
                        xo[sw.row_lo : sw.row_hi, rad : w - rad],
                        yo[sw.row_lo : sw.row_hi, rad : w - rad],
                        cv2.NORM_L2SQR,
                    )
            else:
                out_sum += float(np.vdot(s, sw.out))
                sq_err += cv2.norm(xo, yo, cv2.NORM_L2SQR, mask=sw.out_u8)
            if sw.inside is not None:
                in_sum += float(np.vdot(s, sw.inside))
        n_full = (h - 2 * rad) * (w - 2 * rad)
        return FrameSums(
            ssim_out_sum=out_sum,
            n_out=reg.n_out,
            ssim_in_sum=in_sum,
            n_in=reg.n_in,
            ssim_full_sum=full_sum,
            n_full=n_full,
            sq_err_out=float(sq_err),
        )

    def score(self, x: np.ndarray, y: np.ndarray, region: PreparedRegion | None = None) -> FrameScore:
        """Convenience: :meth:`frame` then :func:`score_from_sums`."""
        return score_from_sums(self.frame(x, y, region), self.data_range)


def ssim(
    x: np.ndarray,
    y: np.ndarray,
    *,
    data_range: float,
    region: np.ndarray | None = None,
    backend: Backend | None = None,
) -> FrameScore:
    """SSIM of one image pair (allocates a kernel; use :class:`SSIMKernel` in loops).

    Parameters
    ----------
    x, y : ndarray, shape (H, W), uint8, uint16 or float32
    data_range : float
        ``L``.
    region : ndarray, shape (H, W), optional
        Nonzero = edited; excluded (dilated by 5 px) from ``ssim_outside``.
    backend : {"c", "opencv"}, optional
        See :class:`SSIMKernel`.
    """
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"need two 2-D images of the same shape, got {x.shape} and {y.shape}")
    kern = SSIMKernel(x.shape[0], x.shape[1], data_range=data_range, backend=backend)
    return kern.score(x, y, kern.prepare(region) if region is not None else None)
