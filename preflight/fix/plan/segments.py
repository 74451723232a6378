"""The segments: an exact optimum over every possible split at shot boundaries."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ...check.shots import Transition
from ...profile import Profile
from .common import NoPlanError
from .rate import RatePlan

# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Span:
    """A transition on the output timeline: frames ``[start, end]`` inclusive (``start == end``
    for a cut, whose frame is the first of the new shot)."""

    kind: str
    start: int
    end: int

    @property
    def is_cut(self) -> bool:
        return self.kind == "cut"


def count_inside(spans: Sequence[Span], start: int, end: int) -> int:
    """Transitions inside the segment of output frames ``[start, end)``.

    A cut counts when its first frame is inside and is not the segment's first frame (a cut at
    the first frame is the segment boundary itself); a gradual transition counts when any of its
    frames is inside (a partial dissolve at an edge is still a visible scene change).
    """
    n = 0
    for s in spans:
        if s.is_cut:
            n += start < s.start <= end - 1
        else:
            n += s.start <= end - 1 and s.end >= start
    return n


def shot_boundary_flags(spans: Sequence[Span], frame_count: int) -> np.ndarray:
    """``flags[p]`` is True when starting a segment at output frame ``p`` cuts between shots: at a
    cut, or just before / just after a gradual transition, and not inside one."""
    flags = np.zeros(frame_count + 1, dtype=bool)
    flags[0] = flags[frame_count] = True
    for s in spans:
        if s.is_cut:
            if 0 < s.start < frame_count:
                flags[s.start] = True
        else:
            for p in (s.start, s.end + 1):
                if 0 < p < frame_count:
                    flags[p] = True
    for s in spans:
        if not s.is_cut and s.end > s.start:
            flags[s.start + 1 : min(s.end + 1, frame_count) + 1] = False
    return flags


def frame_limits(fps: Fraction, profile: Profile) -> tuple[int, int]:
    """Segment length bounds in output frames: ``ceil(min_s * fps)``, ``floor(max_s * fps)``."""
    lo = Fraction(profile.min_duration_s).limit_denominator(10**6) * fps
    hi = Fraction(profile.max_duration_s).limit_denominator(10**6) * fps
    return max(1, math.ceil(lo)), math.floor(hi)


@dataclass(frozen=True)
class SegmentCost:
    """Lexicographic cost of a segmentation: in-shot splits, then segments, then imbalance
    (sum of squared segment lengths in frames: for a fixed count and total, smallest when even)."""

    in_shot_splits: int
    segments: int
    sum_sq: int

    def key(self) -> tuple[int, int, int]:
        return (self.in_shot_splits, self.segments, self.sum_sq)


def segmentation_cost(bounds: Sequence[int], flags: np.ndarray) -> SegmentCost:
    """Cost of segment boundaries ``bounds`` = [0, b1, ..., N]."""
    inner = bounds[1:-1]
    return SegmentCost(
        in_shot_splits=int(sum(1 for b in inner if not flags[b])),
        segments=len(bounds) - 1,
        sum_sq=int(sum((b - a) ** 2 for a, b in itertools.pairwise(bounds))),
    )


def segmentation_problems(
    bounds: Sequence[int], spans: Sequence[Span], *, min_frames: int, max_frames: int, max_cuts: int
) -> list[str]:
    """Rule violations of a segmentation (empty when valid)."""
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        if not min_frames <= b - a <= max_frames:
            out.append(f"segment {i}: {b - a} frames outside [{min_frames}, {max_frames}]")
        c = count_inside(spans, a, b)
        if c > max_cuts:
            out.append(f"segment {i}: {c} transitions > {max_cuts}")
    return out


def solve_segments(
    frame_count: int,
    spans: Sequence[Span],
    *,
    min_frames: int,
    max_frames: int,
    max_cuts: int,
) -> tuple[int, ...]:
    """Optimal segment boundaries ``(0, b1, ..., frame_count)``.

    Every segment holds ``[min_frames, max_frames]`` frames and at most ``max_cuts`` transitions
    (:func:`count_inside`). Among valid segmentations the result minimises, lexicographically,
    (splits inside a shot, number of segments, sum of squared lengths): shot boundaries first
    (an editor renders each segment independently, so a seam inside a continuous shot shows as
    a jump, while a seam at a cut is invisible), then the fewest generations, then the most even
    lengths (no 2 s tail when an even split exists).

    The candidate set is *every* frame, so the optimum is exact (tests compare with brute force):
    dynamic programming over boundary positions, ``best[p] = min_q best[q] + cost(q, p)``. All
    three cost terms add over segments and lexicographic order is compatible with addition, so
    Bellman's principle holds. Positions are solved in blocks of ``min_frames``: a boundary
    depends only on boundaries at least ``min_frames`` earlier, so a whole block is one
    vectorised (block x window) numpy step. Time O(N * max_frames), memory O(N + block * window).

    Raises
    ------
    NoPlanError
        No valid segmentation exists; the message says why.
    """
    n = frame_count
    if min_frames < 1 or max_frames < min_frames:
        raise ValueError(f"need 1 <= min_frames <= max_frames, got {min_frames}, {max_frames}")
    if n < min_frames:
        raise NoPlanError(f"the clip has {n} frames, fewer than the {min_frames}-frame minimum segment")
    flags = shot_boundary_flags(spans, n)
    in_shot = (~flags).astype(np.int64)
    in_shot[0] = 0
    # count(q, p) = #{a <= p-1} - #{x <= q}; x = frame of a cut, end+1 of a gradual transition.
    a_pos = np.array(sorted(s.start for s in spans), dtype=np.int64)
    x_pos = np.array(sorted(s.start if s.is_cut else s.end + 1 for s in spans), dtype=np.int64)
    positions = np.arange(n + 1, dtype=np.int64)
    upto_a = np.searchsorted(a_pos, positions - 1, side="right")  # index p -> #{a <= p-1}
    upto_x = np.searchsorted(x_pos, positions, side="right")  # index q -> #{x <= q}

    big = np.iinfo(np.int64).max // 4
    cost_a = np.full(n + 1, big, dtype=np.int64)
    cost_b = np.full(n + 1, big, dtype=np.int64)
    cost_c = np.full(n + 1, big, dtype=np.int64)
    prev = np.full(n + 1, -1, dtype=np.int64)
    cost_a[0] = cost_b[0] = cost_c[0] = 0
    for p0 in range(min_frames, n + 1, min_frames):
        p1 = min(p0 + min_frames, n + 1)
        ps = positions[p0:p1]
        q_lo, q_hi = max(0, p0 - max_frames), p1 - 1 - min_frames
        qs = positions[q_lo : q_hi + 1]
        length = ps[:, None] - qs[None, :]
        ok = (length >= min_frames) & (length <= max_frames) & (cost_a[qs] < big)[None, :]
        ok &= (upto_a[ps][:, None] - upto_x[qs][None, :]) <= max_cuts
        if not ok.any():
            continue
        ca = np.where(ok, (cost_a[qs] + in_shot[qs])[None, :], big)
        best_a = ca.min(axis=1, keepdims=True)
        ok &= ca == best_a
        cb = np.where(ok, (cost_b[qs] + 1)[None, :], big)
        best_b = cb.min(axis=1, keepdims=True)
        ok &= cb == best_b
        cc = np.where(ok, cost_c[qs][None, :] + length * length, big)
        arg = cc.argmin(axis=1)
        rows = np.arange(len(ps))
        found = ok[rows, arg]
        idx = ps[found]
        cost_a[idx] = ca[rows, arg][found]
        cost_b[idx] = cb[rows, arg][found]
        cost_c[idx] = cc[rows, arg][found]
        prev[idx] = qs[arg[found]]
    if cost_a[n] >= big:
        raise NoPlanError(_why_no_plan(n, spans, min_frames, max_frames, max_cuts, upto_a, upto_x))
    bounds = [n]
    while bounds[-1] > 0:
        bounds.append(int(prev[bounds[-1]]))
    return tuple(reversed(bounds))


def _why_no_plan(
    n: int,
    spans: Sequence[Span],
    min_f: int,
    max_f: int,
    max_cuts: int,
    upto_a: np.ndarray,
    upto_x: np.ndarray,
) -> str:
    q = np.arange(0, n - min_f + 1)
    dens = upto_a[q + min_f] - upto_x[q]
    worst = int(dens.max()) if dens.size else 0
    if worst > max_cuts:
        at = int(q[int(dens.argmax())])
        return (
            f"{worst} transitions fall within {min_f} frames starting at frame {at}: every segment "
            f"must be at least {min_f} frames long and hold at most {max_cuts}, so no split works"
        )
    return (
        f"no combination of segment lengths in [{min_f}, {max_f}] frames with at most {max_cuts} "
        f"transitions each covers the {n} frames"
    )


@dataclass(frozen=True)
class PlannedTransition:
    """A transition inside a segment.

    ``at`` is the detected transition re-timed to the segment: frames and seconds count from the
    segment's first output frame. ``source_start_frame``/``source_end_frame`` are where it was
    found in the source.
    """

    at: Transition
    source_start_frame: int
    source_end_frame: int

    def to_dict(self) -> dict[str, object]:
        return {
            **self.at.to_dict(),
            "source_start_frame": self.source_start_frame,
            "source_end_frame": self.source_end_frame,
        }


@dataclass(frozen=True)
class SegmentPlan:
    """One output segment: output frames ``[start_frame, end_frame)``.

    ``source_start_s``/``source_end_s`` are source seconds from the first frame (they differ
    from output seconds when conforming); ``boundary`` says why the segment starts where it does.
    """

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    source_start_s: float
    source_end_s: float
    transitions: tuple[PlannedTransition, ...]
    boundary: str
    in_shot: bool

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "frame_count": self.frame_count,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "duration_s": round(self.duration_s, 4),
            "source_start_s": round(self.source_start_s, 4),
            "source_end_s": round(self.source_end_s, 4),
            "transitions": [t.to_dict() for t in self.transitions],
            "boundary": self.boundary,
            "in_shot": self.in_shot,
        }


def map_transitions(transitions: Sequence[Transition], rate: RatePlan) -> list[Span]:
    """Transitions (source frames) on the output timeline."""
    out: list[Span] = []
    last = rate.frame_count - 1
    for t in sorted(transitions, key=lambda t: t.start_frame):
        a = rate.output_frame_of_source(t.start_frame, t.start_s)
        if t.type == "cut":
            b = a
        else:
            b = rate.output_frame_of_source(t.end_frame + 1, t.end_s) - 1
            b = max(a, b)
        if a > last:
            continue
        out.append(Span(t.type, a, min(b, last)))
    return out


def merged_out(
    transitions: Sequence[Transition], merge_ranges: Sequence[tuple[float, float]]
) -> list[Transition]:
    """``transitions`` without those lying wholly inside one of ``merge_ranges`` (source
    seconds from the first frame, inclusive).

    Raises
    ------
    ValueError
        A range that is empty or negative.
    """
    for lo, hi in merge_ranges:
        if not 0 <= lo < hi:
            raise ValueError(f"merge range {lo:g}-{hi:g} s: need 0 <= start < end (seconds)")
    return [
        t for t in transitions
        if not any(lo <= t.start_s and t.end_s <= hi for lo, hi in merge_ranges)
    ]


def burst_hint(spans: Sequence[Span], rate: RatePlan, window: int, max_cuts: int) -> str:
    """Where the densest run of transitions is (more than ``max_cuts`` starting within
    ``window`` output frames), in source seconds, and how to plan through it; empty when no
    window is that dense."""
    starts = np.array(sorted(s.start for s in spans), dtype=np.int64)
    ends = np.array(sorted(s.end for s in spans), dtype=np.int64)
    if starts.size <= max_cuts:
        return ""
    # Windows of max_cuts + 1 consecutive transitions; the tightest one is the burst.
    k = max_cuts
    width = starts[k:] - starts[: starts.size - k]
    i = int(np.argmin(width))
    if width[i] >= window:
        return ""
    # Extend over the transitions that keep the run dense, both ways.
    while i > 0 and starts[i - 1 + k] - starts[i - 1] < window:
        i -= 1
    lo = rate.source_seconds(int(starts[i]))
    j = i + k
    while j + 1 < starts.size and starts[j + 1] - starts[j + 1 - k] < window:
        j += 1
    hi = rate.source_seconds(int(max(ends[j], starts[j]) + 1))
    lo_s, hi_s = np.floor(lo * 100) / 100, np.ceil(hi * 100) / 100
    return (
        f"; the burst of transitions is at {lo_s:.2f}-{hi_s:.2f} s of the source: to plan it as one "
        f"shot, pass that range as a merge range (preflight fix --merge-range {lo_s:.2f}-{hi_s:.2f})"
    )


def build_segments(
    bounds: Sequence[int], spans: Sequence[Span], rate: RatePlan, transitions: Sequence[Transition]
) -> tuple[SegmentPlan, ...]:
    ordered = sorted(transitions, key=lambda t: t.start_frame)
    by_span = list(zip(spans, ordered, strict=False))
    flags = shot_boundary_flags(spans, rate.frame_count)
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        inside = []
        for span, t in by_span:
            hit = (a < span.start <= b - 1) if span.is_cut else (span.start <= b - 1 and span.end >= a)
            if hit:
                at = Transition(
                    type=span.kind,
                    start_frame=span.start - a,
                    end_frame=span.end - a,
                    start_s=rate.output_seconds(span.start - a),
                    end_s=rate.output_seconds(span.end + 1 - a),
                    confidence=t.confidence,
                    via=t.via,
                )
                inside.append(PlannedTransition(at, t.start_frame, t.end_frame))
        out.append(
            SegmentPlan(
                index=i,
                start_frame=a,
                end_frame=b,
                start_s=rate.output_seconds(a),
                end_s=rate.output_seconds(b),
                source_start_s=rate.source_seconds(a),
                source_end_s=rate.source_seconds(b),
                transitions=tuple(inside),
                boundary=_boundary_reason(a, spans, rate, flags),
                in_shot=bool(a > 0 and not flags[a]),
            )
        )
    return tuple(out)


def _boundary_reason(p: int, spans: Sequence[Span], rate: RatePlan, flags: np.ndarray) -> str:
    if p == 0:
        return "start of the clip"
    t = rate.output_seconds(p)
    for s in spans:
        if s.is_cut and s.start == p:
            return f"at the cut at {t:.2f} s"
        if not s.is_cut and s.start == p:
            return f"just before the {s.kind.replace('_', ' ')} at {t:.2f} s"
        if not s.is_cut and s.end + 1 == p:
            return f"just after the {s.kind.replace('_', ' ')} ending at {t:.2f} s"
    if not flags[p]:
        return f"inside a shot at {t:.2f} s (no shot boundary gives valid segments here)"
    return f"at {t:.2f} s"


