"""The ``preflight fix`` manifest (schema ``preflight.manifest/1``).

The manifest records where every segment came from, so ``preflight join`` can put edited
segments back in order and a pipeline can map any segment time back to the source::

    {
      "schema": "preflight.manifest/1",
      "tool": "preflight 0.1.0",
      "source": {"path": ..., "probe": {...}},         # Probe.to_dict()
      "profile": "aleph-2",
      "plan": {...},                                   # preflight.fix.plan.Plan.to_dict()
      "output": {"width", "height", "fps", "fps_float", "retime", "frame_count", "duration_s",
                 "audio"},
      "segments": [{
          "index": 1, "file": "clip_seg01.mp4",
          "bytes": 123456, "sha256": "...",            # of the file as written: --force removes
                                                       # a replaced segment only if both match
          "frame_count": 720, "duration_s": 24.0,
          "start_frame": 0, "end_frame": 720,          # output timeline, end exclusive
          "start_s": 0.0, "end_s": 24.0,
          "source": {"start_frame", "last_frame", "start_pts", "last_pts", "time_base",
                     "start_s", "last_s", "end_s"},    # decode-order frames; seconds from frame 0
          "boundary": "...",                           # why the segment starts there
          "transitions": [...],                        # frames/seconds relative to the segment
          "anchors": [{"at": "first"|"last"|"time", "time_s", "source_time_s", "image"}],
          "audio": {"mode", "rate", "samples", "duration_s"} | null,
          "requests": {service: path} }],              # only after fix --service
      "anchors": [...]                                 # every anchor as given and where it went
    }

The document is modelled by frozen dataclasses (:class:`Manifest`, :class:`ManifestOutput`,
:class:`Segment`, :class:`SegmentSource`, :class:`SegmentAudio`, :class:`PlacedAnchor`):
``Manifest.to_dict()`` is the JSON ``fix`` writes, ``Manifest.from_dict()`` validates a parsed
document completely (a :class:`ManifestError` naming the field otherwise) and gives it back, so
``Manifest.from_dict(m.to_dict()) == m``. ``probe``, ``plan`` and each segment's ``transitions``
are other tools' documents, held as plain JSON values.

Anchors are placed by :mod:`preflight.fix.anchors`. Functions here are pure except
:func:`build_manifest` (hashes the written files) and :func:`load_manifest` (reads one file).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import MAX_NAME_CHARS, MAX_PATH_CHARS, InputError, path_text_problem, preview
from ..jsondoc import plain
from ..media.outputs import file_digest
from ..media.probe import Probe
from .anchors import ANCHOR_PLACES, MAX_ANCHOR_CHARS, PlacedAnchor
from .plan import X264_PRESETS, AudioMode, Plan, SegmentPlan

if TYPE_CHECKING:
    from .segments import SegmentResult

SCHEMA = "preflight.manifest/1"
MAX_MANIFEST_BYTES = 32_000_000
"""Largest manifest file read (a 10,000-segment manifest is about 12 MB)."""
MAX_SEGMENTS = 10_000
MAX_SIDE = 16384
MAX_FRAMES = 100_000_000
MAX_JSON_NUMBER_CHARS = 40
"""Longest number literal in a manifest: every real value has far fewer digits."""
_FILE_NAME_RE = re.compile(r"[^\x00-\x1f\x7f/\\*?\[\]]+")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
MAX_ANCHORS = 100_000
MAX_PTS = 2**62
MAX_SECONDS = 10**10
MAX_AUDIO_RATE = 768_000
MAX_FILE_BYTES = 2**53
MAX_TEXT_CHARS = 1000
"""Longest free text field (``tool``, ``profile``, a segment's ``boundary``)."""


# --------------------------------------------------------------------------- the document


class ManifestError(InputError):
    """The manifest is not valid JSON or not a ``preflight.manifest/1`` document."""


class _Fields:
    """Typed, range-checked access to one JSON object of a manifest document.

    Every problem is a one-line :class:`ManifestError` naming the manifest (``name``) and the field
    by its path in the document (``where``, e.g. ``segments[3].source``).
    """

    def __init__(self, data: Any, where: str, name: str) -> None:
        self.name = name
        self.where = where
        if not isinstance(data, dict):
            raise self.bad("", f"must be an object, got {_kind(data)}")
        self.data: dict[str, Any] = data

    def field(self, key: str) -> str:
        """The document path of ``key`` in this object (``""``: the object itself)."""
        if not key:
            return self.where or "<root>"
        return f"{self.where}.{key}" if self.where else key

    def bad(self, key: str, why: str) -> ManifestError:
        return ManifestError(
            self.name, f"field {self.field(key)}: {why} (not a {SCHEMA} written by preflight fix?)"
        )

    def _value(self, key: str, kinds: tuple[type, ...], what: str) -> Any:
        value = self.data.get(key)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            got = "nothing (missing)" if key not in self.data else preview(value, 40)
            raise self.bad(key, f"must be {what}, got {got}")
        return value

    def obj(self, key: str) -> _Fields:
        return _Fields(self.data.get(key), self.field(key), self.name)

    def objects(self, key: str, *, most: int, least: int = 0) -> list[_Fields]:
        items = self._value(key, (list,), "a list")
        if not least <= len(items) <= most:
            raise self.bad(key, f"must list {least}-{most} entries, got {len(items)}")
        where = self.field(key)
        return [_Fields(item, f"{where}[{i}]", self.name) for i, item in enumerate(items)]

    def integer(self, key: str, lo: int, hi: int) -> int:
        value = self._value(key, (int,), f"an integer {lo}-{hi}")
        if not lo <= value <= hi:
            raise self.bad(key, f"must be an integer {lo}-{hi}, got {preview(value, 40)}")
        return value

    def number(self, key: str, *, lo: float = 0.0) -> float:
        value = self._value(key, (int, float), f"a number >= {lo:g}")
        if not (abs(value) <= MAX_SECONDS and lo <= value):  # also NaN; never float() a huge int
            raise self.bad(key, f"must be a number {lo:g}-{MAX_SECONDS:g}, got {preview(value, 40)}")
        return float(value)

    def text(self, key: str, *, most: int = MAX_TEXT_CHARS) -> str:
        value = self._value(key, (str,), "a string")
        if len(value) > most:
            raise self.bad(key, f"must be at most {most} characters, got {len(value)}")
        return value

    def path(self, key: str) -> str:
        """A usable path text."""
        value = self.text(key, most=MAX_PATH_CHARS)
        problem = path_text_problem(value) if value else "is empty"
        if problem is not None:
            raise self.bad(key, f"not a usable path: it {problem}")
        return value

    def optional_path(self, key: str) -> str | None:
        """A usable path text or ``null``."""
        if key in self.data and self.data[key] is None:
            return None
        return self.path(key)

    def choice(self, key: str, options: Sequence[str]) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or value not in options:
            raise self.bad(key, f"must be one of {', '.join(options)}, got {preview(value, 40)}")
        return value

    def fraction(self, key: str, *, example: str, most: Fraction) -> Fraction:
        value = self.data.get(key)
        how = f"must be a fraction like {example}, got {preview(value, 40)}"
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 40:
            raise self.bad(key, how)
        try:
            f = Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            raise self.bad(key, how) from None
        if not 0 < f <= most:
            raise self.bad(key, f"must be > 0 and <= {most}, got {preview(value, 40)}")
        return f

    def mapping(self, key: str) -> dict[str, Any]:
        return self.obj(key).data

    def strings(self, key: str) -> dict[str, str] | None:
        """An optional object of short names to path texts (absent: ``None``)."""
        if key not in self.data:
            return None
        f = self.obj(key)
        for name, value in f.data.items():
            if not 0 < len(name) <= MAX_NAME_CHARS or not name.isprintable():
                raise f.bad("", f"keys must be printable names, got {preview(name, 40)}")
            if not isinstance(value, str) or len(value) > MAX_PATH_CHARS:
                raise f.bad("", f"{preview(name, 40)} must name a path, got {preview(value, 40)}")
        return dict(f.data)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True)
