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
  estimated from thumbnails of both clips: the opening (:func:`estimate_offset`) and, where the
  opening is still, evidence further into the clip (:class:`OffsetSearch`). The durations must
  agree within ``min(max_offset, DEFAULT_MAX_OFFSET) + 1`` frame periods: a wider search never
  lets a much shorter edit through.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import av
import cv2
import numpy as np

from preflight.media.decode import luma_bit_depth, luma_plane
from preflight.media.probe import Probe

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
        ``min(max_offset, DEFAULT_MAX_OFFSET) + 1`` source frame periods (a larger search range
        does not widen it).
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
    tol_frames = min(max_offset, DEFAULT_MAX_OFFSET) + 1
    tol = tol_frames / src_fps + 0.5 / edt_fps
    diff = edited.duration_s - source.duration_s
    if abs(diff) > tol:
        raise AlignmentError(
            edited.path,
            f"durations differ: source {_fmt_clip(source)}, edited {_fmt_clip(edited)}; "
            f"{abs(diff):.3f} s apart, more than the {tol:.3f} s tolerance ({tol_frames} frames); "
            "trim the longer clip to the edited range",
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
    tb = frame.time_base
    if frame.pts is None or first_pts is None or tb is None:
        return index / fps
    # int / int is correctly rounded, as float(Fraction) is: the same float without Fraction
    # arithmetic (a gcd per frame).
    return (frame.pts - first_pts) * tb.numerator / tb.denominator


# --------------------------------------------------------------------------- clip-wide evidence
EVIDENCE_MAX_FRAMES = 600
"""Source frames at most that the streaming offset search examines (20 s at 30 fps)."""
SEARCH_WORK = 300_000
"""Candidate offsets x source frames evaluated at most: bounds the search for a huge range."""
REJECT_LEVELS = 1.0
"""A frame rules a candidate out when its cost exceeds the frame's best by this many 8-bit levels
(or by half the best cost, whichever is larger). At 0.5, the compression noise of a still shot
(two encodes of the same noisy frame) ruled candidates out and decided a wrong offset inside the
still opening (tests/test_qa_align.py, k = -1, once the fixtures were encoded single-threaded)."""
REJECT_RELATIVE = 0.5
SETTLE_MARGIN = 4
"""Once decided, reading stops at this margin (in frames) over the runner-up..."""
SETTLE_FRAMES = OFFSET_WINDOW // 2
"""...or after this many more frames examined for confirmation."""


def search_range(max_offset: int, source_frames: int, edited_frames: int) -> int:
    """``max_offset`` capped at the clip length (never below :data:`DEFAULT_MAX_OFFSET`): no
    offset beyond the longer clip pairs any frame, so a huge ``--max-offset`` costs no more than
    one as long as the clip."""
    if max_offset < 0:
        raise ValueError(f"max_offset must be >= 0 frames, got {max_offset}")
    return min(max_offset, max(source_frames - 1, edited_frames - 1, DEFAULT_MAX_OFFSET))


@dataclass(frozen=True)
class OffsetEvidence:
    """What the streaming search over the clip saw (JSON ``offset_evidence``).

    A frame is *informative* when it rules at least one candidate out (its thumbnail cost exceeds
    the frame's best by :data:`REJECT_LEVELS`): cuts, motion and flashes are, a still shot is not.
    ``margin_frames``: informative frames ruling out the runner-up minus those ruling out the
    chosen offset. ``agreement``: share of informative frames that did not rule the chosen offset
    out. ``confidence = agreement * (1 - 2**-margin_frames)`` (0 when nothing told the candidates
    apart). ``decided``: the evidence became decisive (margin >= 1, agreement >= 0.5, at least
    :data:`OFFSET_WINDOW` frames) before the search ended; ``decided_at_frame`` is the source
    frame where it did. ``offset``/``runner_up``: the search's two best candidates (``offset`` is
    the one used when decided; undecided, the opening's estimate stands unless it was static).
    ``redecoded``: the evidence came later than the held-frame budget, so the clips were read
    again from the start.
    """

    candidates: int
    frames_examined: int
    informative_frames: int
    decided: bool
    decided_at_frame: int | None
    offset: int | None
    runner_up: int | None
    margin_frames: int
    agreement: float
    confidence: float
    evaluations: int
    redecoded: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "candidates": self.candidates,
            "frames_examined": self.frames_examined,
            "informative_frames": self.informative_frames,
            "decided": self.decided,
            "decided_at_frame": self.decided_at_frame,
            "offset": self.offset,
            "runner_up": self.runner_up,
            "margin_frames": self.margin_frames,
            "agreement": round(self.agreement, 4),
            "confidence": round(self.confidence, 4),
            "evaluations": self.evaluations,
            "redecoded": self.redecoded,
        }


