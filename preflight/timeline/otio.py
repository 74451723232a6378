"""OpenTimelineIO timelines: shots and transitions of ``check``, segments and anchors of ``fix``.

Times are whole frames at the source's exact rate (:func:`preflight.fix.plan.source_rate`, e.g.
24000/1001): OTIO keeps a rate as a double, so each document also carries the rate as a fraction
string in ``metadata["preflight"]["rate"]``. Clips tile the track: their ranges sum to the
source's frame count exactly (one rate, integer frame values).

* :func:`check_timeline`: one clip per shot, cut at each hard cut and at the middle of each
  gradual transition, which becomes an OTIO ``Transition`` spanning its frames; findings are
  markers over the whole track.
* :func:`segments_timeline`: one clip per fixed segment with its exact source frame range;
  anchors as markers at their source frame.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..errors import UsageError
from ..fix.manifest import Manifest
from ..fix.plan import source_rate
from ..media.outputs import atomic_path
from ..media.probe import Probe

_ANCHOR_COLOR = otio.schema.MarkerColor.GREEN
_FINDING_COLORS = {"error": otio.schema.MarkerColor.RED, "warning": otio.schema.MarkerColor.YELLOW}


def _frac(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _range(start: int, count: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(
        otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(count, rate)
    )


def _media(probe: Probe, rate: float) -> otio.schema.ExternalReference:
    return otio.schema.ExternalReference(
        target_url=Path(probe.path).resolve().as_uri(), available_range=_range(0, probe.frame_count, rate)
    )


def _timeline(
    name: str, rate: Fraction, track: otio.schema.Track, extra: Mapping[str, Any]
) -> otio.schema.Timeline:
    tl = otio.schema.Timeline(name=name)
    tl.metadata["preflight"] = {"rate": _frac(rate), **extra}
    tl.tracks.append(track)
    return tl


def check_timeline(result: Any, *, frame_count: int | None = None) -> otio.schema.Timeline:
    """The shots of a :class:`preflight.api.CheckResult` as clips, its transitions as transitions.

    ``frame_count`` defaults to the decoded frame count of the analysis.
    """
    a = result.analysis
    probe: Probe = a.probe
    rate = source_rate(probe)
    r = float(rate)
    total = a.frame_count if frame_count is None else frame_count
    track = otio.schema.Track(name="video", kind=otio.schema.TrackKind.Video)
    bounds, gradual = [0], []
    for t in sorted(a.transitions, key=lambda t: t.start_frame):
        cut = t.start_frame if t.type == "cut" else (t.start_frame + t.end_frame + 1) // 2
        if bounds[-1] < cut < total:
            bounds.append(cut)
            gradual.append(None if t.type == "cut" else t)
    bounds.append(total)
    for i, (start, end) in enumerate(itertools.pairwise(bounds)):
        if i and gradual[i - 1] is not None:
            t = gradual[i - 1]
            track.append(
                otio.schema.Transition(
                    name=t.type,
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=otio.opentime.RationalTime(start - t.start_frame, r),
                    out_offset=otio.opentime.RationalTime(t.end_frame + 1 - start, r),
                    metadata={"preflight": t.to_dict()},
                )
            )
        track.append(
            otio.schema.Clip(
                name=f"shot {i + 1}",
                media_reference=_media(probe, r),
                source_range=_range(start, end - start, r),
            )
        )
    whole = _range(0, total, r)
    for f in result.findings:
        track.markers.append(
            otio.schema.Marker(
                name=f.id,
                marked_range=whole,
                color=_FINDING_COLORS.get(f.severity, otio.schema.MarkerColor.BLUE),
                metadata={"preflight": f.to_dict()},
            )
        )
    return _timeline(Path(probe.path).name, rate, track, {"profile": result.profile.name})


def segments_timeline(manifest: Manifest, probe: Probe) -> otio.schema.Timeline:
    """One clip per segment of a ``preflight.manifest/1`` document, at its exact source range.

    A segment's source range runs from its first source frame to the next segment's (the last
    one to the end of the source), so the clips tile the source. Anchors are markers at their
    source frame, with the segment time they were placed at in the metadata.
    """
    rate = source_rate(probe)
    r = float(rate)
    segs = manifest.segments
    starts = [s.source.start_frame for s in segs] + [probe.frame_count]
    track = otio.schema.Track(name="segments", kind=otio.schema.TrackKind.Video)
    for seg, start, end in zip(segs, starts[:-1], starts[1:], strict=True):
        clip = otio.schema.Clip(
            name=seg.file,
            media_reference=_media(probe, r),
            source_range=_range(start, end - start, r),
            metadata={"preflight": {"index": seg.index, "file": seg.file, "frame_count": seg.frame_count}},
        )
        for a in (a for a in manifest.anchors if a.segment == seg.index):
            entry = a.segment_entry()
            frame = min(end - 1, max(start, round(Fraction(str(entry["source_time_s"])) * rate)))
            clip.markers.append(
                otio.schema.Marker(
                    name=f"anchor {a.at} {a.time_s:.2f} s",
                    marked_range=_range(frame, 0, r),
                    color=_ANCHOR_COLOR,
                    metadata={"preflight": entry},
                )
            )
        track.append(clip)
    return _timeline(Path(probe.path).name, rate, track, {"profile": manifest.profile})


def write_otio(timeline: otio.schema.Timeline, path: str | os.PathLike[str]) -> None:
    """Write ``timeline`` as OTIO JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(otio.adapters.write_to_string(timeline, "otio_json") + "\n", encoding="utf-8")


def check_edl_rate(probe: Probe) -> None:
    """Raise :class:`UsageError` unless the source rate has SMPTE timecode (an EDL needs it).

    Called before any work, so ``fix --edl`` never fails after writing the segments.
    """
    rate = source_rate(probe)
    if not otio.opentime.RationalTime.is_valid_timecode_rate(float(rate)):
        raise UsageError(
            f"--edl: CMX 3600 timecode needs a SMPTE rate (23.976, 24, 25, 29.97, 30, 50, 59.94, 60...); "
            f"{Path(probe.path).name} runs at {_frac(rate)} fps (use segments.otio instead)"
        )


def write_edl(timeline: otio.schema.Timeline, path: str | os.PathLike[str]) -> None:
    """Write ``timeline`` as a CMX 3600 EDL (``otio-cmx3600-adapter``), atomically.

    The adapter names the reel after the source file (8 characters, punctuation dropped) and each
    event after its clip (``* FROM CLIP NAME: clip_seg02.mp4``); anchors become ``* LOC`` lines;
    the timecode rate is the timeline's rate (non-drop-frame).
    """
    with atomic_path(path) as tmp:
        tmp.write_text(otio.adapters.write_to_string(timeline, "cmx_3600"), encoding="utf-8")