class SegmentSource:
    """Where a segment's frames are in the source: decode-order frame numbers, PTS in
    ``time_base`` units and seconds from the source's first frame (``end_s``: where it ends)."""

    start_frame: int
    last_frame: int
    start_pts: int
    last_pts: int
    time_base: Fraction
    start_s: float
    last_s: float
    end_s: float

    def to_dict(self) -> dict[str, object]:
        return {
            "start_frame": self.start_frame,
            "last_frame": self.last_frame,
            "start_pts": self.start_pts,
            "last_pts": self.last_pts,
            "time_base": str(self.time_base),
            "start_s": self.start_s,
            "last_s": self.last_s,
            "end_s": self.end_s,
        }

    @classmethod
    def read(cls, f: _Fields) -> SegmentSource:
        return cls(
            start_frame=f.integer("start_frame", 0, MAX_FRAMES),
            last_frame=f.integer("last_frame", 0, MAX_FRAMES),
            start_pts=f.integer("start_pts", -MAX_PTS, MAX_PTS),
            last_pts=f.integer("last_pts", -MAX_PTS, MAX_PTS),
            time_base=f.fraction("time_base", example="'1/15360'", most=Fraction(1)),
            start_s=f.number("start_s", lo=-MAX_SECONDS),
            last_s=f.number("last_s", lo=-MAX_SECONDS),
            end_s=f.number("end_s"),
        )