class OffsetSearch:
    """Streaming offset search over thumbnails of both clips, frame by frame.

    Feed source and edited thumbnails in decode order (:meth:`add_source`, :meth:`add_edited`,
    :meth:`end_edited`). A source frame at time ``t`` is evaluated once the edited clip has been
    read past ``t + max_offset`` periods: for every candidate ``d`` it is paired with the edited
    frame nearest ``t + d * period`` (as :func:`estimate_offset`) and the per-pair median absolute
    difference is its cost. Costs are summed per candidate and each frame votes against the
    candidates it rules out, so a still opening (no frame rules anything out) simply waits for
    the first cut or motion. Memory: the edited thumbnails within ``max_offset`` periods of the
    current source frame; work: at most :data:`SEARCH_WORK` candidate evaluations.
    """

    def __init__(
        self,
        *,
        max_offset: int,
        source_period: float,
        edited_period: float,
        min_frames: int = OFFSET_WINDOW,
        max_frames: int = EVIDENCE_MAX_FRAMES,
        work: int = SEARCH_WORK,
    ):
        if max_offset < 0:
            raise ValueError(f"max_offset must be >= 0, got {max_offset}")
        self.offsets = np.arange(-max_offset, max_offset + 1)
        k = len(self.offsets)
        self.period = source_period
        self.slack = 0.5 * max(source_period, edited_period) + 1e-6
        self.lookahead = max_offset * source_period + self.slack
        self.min_frames = min_frames
        self.max_frames = max(1, min(max_frames, work // k))
        self._pending: deque[tuple[float, np.ndarray]] = deque()
        self._e_times: list[float] = []
        self._e_thumbs: list[np.ndarray] = []
        self._edited_done = False
        self._sum = np.zeros(k)
        self._count = np.zeros(k, np.int64)
        self._rejected = np.zeros(k, np.int64)
        self.examined = 0
        self.informative = 0
        self.evaluations = 0
        self.decided_at: int | None = None

    # ---- feeding
    def wants_edited(self, t: float) -> bool:
        """Whether edited frames up to ``t + max_offset`` periods are still missing."""
        return not self._edited_done and (not self._e_times or self._e_times[-1] < t + self.lookahead)

    @property
    def exhausted(self) -> bool:
        """The frame/work budget is spent: later frames are not examined."""
        return self.examined + len(self._pending) >= self.max_frames

    @property
    def decided(self) -> bool:
        return self.decided_at is not None

    @property
    def settled(self) -> bool:
        """Decided and confirmed: a margin of :data:`SETTLE_MARGIN` frames, or
        :data:`SETTLE_FRAMES` more frames examined since the decision (reading can stop)."""
        if self.decided_at is None:
            return False
        margin, _ = self._margin(self._ranked())
        return margin >= SETTLE_MARGIN or self.examined - 1 - self.decided_at >= SETTLE_FRAMES

    def add_source(self, t: float, thumb: np.ndarray) -> None:
        """Queue a source frame (ignored once the budget is spent); it is examined when the edited
        clip has been read far enough. Examining goes on after the decision while frames come."""
        if not self.exhausted:
            self._pending.append((t, thumb))
            self._run()

    def add_edited(self, t: float, thumb: np.ndarray) -> None:
        self._e_times.append(t)
        self._e_thumbs.append(thumb)
        self._run()

    def end_edited(self) -> None:
        self._edited_done = True
        self._run()

    def _run(self) -> None:
        while self._pending and not self.wants_edited(self._pending[0][0]):
            self._evaluate(*self._pending.popleft())
            if self.decided_at is None and self._decisive():
                self.decided_at = self.examined - 1

    def _evaluate(self, t: float, thumb: np.ndarray) -> None:
        # Edited thumbnails before the earliest target can go: source times only grow.
        old = int(np.searchsorted(self._e_times, t - self.lookahead - self.slack))
        if old > 0:
            del self._e_times[:old], self._e_thumbs[:old]
        self.examined += 1
        if not self._e_times:
            return
        te = np.asarray(self._e_times)
        targets = t + self.offsets * self.period
        if len(te) > 1:  # nearest edited frame to each target, earlier on ties (as nearest_index)
            j = np.clip(np.searchsorted(te, targets), 1, len(te) - 1)
            j = np.where(targets - te[j - 1] <= te[j] - targets, j - 1, j)
        else:
            j = np.zeros(len(targets), np.int64)
        valid = np.flatnonzero(np.abs(te[j] - targets) <= self.slack)
        if not valid.size:
            return
        e = np.stack([self._e_thumbs[k] for k in j[valid]])
        cost = np.median(np.abs(e - thumb).reshape(valid.size, -1), axis=1)
        self.evaluations += int(valid.size)
        self._sum[valid] += cost
        self._count[valid] += 1
        best = float(cost.min())
        out = valid[cost > best + max(REJECT_LEVELS, REJECT_RELATIVE * best)]
        if out.size:
            self._rejected[out] += 1
            self.informative += 1

    # ---- verdict
    def _ranked(self) -> np.ndarray:
        """Indices of candidates with enough pairs, best first (rejections, mean cost, |d|)."""
        ok = np.flatnonzero(self._count >= max(3, self.examined // 3))
        if not ok.size:
            return ok
        mean = np.round(self._sum[ok] / self._count[ok], 6)
        order = np.lexsort((np.abs(self.offsets[ok]), mean, self._rejected[ok]))
        return ok[order]

    def _margin(self, ranked: np.ndarray) -> tuple[int, float]:
        if ranked.size < 2:
            return 0, 0.0
        best = self._rejected[ranked[0]]
        margin = int(self._rejected[ranked[1:]].min() - best)
        agreement = 1.0 - best / self.informative if self.informative else 0.0
        return margin, agreement

    def _decisive(self) -> bool:
        if self.examined < self.min_frames or not self.informative:
            return False
        margin, agreement = self._margin(self._ranked())
        return margin >= 1 and agreement >= 0.5

    def costs(self) -> dict[int, float]:
        """Mean cost per candidate (inf where too few frames were paired)."""
        floor = max(3, self.examined // 3)
        return {
            int(d): (float(s / c) if c >= floor else math.inf)
            for d, s, c in zip(self.offsets, self._sum, self._count, strict=True)
        }

    def best(self) -> int | None:
        ranked = self._ranked()
        return int(self.offsets[ranked[0]]) if ranked.size else None

    def frames_used(self, d: int) -> int:
        return int(self._count[d + (len(self.offsets) - 1) // 2])

    def evidence(self) -> OffsetEvidence:
        ranked = self._ranked()
        margin, agreement = self._margin(ranked)
        confidence = agreement * (1.0 - 2.0 ** -margin) if margin > 0 else 0.0
        return OffsetEvidence(
            candidates=len(self.offsets),
            frames_examined=self.examined,
            informative_frames=self.informative,
            decided=self.decided_at is not None,
            decided_at_frame=self.decided_at,
            offset=int(self.offsets[ranked[0]]) if ranked.size else None,
            runner_up=int(self.offsets[ranked[1]]) if ranked.size > 1 else None,
            margin_frames=margin,
            agreement=float(agreement),
            confidence=float(confidence),
            evaluations=self.evaluations,
        )


def settle_offset(opening: OffsetEstimate, search: OffsetSearch, *, source_period: float) -> OffsetEstimate:
    """The offset to use: the clip-wide evidence when decisive, else the opening's estimate.

    When the search finds the opening's offset (the usual case), the opening's estimate is
    returned unchanged (method, costs and frames used describe the opening, as before; a
    "static" opening stays "static" and the search's verdict is in :class:`OffsetEvidence`).
    A decisive search that finds another offset overrides it (method "detected", the search's
    mean costs and pairs); an undecided one does so only when the opening was static and the
    search's costs still tell candidates apart by :data:`OFFSET_MIN_CONTRAST`.
    """
    best = search.best()
    if best is None or best == opening.frames:
        return opening
    costs = search.costs()
    finite = [c for c in costs.values() if math.isfinite(c)]
    if search.decided_at is None and (
        opening.method == "detected" or not finite or max(finite) - min(finite) < OFFSET_MIN_CONTRAST
    ):
        return opening
    return OffsetEstimate(best, best * source_period, "detected", costs, search.frames_used(best))
