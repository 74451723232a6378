"""Bringing the edited clip onto the source's grid and timeline.

* **Space**: luma is scored on the source's coded grid in display orientation. An edited clip of
  another size is resampled to it (area interpolation when shrinking, bicubic when enlarging);
  a different *displayed* aspect ratio (beyond 1%) is an error, since no resampling lines the
  pictures up.
* **Values**: the edited luma is converted to the source's bit depth (shifts, as FFmpeg does) and
  range (limited 16-235 vs full 0-255, scaled to the bit depth), so a container flag cannot pass
  for a change of picture.
* **Time**: frames are paired by timestamp (seconds from each clip's first frame), so clips at
  different frame rates pair each source frame with the edited frame nearest in time. A constant
  offset (edited = source delayed by ``d`` source frame periods, ``|d| <= max_offset``) is
  estimated from the first frames (:func:`estimate_offset`); the durations must then agree within
  ``max_offset + 1`` frame periods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import av
import cv2
import numpy as np

from preflight.decode import luma_bit_depth, luma_plane
from preflight.probe import Probe

from .errors import AlignmentError
from .mask import ASPECT_TOLERANCE, Grid

DEFAULT_MAX_OFFSET = 5
OFFSET_WINDOW = 18
"""Source frames (after the first ``max_offset``) whose thumbnails decide the offset."""
THUMB_WIDTH = 64
OFFSET_MIN_CONTRAST = 0.5
"""Cost spread (8-bit levels) below which the prefix is too static to tell offsets apart."""


def is_full_range(p: Probe) -> bool:
    """Whether luma uses the full code range (JPEG-style ``yuvj*``, gray, RGB, or flagged full)."""
    return p.color_range == "full" or p.pix_fmt.startswith(("yuvj", "gray", "rgb", "bgr", "gbr"))


def grid_for(p: Probe) -> Grid:
    """Scoring grid of a source clip: coded size, rotated to display orientation."""
    w, h = (p.height, p.width) if p.rotation % 180 else (p.width, p.height)
    return Grid(width=w, height=h, display_width=p.display_width, display_height=p.display_height)


@dataclass(frozen=True)
class AlignmentPlan:
    """Everything fixed before decoding: grids, conversions, tolerances.

    Attributes
    ----------
    grid : Grid
        Scoring grid at full resolution (source).
    edited_size : (int, int)
        Edited luma size (w, h) in display orientation, before resampling.
    resample : str or None
        ``"area"`` or ``"cubic"`` when the edited clip is resampled, else None.
    bit_depth : int
        Source luma bit depth; ``L = 2^bit_depth - 1``.
    edited_bit_depth : int
    range_conversion : str or None
        ``"full->limited"`` or ``"limited->full"`` when the ranges differ.
    source_fps, edited_fps : float
    source_frames, edited_frames : int
    duration_tolerance_s : float
    notes : tuple of str
        Human-readable statements of what was adapted.
    """

    grid: Grid
    edited_size: tuple[int, int]
    resample: str | None
    bit_depth: int
    edited_bit_depth: int
    range_conversion: str | None
    source_fps: float
    edited_fps: float
    source_frames: int
    edited_frames: int
    source_duration_s: float
    edited_duration_s: float
    duration_tolerance_s: float
    source_rotation: int
    edited_rotation: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def data_range(self) -> float:
        return float((1 << self.bit_depth) - 1)

    @property
    def source_period(self) -> float:
        return 1.0 / self.source_fps

    @property
    def edited_period(self) -> float:
        return 1.0 / self.edited_fps


def _fmt_clip(p: Probe) -> str:
    return f"{p.duration_s:.3f} s ({p.frame_count} frames at {p.fps:.3f} fps)"


def plan_alignment(source: Probe, edited: Probe, *, max_offset: int = DEFAULT_MAX_OFFSET) -> AlignmentPlan:
    """Check that the clips can be compared and decide the conversions.

    Raises
    ------
    AlignmentError
        Different displayed aspect ratio, or durations differing by more than
        ``max_offset + 1`` source frame periods.
    ValueError
        ``max_offset < 0``.
    """
    if max_offset < 0:
        raise ValueError(f"max_offset must be >= 0 frames, got {max_offset}")
    grid = grid_for(source)
    ew, eh = (edited.height, edited.width) if edited.rotation % 180 else (edited.width, edited.height)
    notes: list[str] = []
    if abs(edited.display_aspect / source.display_aspect - 1.0) > ASPECT_TOLERANCE:
        raise AlignmentError(
            edited.path,
            f"aspect ratio differs: source {source.display_width}x{source.display_height} "
            f"({source.display_aspect:.4f}), edited {edited.display_width}x{edited.display_height} "
            f"({edited.display_aspect:.4f}); crop or pad the edited clip to the source's framing",
        )
    resample = None
    if (ew, eh) != (grid.width, grid.height):
        resample = "area" if ew >= grid.width and eh >= grid.height else "cubic"
        notes.append(f"edited {ew}x{eh} resampled to the source grid {grid.width}x{grid.height} ({resample})")
    src_fps = source.fps or 25.0
    edt_fps = edited.fps or src_fps
    if abs(src_fps / edt_fps - 1.0) > 0.001:
        notes.append(f"frame rates differ ({src_fps:.3f} vs {edt_fps:.3f} fps): frames paired by timestamp")
    tol = (max_offset + 1) / src_fps + 0.5 / edt_fps
    diff = edited.duration_s - source.duration_s
    if abs(diff) > tol:
        raise AlignmentError(
            edited.path,
            f"durations differ: source {_fmt_clip(source)}, edited {_fmt_clip(edited)}; "
            f"{abs(diff):.3f} s apart, more than the {tol:.3f} s tolerance (--max-offset {max_offset} "
            "frames + 1); trim the longer clip or raise --max-offset",
        )
    src_full, edt_full = is_full_range(source), is_full_range(edited)
    conv = None
    if src_full != edt_full:
        conv = "limited->full" if src_full else "full->limited"
        notes.append(f"edited luma range converted {conv} to match the source")
    if edited.bit_depth != source.bit_depth:
        notes.append(f"edited {edited.bit_depth}-bit luma scaled to the source's {source.bit_depth} bits")
    return AlignmentPlan(
        grid=grid,
        edited_size=(ew, eh),
        resample=resample,
        bit_depth=source.bit_depth,
        edited_bit_depth=edited.bit_depth,
        range_conversion=conv,
        source_fps=src_fps,
        edited_fps=edt_fps,
        source_frames=source.frame_count,
        edited_frames=edited.frame_count,
        source_duration_s=source.duration_s,
        edited_duration_s=edited.duration_s,
        duration_tolerance_s=tol,
        source_rotation=source.rotation,
        edited_rotation=edited.rotation,
        notes=tuple(notes),
    )


def _rotate(plane: np.ndarray, rotation: int) -> np.ndarray:
    if not rotation:
        return plane
    # Display rotation is clockwise; np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(plane, k=-(rotation // 90)))


def _value_lut(plan: AlignmentPlan, in_bits: int) -> np.ndarray | None:
    """Lookup table taking edited luma codes to source codes (depth and range), or None."""
    out_bits = plan.bit_depth
    if in_bits == out_bits and plan.range_conversion is None:
        return None
    v = np.arange(1 << in_bits, dtype=np.float64)
    v = v * ((1 << out_bits) / (1 << in_bits))  # shift semantics: 235 (8-bit) -> 940 (10-bit)
    if plan.range_conversion is not None:
        top = float((1 << out_bits) - 1)
        lo, span = 16.0 * (1 << (out_bits - 8)), 219.0 * (1 << (out_bits - 8))
        v = lo + v * span / top if plan.range_conversion == "full->limited" else (v - lo) * top / span
    v = np.clip(np.rint(v), 0, (1 << out_bits) - 1)
    return v.astype(np.uint8 if out_bits <= 8 else np.uint16)


class LumaPrep:
    """Full-resolution luma of decoded frames on the scoring grid.

    ``source(frame)`` returns a view where possible (8/16-bit planar YUV, no rotation);
    ``edited(frame)`` applies rotation, the value LUT (depth/range) and resampling.
    """

    def __init__(self, plan: AlignmentPlan):
        self.plan = plan
        self._lut: np.ndarray | None = None
        self._lut_bits: int | None = None
        self._interp = cv2.INTER_AREA if plan.resample == "area" else cv2.INTER_CUBIC
        self._dtype = np.uint8 if plan.bit_depth <= 8 else np.uint16

    def source(self, frame: av.VideoFrame) -> np.ndarray:
        y = _rotate(luma_plane(frame), self.plan.source_rotation)
        if y.dtype != self._dtype:  # e.g. an RGB source reformatted to 8-bit gray
            y = y.astype(self._dtype)
        return y

    def edited(self, frame: av.VideoFrame) -> np.ndarray:
        y = _rotate(luma_plane(frame), self.plan.edited_rotation)
        bits = luma_bit_depth(frame) if y.dtype != np.uint8 else 8
        if bits != self._lut_bits:
            self._lut_bits = bits
            self._lut = _value_lut(self.plan, bits)
        if self._lut is not None:
            y = cv2.LUT(y, self._lut) if bits == 8 and self._lut.dtype == np.uint8 else self._lut[y]
        g = self.plan.grid
        if y.shape != (g.height, g.width):
            y = cv2.resize(y, (g.width, g.height), interpolation=self._interp)
        return y


# --------------------------------------------------------------------------- offset
@dataclass(frozen=True)
class OffsetEstimate:
    """A constant offset between the clips.

    ``frames``: the edited clip shows source frame ``i`` at source-frame time ``i + frames``
    (positive = edited delayed, e.g. frames prepended). ``method``: "detected", "forced", or
    "static" (the first frames hold too little motion to tell; 0 assumed). ``costs``: mean
    thumbnail difference (8-bit levels) per candidate offset.
    """

    frames: int
    seconds: float
    method: str
    costs: dict[int, float]
    frames_used: int

    def to_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "seconds": round(self.seconds, 6),
            "method": self.method,
            "frames_used": self.frames_used,
            "costs": {str(k): (round(v, 4) if math.isfinite(v) else None) for k, v in self.costs.items()},
        }


def thumbnail(luma_small: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Tiny float32 thumbnail (area average) for offset matching; ``size`` is (w, h)."""
    return cv2.resize(luma_small, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def thumb_size(grid: Grid) -> tuple[int, int]:
    w = min(THUMB_WIDTH, grid.width)
    return w, max(2, round(w * grid.height / grid.width))


def nearest_index(times: np.ndarray, target: float) -> int:
    """Index of the value in sorted ``times`` nearest to ``target`` (earlier on ties)."""
    j = int(np.searchsorted(times, target))
    if j <= 0:
        return 0
    if j >= len(times):
        return len(times) - 1
    return j - 1 if target - times[j - 1] <= times[j] - target else j


def estimate_offset(
    source_thumbs: Sequence[np.ndarray],
    source_times: Sequence[float],
    edited_thumbs: Sequence[np.ndarray],
    edited_times: Sequence[float],
    *,
    max_offset: int,
    source_period: float,
    edited_period: float | None = None,
) -> OffsetEstimate:
    """Find the constant offset that best lines up the first frames of both clips.

    For each candidate ``d`` in ``[-max_offset, max_offset]`` source periods, every source frame is
    paired with the edited frame nearest in time to ``t + d * period`` and the per-pair *median*
    absolute thumbnail difference is averaged over pairs. The median makes the cost robust to the
    edit itself (anything under half the frame). The smallest cost wins, ties going to the
    smallest ``|d|``; when the costs hardly differ (static content) 0 is assumed.

    Parameters
    ----------
    source_thumbs, edited_thumbs : sequence of ndarray, shape (h, w), float32
        Thumbnails on the same grid, 8-bit scale.
    source_times, edited_times : sequence of float
        Seconds from each clip's first frame.
    max_offset : int
    source_period, edited_period : float
        Seconds per frame.
    """
    if max_offset < 0:
        raise ValueError(f"max_offset must be >= 0, got {max_offset}")
    if not source_thumbs or not edited_thumbs:
        return OffsetEstimate(0, 0.0, "static", {}, 0)
    te = np.asarray(edited_times, dtype=np.float64)
    ep = edited_period or source_period
    slack = 0.5 * max(source_period, ep) + 1e-6
    s = np.stack(source_thumbs)
    e = np.stack(edited_thumbs)
    costs: dict[int, float] = {}
    used: dict[int, int] = {}
    n = len(source_thumbs)
    for d in range(-max_offset, max_offset + 1):
        si, ej = [], []
        for i, t in enumerate(source_times):
            target = t + d * source_period
            j = nearest_index(te, target)
            if abs(te[j] - target) <= slack:
                si.append(i)
                ej.append(j)
        if len(si) < max(3, n // 3):
            costs[d] = math.inf
            used[d] = len(si)
            continue
        diff = np.abs(s[si] - e[ej]).reshape(len(si), -1)
        costs[d] = float(np.median(diff, axis=1).mean())
        used[d] = len(si)
    finite = {d: c for d, c in costs.items() if math.isfinite(c)}
    if not finite:
        return OffsetEstimate(0, 0.0, "static", costs, 0)
    best = min(finite, key=lambda d: (round(finite[d], 6), abs(d)))
    spread = max(finite.values()) - min(finite.values())
    if spread < OFFSET_MIN_CONTRAST:
        return OffsetEstimate(0, 0.0, "static", costs, used.get(0, 0))
    return OffsetEstimate(best, best * source_period, "detected", costs, used[best])


def frame_time(frame: av.VideoFrame, first_pts: int | None, index: int, fps: float) -> float:
    """Seconds since the clip's first frame: from PTS when present, else from the index."""
    if frame.pts is None or first_pts is None or frame.time_base is None:
        return index / fps
    return float((frame.pts - first_pts) * frame.time_base)