@dataclass(frozen=True)
class SegmentAudio:
    """A segment's audio track: how it was made and its exact length in samples."""

    mode: AudioMode
    rate: int
    samples: int
    duration_s: float

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode.value, "rate": self.rate, "samples": self.samples, "duration_s": self.duration_s
        }

    @classmethod
    def read(cls, f: _Fields) -> SegmentAudio:
        return cls(
            mode=AudioMode(f.choice("mode", [m.value for m in AudioMode])),
            rate=f.integer("rate", 1, MAX_AUDIO_RATE),
            samples=f.integer("samples", 0, MAX_AUDIO_RATE * MAX_SECONDS),
            duration_s=f.number("duration_s"),
        )


@dataclass(frozen=True)
class Segment:
    """One written segment: its file (``bytes`` and ``sha256`` as written), where it sits on the
    output timeline (frames, end exclusive; seconds) and in the source, the transitions inside
    it (segment-relative, as :meth:`preflight.check.shots.Transition.to_dict`), its audio, and the
    request files ``--service`` wrote for it (``requests``: service -> path, or ``None``)."""

    index: int
    file: str
    bytes: int
    sha256: str
    frame_count: int
    duration_s: float
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    source: SegmentSource
    boundary: str
    transitions: tuple[dict[str, Any], ...] = ()
    audio: SegmentAudio | None = None
    requests: dict[str, str] | None = None

    def to_dict(self, anchors: Sequence[PlacedAnchor] = ()) -> dict[str, object]:
        """The document entry; ``anchors`` are the manifest's anchors placed in this segment."""
        doc: dict[str, object] = {
            "index": self.index,
            "file": self.file,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "frame_count": self.frame_count,
            "duration_s": self.duration_s,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "source": self.source.to_dict(),
            "boundary": self.boundary,
            "transitions": copy.deepcopy(list(self.transitions)),
            "anchors": [a.segment_entry() for a in anchors],
            "audio": None if self.audio is None else self.audio.to_dict(),
        }
        if self.requests is not None:
            doc["requests"] = dict(self.requests)
        return doc

    @classmethod
    def read(cls, f: _Fields, *, index: int, start_frame: int) -> Segment:
        """One entry, which must be segment ``index`` starting at output frame ``start_frame``."""
        if f.integer("index", 1, MAX_SEGMENTS) != index:
            raise f.bad("index", f"expected {index} (segments in order), got {preview(f.data['index'], 40)}")
        file = f.text("file", most=MAX_NAME_CHARS)
        if not is_plain_file_name(file):
            why = "must be a plain file name (no folder, no * ? [ ], not . or ..)"
            raise f.bad("file", f"{why}, got {preview(file, 40)}")
        frames = f.integer("frame_count", 1, MAX_FRAMES)
        if f.integer("start_frame", 0, MAX_FRAMES * MAX_SEGMENTS) != start_frame:
            why = f"expected {start_frame} (contiguous segments), got {preview(f.data['start_frame'], 40)}"
            raise f.bad("start_frame", why)
        if f.integer("end_frame", 1, MAX_FRAMES * MAX_SEGMENTS) != start_frame + frames:
            raise f.bad("end_frame", f"expected start_frame + frame_count = {start_frame + frames}")
        sha256 = f.text("sha256", most=64)
        if not _SHA256_RE.fullmatch(sha256):
            raise f.bad("sha256", f"must be 64 lowercase hex digits, got {preview(sha256, 40)}")
        audio = None if f.data.get("audio", 0) is None else SegmentAudio.read(f.obj("audio"))
        return cls(
            index=index, file=file, bytes=f.integer("bytes", 0, MAX_FILE_BYTES), sha256=sha256,
            frame_count=frames, duration_s=f.number("duration_s"), start_frame=start_frame,
            end_frame=start_frame + frames, start_s=f.number("start_s"), end_s=f.number("end_s"),
            source=SegmentSource.read(f.obj("source")), boundary=f.text("boundary"),
            transitions=tuple(t.data for t in f.objects("transitions", most=MAX_FRAMES)),
            audio=audio, requests=f.strings("requests"),
        )


