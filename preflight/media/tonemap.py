"""HDR (PQ or HLG, BT.2020) to SDR (BT.709) for ``preflight fix``, as a 3-D LUT.

This FFmpeg build has no ``zscale`` (the usual linearize -> ``tonemap`` route), so the whole
transform is computed here, in numpy, on a ``LUT_SIZE``^3 grid of R'G'B' code values, and
applied by FFmpeg's ``lut3d`` filter (tetrahedral interpolation) between two swscale
conversions: YUV (BT.2020 matrix) -> 16-bit R'G'B' -> LUT -> YUV (BT.709 matrix). Every frame
thus stays in C; the LUT costs ~0.1 s once per run.

Per grid point (all formulas from the cited standards):

1. Signal -> display light, BT.2020 primaries, cd/m^2:
   PQ: the SMPTE ST 2084 EOTF. HLG: the BT.2100 inverse OETF, then its OOTF for a
   ``HLG_PEAK_NITS`` display (system gamma 1.2).
2. Tone mapping on luminance Y (BT.2020 weights): the ITU-R BT.2390 EETF, a Hermite knee in the
   PQ domain that leaves everything below the knee unchanged and rolls ``source_peak`` off to
   ``target_peak``; the colour is scaled by Y_out / Y, so hue and saturation ratios are kept and
   greys stay grey.
3. Gamut: BT.2020 -> BT.709 linear RGB (BT.2087 matrix), out-of-gamut components clipped.
4. Light -> SDR signal: the inverse of the BT.1886 EOTF for a ``target_peak`` display with zero
   black level, ``V = (L / target_peak) ^ (1 / 2.4)``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

TRANSFERS = ("pq", "hlg")
LUT_SIZE = 65
PQ_SOURCE_PEAK_NITS = 1000.0
"""Mastering peak assumed for PQ (what most consumer HDR is graded to)."""
HLG_PEAK_NITS = 1000.0
"""Display peak of the HLG OOTF (BT.2100's reference)."""
SDR_PEAK_NITS = 100.0

# SMPTE ST 2084 constants.
_M1 = 2610 / 16384
_M2 = 2523 / 4096 * 128
_C1 = 3424 / 4096
_C2 = 2413 / 4096 * 32
_C3 = 2392 / 4096 * 32
# BT.2100 HLG constants.
_A = 0.17883277
_B = 1 - 4 * _A
_C = 0.5 - _A * np.log(4 * _A)
_BT2020_Y = np.array([0.2627, 0.6780, 0.0593])
# ITU-R BT.2087: linear BT.2020 RGB -> linear BT.709 RGB.
_BT2020_TO_709 = np.array(
    [
        [1.6605, -0.5876, -0.0728],
        [-0.1246, 1.1329, -0.0083],
        [-0.0182, -0.1006, 1.1187],
    ]
)


def pq_eotf(e: np.ndarray | float) -> np.ndarray:
    """PQ signal in [0, 1] -> display luminance in cd/m^2 (0-10000), SMPTE ST 2084."""
    p = np.power(np.clip(e, 0.0, 1.0), 1 / _M2)
    return 10000.0 * np.power(np.maximum(p - _C1, 0.0) / (_C2 - _C3 * p), 1 / _M1)


def pq_inverse_eotf(nits: np.ndarray | float) -> np.ndarray:
    """Display luminance in cd/m^2 -> PQ signal in [0, 1]."""
    y = np.power(np.clip(np.asarray(nits, dtype=np.float64) / 10000.0, 0.0, 1.0), _M1)
    return np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


def hlg_inverse_oetf(e: np.ndarray | float) -> np.ndarray:
    """HLG signal in [0, 1] -> normalised scene light in [0, 1] (BT.2100)."""
    e = np.clip(np.asarray(e, dtype=np.float64), 0.0, 1.0)
    with np.errstate(over="ignore"):
        high = (np.exp((e - _C) / _A) + _B) / 12
    return np.where(e <= 0.5, e * e / 3, high)


def hlg_display_light(rgb: np.ndarray, peak: float = HLG_PEAK_NITS) -> np.ndarray:
    """HLG R'G'B' (..., 3) -> display light in cd/m^2: inverse OETF, then the BT.2100 OOTF
    ``F_D = peak * Y_s^(gamma - 1) * E`` with gamma 1.2 (the reference for a 1000-cd/m^2 display)."""
    scene = hlg_inverse_oetf(rgb)
    ys = scene @ _BT2020_Y
    return peak * np.power(np.maximum(ys, 1e-12), 0.2)[..., None] * scene


def bt2390_eetf(nits: np.ndarray, *, source_peak: float, target_peak: float) -> np.ndarray:
    """ITU-R BT.2390 EETF (black level 0): luminance for a ``source_peak`` master shown on a
    ``target_peak`` display. Identity below the knee ``KS = 1.5 maxLum - 0.5`` (PQ domain,
    normalised to the source peak); a Hermite spline from there to ``target_peak``."""
    if not 0 < target_peak <= source_peak:
        raise ValueError(f"need 0 < target_peak <= source_peak, got {target_peak}, {source_peak}")
    src_pq = pq_inverse_eotf(source_peak)
    e1 = pq_inverse_eotf(np.minimum(nits, source_peak)) / src_pq
    max_lum = pq_inverse_eotf(target_peak) / src_pq
    ks = 1.5 * max_lum - 0.5
    t = np.clip((e1 - ks) / (1 - ks), 0.0, 1.0)
    t2, t3 = t * t, t * t * t
    spline = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) + (-2 * t3 + 3 * t2) * max_lum
    e2 = np.where(e1 < ks, e1, spline)
    return pq_eotf(e2 * src_pq)


