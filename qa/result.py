"""What ``qa score`` returns: :class:`ScoreResult` and its parts, and their one JSON form.

:meth:`ScoreResult.to_dict` is the only place that builds the ``qa.score/1`` document (the CLI,
batch results and reports all go through it); :class:`FrameTable` is the per-frame record
(:func:`qa.report.write_csv` writes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .align import OffsetEstimate, OffsetEvidence
from .autoregion import RegionBox
from .gate import Gate, Pooled, ShotScore

__all__ = ["FrameTable", "ScoreResult", "WorstFrame"]


@dataclass(frozen=True)
class FrameTable:
    """Per-frame scores of every scored pair, in source order (all arrays shape (N,)).

    ``inside_change`` is NaN for frames without a region; ``ssim_outside``/``psnr_outside`` are NaN
    for frames whose region left nothing to score.
    """

    source_frame: np.ndarray  # int64
    edited_frame: np.ndarray  # int64
    time_s: np.ndarray  # float64, source time
    ssim_outside: np.ndarray  # float64
    psnr_outside: np.ndarray  # float64
    inside_change: np.ndarray  # float64
    ssim_full: np.ndarray  # float64
    region_pct: np.ndarray  # float64, share of the frame in the (undilated) region

    def __len__(self) -> int:
        return int(self.source_frame.shape[0])

    COLUMNS = (
        "source_frame",
        "edited_frame",
        "time_s",
        "ssim_outside",
        "psnr_outside",
        "inside_change",
        "ssim_full",
        "region_pct",
    )


@dataclass(frozen=True)
class WorstFrame:
    """One of the lowest outside-SSIM frames; ``heatmap`` is the PNG written for it, if any."""

    frame: int
    edited_frame: int
    time_s: float
    ssim_outside: float
    psnr_outside: float
    heatmap: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "frame": self.frame,
            "edited_frame": self.edited_frame,
            "time_s": round(self.time_s, 4),
            "ssim_outside": round(self.ssim_outside, 6),
            "psnr_outside": round(self.psnr_outside, 3) if math.isfinite(self.psnr_outside) else None,
        }
        if self.heatmap:
            d["heatmap"] = self.heatmap
        return d


@dataclass(frozen=True)
class ScoreResult:
    """Everything ``qa score`` reports. See :meth:`to_dict` for the JSON form (schema ``qa.score/1``)."""

    source: str
    edited: str
    passed: bool
    failures: tuple[str, ...]
    gate: Gate
    frames_compared: int
    frames_unpaired: int
    frames_nothing_outside: int
    offset: OffsetEstimate
    scale_factor: int
    grid_size: tuple[int, int]
    data_range: float
    ssim_outside: Pooled
    psnr_outside: Pooled
    inside_change: Pooled | None
    ssim_full: Pooled
    worst: tuple[WorstFrame, ...]
    per_shot: tuple[ShotScore, ...]
    shots_method: str
    region: dict[str, object]
    region_boxes: tuple[RegionBox, ...]
    frames: FrameTable
    notes: tuple[str, ...] = field(default_factory=tuple)
    inside_change_max: float = math.nan
    auto_region_union: np.ndarray | None = field(default=None, repr=False, compare=False)
    """Union over time of the auto-estimated regions (``uint8`` 0/1, source grid), with ``auto_region``."""
    offset_evidence: OffsetEvidence | None = None
    """What the clip-wide offset search saw; None when the offset was forced or not searched."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict, schema ``qa.score/1``."""
        def r(v: float, d: int = 6) -> float | None:
            return round(float(v), d) if math.isfinite(v) else None

        return {
            "schema": "qa.score/1",
            "source": self.source,
            "edited": self.edited,
            "passed": self.passed,
            "failures": list(self.failures),
            "gate": self.gate.to_dict(),
            "frames_compared": self.frames_compared,
            "frames_unpaired": self.frames_unpaired,
            "frames_nothing_outside": self.frames_nothing_outside,
            "offset_frames": self.offset.frames,
            "offset": self.offset.to_dict(),
            "scale": {"factor": self.scale_factor, "grid": list(self.grid_size)},
            "data_range": self.data_range,
            "ssim_outside": self.ssim_outside.to_dict(),
            "psnr_outside": {"mean": r(self.psnr_outside.mean, 3), "min": r(self.psnr_outside.min, 3)},
            "inside_change": {
                "mean": r(self.inside_change.mean),
                "min": r(self.inside_change.min),
                "max": r(self.inside_change_max),
            }
            if self.inside_change is not None
            else None,
            "ssim_full": self.ssim_full.to_dict(),
            "worst_frames": [w.to_dict() for w in self.worst],
            "per_shot": [s.to_dict() for s in self.per_shot],
            "shots_method": self.shots_method,
            "region": {**self.region, **({"boxes_found": [b.to_dict() for b in self.region_boxes]}
                                         if self.region_boxes else {})},
            "notes": list(self.notes),
            "offset_evidence": self.offset_evidence.to_dict() if self.offset_evidence is not None else None,
        }