@dataclass(frozen=True)
class ManifestOutput:
    """The output timeline all segments share: size, exact rate, retime factor, length, audio."""

    width: int
    height: int
    fps: Fraction
    fps_float: float
    retime: Fraction
    frame_count: int
    duration_s: float
    audio: AudioMode

    def to_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "fps": str(self.fps),
            "fps_float": self.fps_float,
            "retime": str(self.retime),
            "frame_count": self.frame_count,
            "duration_s": self.duration_s,
            "audio": self.audio.value,
        }

    @classmethod
    def read(cls, f: _Fields) -> ManifestOutput:
        width = f.integer("width", 1, MAX_SIDE)
        height = f.integer("height", 1, MAX_SIDE)
        if width % 2 or height % 2:
            raise f.bad("width/height", f"must be even, got {width}x{height}")
        return cls(
            width=width,
            height=height,
            fps=f.fraction("fps", example="'30' or '30000/1001'", most=Fraction(1000)),
            fps_float=f.number("fps_float"),
            retime=f.fraction("retime", example="'1' or '25/24'", most=Fraction(1000)),
            frame_count=f.integer("frame_count", 1, MAX_FRAMES * MAX_SEGMENTS),
            duration_s=f.number("duration_s"),
            audio=AudioMode(f.choice("audio", [m.value for m in AudioMode])),
        )