def hdr_to_sdr(
    rgb: np.ndarray,
    transfer: str,
    *,
    source_peak: float | None = None,
    target_peak: float = SDR_PEAK_NITS,
) -> np.ndarray:
    """BT.2020 HDR R'G'B' (..., 3) in [0, 1] -> BT.709 SDR R'G'B' in [0, 1] (see the module notes).

    ``source_peak`` defaults to ``PQ_SOURCE_PEAK_NITS`` for PQ and ``HLG_PEAK_NITS`` for HLG.
    """
    if transfer not in TRANSFERS:
        raise ValueError(f"transfer must be one of {', '.join(TRANSFERS)}, got {transfer!r}")
    rgb = np.asarray(rgb, dtype=np.float64)
    if transfer == "pq":
        light = pq_eotf(rgb)
        peak = source_peak or PQ_SOURCE_PEAK_NITS
    else:
        light = hlg_display_light(rgb)
        peak = source_peak or HLG_PEAK_NITS
    y = light @ _BT2020_Y
    y_out = bt2390_eetf(y, source_peak=peak, target_peak=target_peak)
    ratio = np.divide(y_out, y, out=np.zeros_like(y), where=y > 1e-9)
    rec709 = (light * ratio[..., None]) @ _BT2020_TO_709.T
    return np.power(np.clip(rec709 / target_peak, 0.0, 1.0), 1 / 2.4)


@functools.cache
def sdr_lut(transfer: str, size: int = LUT_SIZE) -> np.ndarray:
    """The transform on a ``size``^3 grid: shape (size, size, size, 3) indexed [r, g, b], float64."""
    axis = np.linspace(0.0, 1.0, size)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    out = hdr_to_sdr(np.stack([r, g, b], axis=-1), transfer)
    out.flags.writeable = False
    return out


def write_cube(lut: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write a (N, N, N, 3) [r, g, b] LUT as an Adobe .cube file (red varies fastest)."""
    n = lut.shape[0]
    if lut.shape != (n, n, n, 3):
        raise ValueError(f"LUT must be (N, N, N, 3), got {lut.shape}")
    rows = lut.transpose(2, 1, 0, 3).reshape(-1, 3)  # .cube order: for b: for g: for r
    path = Path(path)
    with open(path, "w", encoding="ascii") as f:
        f.write(f"LUT_3D_SIZE {n}\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n")
        np.savetxt(f, rows, fmt="%.6f")
    return path
