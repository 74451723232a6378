"""The ``preflight fix`` manifest (schema ``preflight.manifest/1``) and keyframe anchors.

The manifest records where every segment came from, so ``preflight join`` can put edited
segments back in order and a pipeline can map any segment time back to the source::

    {
      "schema": "preflight.manifest/1",
      "source": {"path": ..., "probe": {...}},
      "profile": "aleph-2",
      "plan": {...},                                   # preflight.fix.plan.Plan.to_dict()
      "output": {"width", "height", "fps", "frame_count", "duration_s", "retime"},
      "segments": [{
          "index": 1, "file": "clip_seg01.mp4",
          "bytes": 123456, "sha256": "...",            # of the file as written: --force removes
                                                       # a replaced segment only if both match
          "frame_count": 720, "duration_s": 24.0,
          "start_frame": 0, "end_frame": 720,          # output timeline, end exclusive
          "start_s": 0.0, "end_s": 24.0,
          "source": {"start_frame", "last_frame", "start_pts", "last_pts", "time_base",
                     "start_s", "end_s"},              # decode-order frames; seconds from frame 0
          "transitions": [...],                        # frames/seconds relative to the segment
          "anchors": [{"at": "first"|"last"|"time", "time_s", "source_time_s", "image"}],
          "audio": {"mode", "rate", "samples", "duration_s"} }],
      "anchors": [...]                                 # every anchor as given and where it went
    }

Anchors (``--anchor TIME|first|last[=IMAGE]``) are given in source seconds and remapped to the
segment holding them with the profile's precision (0.01 s): 35.00 s of the source lands at
5.00 s of segment 2 when segment 1 covers 0-30 s. Functions here are pure except
:func:`load_manifest`, which reads one file.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import MAX_NAME_CHARS, InputError, UsageError, path_text_problem, preview
from ..media.outputs import file_digest
from ..media.probe import Probe
from .plan import X264_PRESETS, Plan

SCHEMA = "preflight.manifest/1"
_TIME_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
MAX_ANCHOR_CHARS = 4200
MAX_MANIFEST_BYTES = 32_000_000
"""Largest manifest file read (a 10,000-segment manifest is about 12 MB)."""
MAX_SEGMENTS = 10_000
MAX_SIDE = 16384
MAX_FRAMES = 100_000_000
MAX_JSON_NUMBER_CHARS = 40
"""Longest number literal in a manifest: every real value has far fewer digits."""
_FILE_NAME_RE = re.compile(r"[^\x00-\x1f\x7f/\\*?\[\]]+")


# --------------------------------------------------------------------------- anchors


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
        return {
            "spec": self.spec,
            "segment": self.segment,
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


# --------------------------------------------------------------------------- writing


def build_manifest(
    plan: Plan,
    probe: Probe,
    results: Sequence[Any],
    names: Sequence[str],
    anchors: Sequence[PlacedAnchor],
) -> dict[str, object]:
    """The manifest dict for written segments (``results``: transcode.SegmentResult list)."""
    fps = plan.rate.fps
    segments = []
    for seg, res, name in zip(plan.segments, results, names, strict=True):
        tb = probe.time_base
        audio = None
        if res.audio_rate:
            audio = {
                "mode": plan.encoder.audio,
                "rate": res.audio_rate,
                "samples": res.audio_samples,
                "duration_s": round(res.audio_samples / res.audio_rate, 6),
            }
        segments.append({
            "index": seg.index,
            "file": name,
            **_written(res.path),
            "frame_count": res.frame_count,
            "duration_s": round(float(Fraction(res.frame_count) / fps), 6),
            "start_frame": seg.start_frame,
            "end_frame": seg.end_frame,
            "start_s": round(seg.start_s, 6),
            "end_s": round(seg.end_s, 6),
            "source": {
                "start_frame": res.source_start_frame,
                "last_frame": res.source_last_frame,
                "start_pts": res.source_start_pts,
                "last_pts": res.source_last_pts,
                "time_base": str(tb),
                "start_s": round(float((res.source_start_pts - probe.start_pts) * tb), 6),
                "last_s": round(float((res.source_last_pts - probe.start_pts) * tb), 6),
                "end_s": round(seg.source_end_s, 6),
            },
            "boundary": seg.boundary,
            "transitions": [t.to_dict() for t in seg.transitions],
            "anchors": [
                {"at": a.at, "time_s": a.time_s, "source_time_s": round(a.source_time_s, 4), "image": a.image}
                for a in anchors
                if a.segment == seg.index
            ],
            "audio": audio,
        })
    return {
        "schema": SCHEMA,
        "tool": f"preflight {__version__}",
        "source": {"path": str(Path(plan.source).resolve()), "probe": probe.to_dict()},
        "profile": plan.profile,
        "plan": plan.to_dict(),
        "output": {
            "width": plan.size.width,
            "height": plan.size.height,
            "fps": _frac(fps),
            "fps_float": round(float(fps), 6),
            "retime": _frac(plan.rate.retime),
            "frame_count": sum(r.frame_count for r in results),
            "duration_s": round(float(Fraction(sum(r.frame_count for r in results)) / fps), 6),
            "audio": plan.encoder.audio,
        },
        "segments": segments,
        "anchors": [a.to_dict() for a in anchors],
    }


def _written(path: Path) -> dict[str, object]:
    """``bytes`` and ``sha256`` of a segment as written: proof, later, that this tool wrote it."""
    size, digest = file_digest(path)
    return {"bytes": size, "sha256": digest}


def _frac(f: Fraction) -> str:
    f = Fraction(f)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


# --------------------------------------------------------------------------- reading (join)


@dataclass(frozen=True)
class ManifestSegment:
    """What ``join`` needs of one segment."""

    index: int
    file: str
    frame_count: int
    start_frame: int

    def duration_s(self, fps: Fraction) -> float:
        return float(Fraction(self.frame_count) / fps)


@dataclass(frozen=True)
class Manifest:
    """A validated manifest."""

    path: Path
    source: str
    width: int
    height: int
    fps: Fraction
    retime: Fraction
    crf: int
    preset: str
    segments: tuple[ManifestSegment, ...]

    @property
    def frame_count(self) -> int:
        return sum(s.frame_count for s in self.segments)


class ManifestError(InputError):
    """The manifest is not valid JSON or not a ``preflight.manifest/1`` document."""


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and validate a manifest, saying which field is wrong.

    Raises
    ------
    ManifestError
        Missing file, too large, invalid JSON, wrong schema, or a field of the wrong type or value.
    """
    p = Path(path)
    name = os.fspath(path)
    problem = path_text_problem(name)
    if problem is not None:
        raise ManifestError(name, f"not a usable path: it {problem}")
    if not p.is_file():
        raise ManifestError(name, "no such manifest file")
    try:
        if p.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(name, f"larger than {MAX_MANIFEST_BYTES} bytes: not a manifest")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(name, f"cannot read ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ManifestError(name, "cannot read (not UTF-8 text)") from None
    return manifest_from_text(text, path=p)


def manifest_from_text(text: str, *, path: Path) -> Manifest:
    """Parse and validate manifest JSON ``text`` (``path``: where it was read, named in errors).

    Sizes are bounded before and while parsing: the text length, every number literal's length,
    the nesting depth and the number of segments, so any input gives a one-line error.

    Raises
    ------
    ManifestError
        Invalid JSON or an invalid ``preflight.manifest/1`` document.
    """
    name = str(path)
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError(name, f"larger than {MAX_MANIFEST_BYTES} characters: not a manifest")
    try:
        data = json.loads(
            text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
        )
    except json.JSONDecodeError as exc:
        raise ManifestError(name, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except _NumberError as exc:
        raise ManifestError(name, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise ManifestError(name, "not valid JSON for a manifest (nested too deeply)") from None
    return _manifest_from_data(data, path)


class _NumberError(ValueError):
    """A JSON number a manifest never holds (too many digits, NaN, Infinity)."""


def _json_int(text: str) -> int:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _NumberError(f"a {len(text)}-digit integer (at most {MAX_JSON_NUMBER_CHARS})")
    return int(text)


def _json_float(text: str) -> float:
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _NumberError(f"a {len(text)}-character number (at most {MAX_JSON_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise _NumberError(f"the number {preview(text)} is out of range")
    return value


def _json_constant(text: str) -> float:
    raise _NumberError(f"{text} is not a JSON number")


def _manifest_from_data(data: Any, p: Path) -> Manifest:
    name = str(p)

    def bad(field: str, why: str) -> ManifestError:
        return ManifestError(
            name, f"field {field}: {why} (not a preflight.manifest/1 written by preflight fix?)"
        )

    if not isinstance(data, dict):
        raise bad("<root>", "must be an object")
    if data.get("schema") != SCHEMA:
        raise bad("schema", f"expected {SCHEMA!r}, got {preview(data.get('schema'), 40)}")
    source = _get(data, "source", dict, bad)
    src_path = _get(source, "path", str, bad, "source.path")
    problem = path_text_problem(src_path) if src_path else "is empty"
    if problem is not None:
        raise bad("source.path", f"not a usable path: it {problem}")
    out = _get(data, "output", dict, bad)
    width = _positive_int(out, "width", bad, "output.width", MAX_SIDE)
    height = _positive_int(out, "height", bad, "output.height", MAX_SIDE)
    if width % 2 or height % 2:
        raise bad("output.width/height", "must be even")
    fps = _fraction(out, "fps", bad, "output.fps")
    retime = _fraction(out, "retime", bad, "output.retime")
    plan = _get(data, "plan", dict, bad)
    encoder = _get(plan, "encoder", dict, bad, "plan.encoder")
    crf = encoder.get("crf")
    preset = encoder.get("preset")
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise bad("plan.encoder.crf", "must be an integer 0-51")
    if preset not in X264_PRESETS:
        raise bad("plan.encoder.preset", f"must be one of {', '.join(X264_PRESETS)}")
    raw = _get(data, "segments", list, bad)
    if not raw:
        raise bad("segments", "must list at least one segment")
    if len(raw) > MAX_SEGMENTS:
        raise bad("segments", f"{len(raw)} segments, at most {MAX_SEGMENTS}")
    segments = _segments(raw, bad)
    return Manifest(
        path=p, source=src_path, width=width, height=height, fps=fps, retime=retime,
        crf=crf, preset=preset, segments=segments,
    )


def _segments(raw: list, bad) -> tuple[ManifestSegment, ...]:
    segments: list[ManifestSegment] = []
    expected_start = 0
    for i, item in enumerate(raw):
        where = f"segments[{i}]"
        if not isinstance(item, dict):
            raise bad(where, "must be an object")
        index = _positive_int(item, "index", bad, f"{where}.index", MAX_SEGMENTS)
        if index != i + 1:
            raise bad(f"{where}.index", f"expected {i + 1} (segments in order), got {index}")
        file = _get(item, "file", str, bad, f"{where}.file")
        if not is_plain_file_name(file):
            why = "must be a plain file name (no folder, no * ? [ ], not . or ..)"
            raise bad(f"{where}.file", f"{why}, got {preview(file, 40)}")
        frames = _positive_int(item, "frame_count", bad, f"{where}.frame_count", MAX_FRAMES)
        start = item.get("start_frame")
        if isinstance(start, bool) or not isinstance(start, int) or start != expected_start:
            why = f"expected {expected_start} (contiguous segments), got {preview(start, 40)}"
            raise bad(f"{where}.start_frame", why)
        expected_start += frames
        segments.append(ManifestSegment(index=index, file=file, frame_count=frames, start_frame=start))
    if len({s.file for s in segments}) != len(segments):
        raise bad("segments[].file", "file names must be unique")
    return tuple(segments)


def is_plain_file_name(name: str) -> bool:
    """A file name without folder separators, glob characters, control characters, ``.``/``..``."""
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and name not in (".", "..")
        and _FILE_NAME_RE.fullmatch(name) is not None
    )


def _get(d: dict, key: str, kind: type, bad, field: str | None = None):
    value = d.get(key)
    if not isinstance(value, kind):
        raise bad(field or key, f"must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _positive_int(d: dict, key: str, bad, field: str, limit: int) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        raise bad(field, f"must be an integer 1-{limit}, got {preview(value, 40)}")
    return value


def _fraction(d: dict, key: str, bad, field: str) -> Fraction:
    value = d.get(key)
    how = f"must be a rate like '30' or '30000/1001', got {preview(value, 40)}"
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 40:
        raise bad(field, how)
    try:
        f = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise bad(field, how) from None
    if f <= 0 or f > 1000:
        raise bad(field, f"must be a positive rate up to 1000, got {preview(value, 40)}")
    return f