@dataclass(frozen=True)
class Manifest:
    """A ``preflight.manifest/1`` document: what ``fix`` wrote and ``join`` reads back.

    ``source`` is the source clip's path; ``probe`` and ``plan`` are the documents of
    :meth:`preflight.media.probe.Probe.to_dict` and :meth:`preflight.fix.plan.Plan.to_dict` as
    plain JSON values. ``anchors`` are every anchor as placed; each segment's entry lists its own.
    ``path`` is where the document was read (``None`` when built); it takes no part in equality.
    """

    tool: str
    source: str
    probe: dict[str, Any]
    profile: str
    plan: dict[str, Any]
    output: ManifestOutput
    segments: tuple[Segment, ...]
    anchors: tuple[PlacedAnchor, ...] = ()
    path: Path | None = field(default=None, compare=False, repr=False)

    @property
    def frame_count(self) -> int:
        """Output frames of all segments together."""
        return sum(s.frame_count for s in self.segments)

    @property
    def crf(self) -> int:
        """The CRF the segments were encoded with (``plan.encoder.crf``)."""
        return int(self.plan["encoder"]["crf"])

    @property
    def preset(self) -> str:
        """The x264 preset the segments were encoded with (``plan.encoder.preset``)."""
        return str(self.plan["encoder"]["preset"])

    def to_json(self) -> str:
        """The file's text: :meth:`to_dict` as indented JSON, the one format manifests are written in."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def to_dict(self) -> dict[str, object]:
        """The document as ``fix`` writes it (:meth:`to_json`)."""
        return {
            "schema": SCHEMA,
            "tool": self.tool,
            "source": {"path": self.source, "probe": copy.deepcopy(self.probe)},
            "profile": self.profile,
            "plan": copy.deepcopy(self.plan),
            "output": self.output.to_dict(),
            "segments": [s.to_dict([a for a in self.anchors if a.segment == s.index]) for s in self.segments],
            "anchors": [a.to_dict() for a in self.anchors],
        }

    @classmethod
    def from_dict(cls, data: Any, *, path: Path | None = None) -> Manifest:
        """Validate a parsed document completely and build it.

        Raises
        ------
        ManifestError
            Naming the first field of the wrong type or value (``path`` names the manifest).
        """
        root = _Fields(data, "", "manifest" if path is None else str(path))
        if data.get("schema") != SCHEMA:
            raise root.bad("schema", f"expected {SCHEMA!r}, got {preview(data.get('schema'), 40)}")
        tool = root.text("tool")
        source = root.obj("source")
        source_path = source.path("path")
        profile = root.text("profile")
        plan = root.obj("plan")
        encoder = plan.obj("encoder")
        encoder.integer("crf", 0, 51)
        encoder.choice("preset", X264_PRESETS)
        output = ManifestOutput.read(root.obj("output"))
        segments = _read_segments(root)
        if output.frame_count != sum(s.frame_count for s in segments):
            raise root.bad("output.frame_count", "must be the sum of the segments' frame_count")
        anchors = tuple(_read_anchor(f, len(segments)) for f in root.objects("anchors", most=MAX_ANCHORS))
        for i, seg in enumerate(segments):
            own = [a.segment_entry() for a in anchors if a.segment == seg.index]
            if data["segments"][i].get("anchors") != own:
                why = f"must list the top-level anchors of segment {seg.index}"
                raise root.bad(f"segments[{i}].anchors", why)
        return cls(
            tool=tool, source=source_path, probe=source.mapping("probe"), profile=profile,
            plan=plan.data, output=output, segments=segments, anchors=anchors, path=path,
        )


def _read_segments(root: _Fields) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    start = 0
    for i, f in enumerate(root.objects("segments", most=MAX_SEGMENTS, least=1)):
        segments.append(Segment.read(f, index=i + 1, start_frame=start))
        start += segments[-1].frame_count
    if len({s.file for s in segments}) != len(segments):
        raise root.bad("segments[].file", "file names must be unique")
    return tuple(segments)


def _read_anchor(f: _Fields, segments: int) -> PlacedAnchor:
    return PlacedAnchor(
        spec=f.text("spec", most=MAX_ANCHOR_CHARS),
        segment=f.integer("segment", 1, segments),
        at=f.choice("at", ANCHOR_PLACES),
        time_s=f.number("time_s"),
        source_time_s=f.number("source_time_s"),
        image=f.optional_path("image"),
    )


def is_plain_file_name(name: str) -> bool:
    """A file name without folder separators, glob characters, control characters, ``.``/``..``."""
    return (
        0 < len(name) <= MAX_NAME_CHARS
        and name not in (".", "..")
        and _FILE_NAME_RE.fullmatch(name) is not None
    )


# --------------------------------------------------------------------------- writing


def build_manifest(
    plan: Plan,
    probe: Probe,
    results: Sequence[SegmentResult],
    names: Sequence[str],
    anchors: Sequence[PlacedAnchor],
) -> Manifest:
    """The manifest of the written segments ``results`` (files ``names``) of ``plan``."""
    fps = plan.rate.fps
    segments = tuple(
        _segment(seg, res, name, plan=plan, probe=probe)
        for seg, res, name in zip(plan.segments, results, names, strict=True)
    )
    frames = sum(r.frame_count for r in results)
    return Manifest(
        tool=f"preflight {__version__}",
        source=str(Path(plan.source).resolve()),
        probe=plain(probe.to_dict()),
        profile=plan.profile,
        plan=plain(plan.to_dict()),
        output=ManifestOutput(
            width=plan.size.width,
            height=plan.size.height,
            fps=Fraction(fps),
            fps_float=round(float(fps), 6),
            retime=Fraction(plan.rate.retime),
            frame_count=frames,
            duration_s=round(float(Fraction(frames) / fps), 6),
            audio=AudioMode(plan.encoder.audio),
        ),
        segments=segments,
        anchors=tuple(replace(a, source_time_s=round(a.source_time_s, 4)) for a in anchors),
    )


def _segment(seg: SegmentPlan, res: SegmentResult, name: str, *, plan: Plan, probe: Probe) -> Segment:
    tb = probe.time_base
    audio = None
    if res.audio_rate:
        audio = SegmentAudio(
            mode=AudioMode(plan.encoder.audio),
            rate=res.audio_rate,
            samples=res.audio_samples,
            duration_s=round(res.audio_samples / res.audio_rate, 6),
        )
    size, digest = file_digest(res.path)  # proof, later, that this tool wrote the file
    return Segment(
        index=seg.index,
        file=name,
        bytes=size,
        sha256=digest,
        frame_count=res.frame_count,
        duration_s=round(float(Fraction(res.frame_count) / plan.rate.fps), 6),
        start_frame=seg.start_frame,
        end_frame=seg.end_frame,
        start_s=round(seg.start_s, 6),
        end_s=round(seg.end_s, 6),
        source=SegmentSource(
            start_frame=res.source_start_frame,
            last_frame=res.source_last_frame,
            start_pts=res.source_start_pts,
            last_pts=res.source_last_pts,
            time_base=Fraction(tb),
            start_s=round(float((res.source_start_pts - probe.start_pts) * tb), 6),
            last_s=round(float((res.source_last_pts - probe.start_pts) * tb), 6),
            end_s=round(seg.source_end_s, 6),
        ),
        boundary=seg.boundary,
        transitions=tuple(plain([t.to_dict() for t in seg.transitions])),
        audio=audio,
    )


# --------------------------------------------------------------------------- reading


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
    return Manifest.from_dict(data, path=path)


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
