"""Pooling per-frame scores (clip, shots) and the pass/fail gate.

Pooling follows common video-quality practice: the mean says how well the clip is preserved
overall, the minimum and the 5th percentile say how bad the worst moments are (a short drift
that a mean hides). Percentiles use linear interpolation between order statistics
(``numpy.percentile``'s default).

Gate defaults (``qa score --min-mean/--min-p5``):

* ``DEFAULT_MIN_MEAN = 0.90``: re-encoding an untouched clip at usual delivery quality
  (H.264 CRF 18-23) keeps luma SSIM at 0.95-0.99 at 1080p; an outside mean under 0.90 means the
  editor changed the picture where it should not have, visibly (e.g. regenerated texture, a shifted
  or re-lit background).
* ``DEFAULT_MIN_P5 = 0.85``: the worst 5% of frames may dip a little (fast motion re-encodes
  worse), but not into visible drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from preflight.check.shots import Shot

DEFAULT_MIN_MEAN = 0.90
DEFAULT_MIN_P5 = 0.85
DEFAULT_WORST = 5


@dataclass(frozen=True)
class Pooled:
    """Mean, minimum and 5th percentile of a per-frame series (NaN entries ignored)."""

    mean: float
    min: float
    p5: float
    count: int

    def to_dict(self, digits: int = 6) -> dict[str, object]:
        return {
            "mean": _r(self.mean, digits),
            "min": _r(self.min, digits),
            "p5": _r(self.p5, digits),
        }


def _r(v: float, digits: int) -> float | None:
    return round(float(v), digits) if math.isfinite(v) else None


def pool(values: np.ndarray | Sequence[float]) -> Pooled:
    """Pool a per-frame series.

    Parameters
    ----------
    values : array-like, shape (N,), float
        NaN marks frames without a value (e.g. nothing left to score); they are skipped.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return Pooled(math.nan, math.nan, math.nan, 0)
    return Pooled(float(v.mean()), float(v.min()), float(np.percentile(v, 5)), int(v.size))


@dataclass(frozen=True)
class Gate:
    """Thresholds on the pooled outside SSIM; both must hold to pass."""

    min_mean: float = DEFAULT_MIN_MEAN
    min_p5: float = DEFAULT_MIN_P5

    def __post_init__(self) -> None:
        for name in ("min_mean", "min_p5"):
            v = getattr(self, name)
            if not (-1.0 <= v <= 1.0):
                raise ValueError(f"{name} must be an SSIM value in [-1, 1], got {v}")

    def failures(self, pooled: Pooled) -> list[str]:
        """Reasons the gate fails (empty = passed)."""
        out = []
        if not math.isfinite(pooled.mean) or pooled.mean < self.min_mean:
            out.append(f"mean outside SSIM {pooled.mean:.4f} < {self.min_mean:.4f} (--min-mean)")
        if not math.isfinite(pooled.p5) or pooled.p5 < self.min_p5:
            out.append(f"5th-percentile outside SSIM {pooled.p5:.4f} < {self.min_p5:.4f} (--min-p5)")
        return out

    def to_dict(self) -> dict[str, float]:
        return {"min_mean": self.min_mean, "min_p5": self.min_p5}


@dataclass(frozen=True)
class ShotScore:
    """Pooled outside SSIM of one source shot (frames inclusive, source numbering)."""

    start_frame: int
    end_frame: int
    ssim_outside: Pooled
    psnr_outside_mean: float
    frames_compared: int

    def to_dict(self) -> dict[str, object]:
        return {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "frames_compared": self.frames_compared,
            "ssim_outside": self.ssim_outside.to_dict(),
            "psnr_outside_mean": _r(self.psnr_outside_mean, 3),
        }


def pool_shots(
    shots: Sequence[Shot], frame_index: np.ndarray, ssim_out: np.ndarray, psnr_out: np.ndarray
) -> list[ShotScore]:
    """Pool per-frame scores by shot.

    Parameters
    ----------
    shots : sequence of Shot
        Source shots (inclusive frame ranges).
    frame_index : ndarray, shape (N,), int64
        Source frame of each scored pair.
    ssim_out, psnr_out : ndarray, shape (N,), float64
    """
    out = []
    for s in shots:
        sel = (frame_index >= s.start_frame) & (frame_index <= s.end_frame)
        p = pool(ssim_out[sel])
        ps = psnr_out[sel]
        ps = ps[np.isfinite(ps)]
        out.append(
            ShotScore(
                start_frame=s.start_frame,
                end_frame=s.end_frame,
                ssim_outside=p,
                psnr_outside_mean=float(ps.mean()) if ps.size else math.nan,
                frames_compared=p.count,
            )
        )
    return out


def worst_frames(frame_index: np.ndarray, ssim_out: np.ndarray, count: int) -> list[tuple[int, float]]:
    """The ``count`` lowest outside-SSIM frames as ``(source frame, ssim)``, worst first."""
    ok = np.isfinite(ssim_out)
    idx, vals = frame_index[ok], ssim_out[ok]
    order = np.lexsort((idx, vals))[:count]
    return [(int(idx[i]), float(vals[i])) for i in order]
