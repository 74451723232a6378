"""Keyframe anchors of ``preflight fix``: parsed from ``--anchor`` and placed into the segments.

Anchors (``--anchor TIME|first|last[=IMAGE]``) are given in source seconds and remapped to the
segment holding them with the profile's precision (0.01 s): 35.00 s of the source lands at
5.00 s of segment 2 when segment 1 covers 0-30 s. Pure functions except :func:`parse_anchor`,
which checks that an image exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import UsageError, path_text_problem, preview
from .plan import Plan

_TIME_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
MAX_ANCHOR_CHARS = 4200
ANCHOR_PLACES = ("first", "last", "time")
"""Where an anchor is: the first frame, the last frame, or a time (``AnchorSpec.at``)."""


@dataclass(frozen=True)
class AnchorSpec:
    """One ``--anchor`` as typed: ``at`` is ``first``, ``last`` or ``time`` (then ``seconds``)."""

    text: str
    at: str
    seconds: float | None
    image: str | None


def parse_anchor(text: str) -> AnchorSpec:
    """Parse ``TIME|first|last[=IMAGE]`` (TIME in source seconds, e.g. ``12.5``).

    Raises
    ------
    UsageError
        Malformed text, a negative or non-numeric time, or an image path that is not a file.
    """
    how = "expected TIME|first|last[=IMAGE] with TIME in seconds, e.g. 12.5 or last=ref.png"
    shown = preview(text)
    if len(text) > MAX_ANCHOR_CHARS:
        raise UsageError(f"anchor {shown}: longer than {MAX_ANCHOR_CHARS} characters; {how}")
    raw = text.strip()
    where, sep, image = raw.partition("=")
    where = where.strip().lower()
    image = image.strip()
    if not where or (sep and not image):
        raise UsageError(f"anchor {shown}: {how}")
    if where in ("first", "last"):
        at, seconds = where, None
    elif _TIME_RE.match(where) and len(where) <= 32:
        at, seconds = "time", float(where)
        if not math.isfinite(seconds):
            raise UsageError(f"anchor {shown}: {how}")
    else:
        raise UsageError(f"anchor {shown}: {how}")
    if image:
        problem = path_text_problem(image)
        if problem is not None:
            raise UsageError(f"anchor {shown}: image path {problem}")
        if not Path(image).is_file():
            raise UsageError(f"anchor {shown}: image {preview(image)} is not a file")
        image = str(Path(image).resolve())
    return AnchorSpec(text=text, at=at, seconds=seconds, image=image or None)


@dataclass(frozen=True)
class PlacedAnchor:
    """An anchor remapped into its segment.

    ``time_s`` is segment time rounded to the profile's precision (for ``first`` 0, for ``last``
    the last frame's time); ``source_time_s`` is where it was asked for in the source.
    """

    spec: str
    segment: int
    at: str
    time_s: float
    source_time_s: float
    image: str | None

    def to_dict(self) -> dict[str, object]:
        return {"spec": self.spec, "segment": self.segment, **self.segment_entry()}

    def segment_entry(self) -> dict[str, object]:
        """The entry in its segment's ``anchors`` list of the manifest."""
        return {
            "at": self.at,
            "time_s": self.time_s,
            "source_time_s": round(self.source_time_s, 4),
            "image": self.image,
        }


def _round_to(x: float, step: float) -> float:
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return round(round(x / step) * step, digits)


def check_anchor_range(specs: Sequence[AnchorSpec], plan: Plan, *, max_anchors: int) -> None:
    """Errors knowable before segmentation: an anchor outside the clip, or any anchor when the
    profile allows none.

    Raises
    ------
    UsageError
        Naming the anchor.
    """
    if specs and max_anchors == 0:
        raise UsageError(f"anchor {specs[0].text!r}: the profile allows no anchors (max_anchors = 0)")
    if not plan.segments:
        return
    source_end = plan.segments[-1].source_end_s
    for spec in specs:
        if spec.seconds is not None and not 0 <= spec.seconds <= source_end + 1e-9:
            raise UsageError(
                f"anchor {spec.text!r}: {spec.seconds:.2f} s is outside the clip (0.00-{source_end:.2f} s)"
            )


def place_anchors(
    specs: Sequence[AnchorSpec], plan: Plan, *, max_anchors: int, precision_s: float
) -> tuple[PlacedAnchor, ...]:
    """Place source-time anchors into the plan's segments.

    Raises
    ------
    UsageError
        An anchor outside the clip, or more than ``max_anchors`` in one segment (naming them).
    """
    if not specs:
        return ()
    if not plan.segments:
        raise UsageError("anchors need a valid plan with segments")
    if precision_s <= 0:
        raise ValueError("precision_s must be > 0")
    check_anchor_range(specs, plan, max_anchors=max_anchors)
    retime = plan.rate.retime
    fps = plan.rate.fps
    segs = plan.segments
    placed: list[PlacedAnchor] = []
    for spec in specs:
        if spec.at == "first":
            placed.append(PlacedAnchor(spec.text, 1, "first", 0.0, 0.0, spec.image))
            continue
        last_seg = segs[-1]
        last_t = float(Fraction(last_seg.frame_count - 1) / fps)
        if spec.at == "last":
            src_t = float((Fraction(last_seg.end_frame - 1) / fps) * retime)
            t = _floor_to(last_t, precision_s)
            placed.append(PlacedAnchor(spec.text, last_seg.index, "last", t, src_t, spec.image))
            continue
        assert spec.seconds is not None
        src_t = spec.seconds
        out_t = Fraction(src_t).limit_denominator(10**6) / retime
        seg = next((s for s in segs if Fraction(s.end_frame) / fps > out_t), segs[-1])
        rel = float(out_t - Fraction(seg.start_frame) / fps)
        seg_last = float(Fraction(seg.frame_count - 1) / fps)
        t = min(_round_to(rel, precision_s), _floor_to(seg_last, precision_s))
        placed.append(PlacedAnchor(spec.text, seg.index, "time", max(0.0, t), src_t, spec.image))
    by_seg: dict[int, list[PlacedAnchor]] = {}
    for a in placed:
        by_seg.setdefault(a.segment, []).append(a)
    for index, items in sorted(by_seg.items()):
        if len(items) > max_anchors:
            seg = segs[index - 1]
            names = ", ".join(a.spec for a in items)
            raise UsageError(
                f"segment {index} ({seg.source_start_s:.2f}-{seg.source_end_s:.2f} s of the source) would "
                f"get {len(items)} anchors ({names}); the profile allows at most {max_anchors} per segment"
            )
    return tuple(placed)


def _floor_to(x: float, step: float) -> float:
    return _round_to(math.floor(x / step + 1e-9) * step, step)
