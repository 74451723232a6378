"""The whole plan (:class:`Plan`) and :func:`make_plan`, which combines rate, size, encoder and segments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from ...check.shots import Transition
from ...media.probe import Probe
from ...profile import Profile
from .common import DEFAULT_CRF, DEFAULT_PRESET, RANGE_EPS, NoPlanError
from .encoder import EncoderPlan, plan_encoder, validate_encoder_options
from .rate import RatePlan, plan_rate
from .segments import (
    SegmentPlan,
    Span,
    build_segments,
    burst_hint,
    count_inside,
    frame_limits,
    map_transitions,
    merged_out,
    solve_segments,
)
from .size import AspectPlan, SizePlan, plan_aspect, plan_size

# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """Everything ``preflight fix`` will do. ``segments`` is empty when ``problem`` says why no
    valid plan exists."""

    source: str
    profile: str
    rate: RatePlan
    aspect: AspectPlan
    size: SizePlan
    encoder: EncoderPlan
    segments: tuple[SegmentPlan, ...]
    split_reason: str
    transitions: tuple[Transition, ...]
    warnings: tuple[str, ...]
    problem: str | None = None
    spans: tuple[Span, ...] = field(default=(), repr=False)

    @property
    def frame_count(self) -> int:
        return self.rate.frame_count

    @property
    def fps(self) -> Fraction:
        return self.rate.fps

    @property
    def duration_s(self) -> float:
        return float(Fraction(self.frame_count) / self.rate.fps)

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.segments)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "profile": self.profile,
            "frame_count": self.frame_count,
            "duration_s": round(self.duration_s, 4),
            "rate": self.rate.to_dict(),
            "aspect": self.aspect.to_dict(),
            "size": self.size.to_dict(),
            "encoder": self.encoder.to_dict(),
            "split_reason": self.split_reason,
            "segments": [s.to_dict() for s in self.segments],
            "warnings": list(self.warnings),
            "problem": self.problem,
        }


def make_plan(
    probe: Probe,
    transitions: Sequence[Transition],
    profile: Profile,
    *,
    frame_count: int | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    aspect: str | None = None,
    merge_ranges: Sequence[tuple[float, float]] = (),
) -> Plan:
    """The full plan for one clip.

    Parameters
    ----------
    probe : Probe
        The source's probe.
    transitions : sequence of Transition
        Cuts and gradual transitions, frames 0-based in source decode order.
    profile : Profile
        Every limit.
    frame_count : int, optional
        Frames actually decodable (from the analysis pass); default ``probe.frame_count``.
    crf, preset : int, str
        x264 quality and speed.
    aspect : {"pad", "crop"}, optional
        Conform a non-conventional aspect ratio to the nearest conventional one.
    merge_ranges : sequence of (float, float)
        Source time ranges (seconds from the first frame) each planned as one shot: the
        transitions that lie inside one (a strobe, a flash-cut montage) are ignored by the
        segmentation; the plan still lists every transition.
    """
    validate_encoder_options(crf=crf, preset=preset)
    planned = merged_out(transitions, merge_ranges)
    warnings: list[str] = []
    rate, w = plan_rate(probe, profile, frame_count=frame_count)
    warnings += w
    aspect_plan, w = plan_aspect(probe, profile, mode=aspect)
    warnings += w
    size, w = plan_size(probe, profile, aspect_plan)
    warnings += w

    spans = map_transitions(planned, rate)
    n = rate.frame_count
    min_f, max_f = frame_limits(rate.fps, profile)
    total_cuts = count_inside(spans, 0, n)
    duration = float(Fraction(n) / rate.fps)
    problem = None
    bounds: tuple[int, ...] = ()
    reasons = []
    if duration > profile.max_duration_s + RANGE_EPS or n > max_f:
        reasons.append(f"{duration:.2f} s exceeds the {profile.max_duration_s:g} s maximum")
    if total_cuts > profile.max_cuts:
        reasons.append(f"{total_cuts} transitions exceed the maximum of {profile.max_cuts}")
    try:
        if n < min_f:
            raise NoPlanError(
                f"the clip lasts {duration:.2f} s, shorter than the profile minimum "
                f"{profile.min_duration_s:g} s: a clip cannot be lengthened by splitting "
                "(record or loop a longer take)"
            )
        if not reasons:
            bounds = (0, n)
        else:
            bounds = solve_segments(n, spans, min_frames=min_f, max_frames=max_f, max_cuts=profile.max_cuts)
    except NoPlanError as exc:
        problem = f"no valid plan: {exc}{burst_hint(spans, rate, min_f, profile.max_cuts)}"
    segments = build_segments(bounds, spans, rate, planned) if bounds else ()
    if problem:
        split_reason = problem
    elif len(segments) == 1:
        split_reason = (
            f"no split: {duration:.2f} s and {total_cuts} transition(s) are within the profile "
            f"({profile.min_duration_s:g}-{profile.max_duration_s:g} s, <= {profile.max_cuts})"
        )
    else:
        in_shot = sum(s.in_shot for s in segments)
        split_reason = f"split into {len(segments)} segments: " + " and ".join(reasons)
        split_reason += (
            f"; {len(segments) - 1 - in_shot} split(s) at shot boundaries, {in_shot} inside a shot"
            " (optimal: fewest in-shot splits, then fewest segments, then most even lengths)"
        )
    encoder, w = plan_encoder(probe, rate, crf=crf, preset=preset, segments=max(1, len(segments)))
    warnings += w
    return Plan(
        source=probe.path,
        profile=profile.name,
        rate=rate,
        aspect=aspect_plan,
        size=size,
        encoder=encoder,
        segments=segments,
        split_reason=split_reason,
        transitions=tuple(transitions),
        warnings=tuple(warnings),
        problem=problem,
        spans=tuple(spans),
    )


