"""The typed manifest model (:class:`preflight.fix.manifest.Manifest`): ``to_dict`` and
``from_dict`` are inverses, the golden manifest survives the model byte for byte, and hostile
documents give the project's one-line error, never a traceback."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import manifest_doc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from properties import PATH_TEXT, check_contract

from preflight.errors import path_text_problem
from preflight.fix.anchors import ANCHOR_PLACES, PlacedAnchor
from preflight.fix.manifest import (
    Manifest,
    ManifestError,
    ManifestOutput,
    Segment,
    SegmentAudio,
    SegmentSource,
    is_plain_file_name,
    manifest_from_text,
)
from preflight.fix.plan import X264_PRESETS, AudioMode

GOLDEN = Path(__file__).parent / "golden" / "fix_cuts_manifest.json"
DIGEST = "0123456789abcdef" * 4
GOLDEN_TEXT = (  # the golden file holds placeholders for the encoded files' size and digest
    GOLDEN.read_text(encoding="utf-8").replace('"<SHA256>"', f'"{DIGEST}"').replace('"<BYTES>"', "12345")
)
SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SECONDS = st.floats(min_value=0, max_value=1e9, allow_nan=False)
SIGNED_SECONDS = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
FRAMES = st.integers(min_value=0, max_value=10**8)
TEXT = st.text(max_size=30)
JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False), TEXT,
)
JSON = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
OBJECT = st.dictionaries(TEXT, JSON, max_size=4)
PATHS = st.text(min_size=1, max_size=40).filter(lambda t: path_text_problem(t) is None)
RATES = st.fractions(min_value=Fraction(1, 1000), max_value=1000, max_denominator=100_000)


@st.composite
def segments(draw: st.DrawFn, count: int) -> tuple[Segment, ...]:
    names = draw(st.lists(st.text(min_size=1, max_size=20).filter(is_plain_file_name), min_size=count,
                          max_size=count, unique=True))
    out: list[Segment] = []
    start = 0
    for i, name in enumerate(names):
        frames = draw(st.integers(min_value=1, max_value=10**6))
        audio = draw(st.none() | st.builds(
            SegmentAudio, mode=st.sampled_from(AudioMode), rate=st.integers(1, 768_000),
            samples=st.integers(0, 10**9), duration_s=SECONDS,
        ))
        out.append(Segment(
            index=i + 1, file=name, bytes=draw(st.integers(0, 2**53)),
            sha256=draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
            frame_count=frames, duration_s=draw(SECONDS), start_frame=start, end_frame=start + frames,
            start_s=draw(SECONDS), end_s=draw(SECONDS),
            source=SegmentSource(
                start_frame=draw(FRAMES), last_frame=draw(FRAMES),
                start_pts=draw(st.integers(-(2**62), 2**62)), last_pts=draw(st.integers(-(2**62), 2**62)),
                time_base=draw(RATES.filter(lambda f: f <= 1)), start_s=draw(SIGNED_SECONDS),
                last_s=draw(SIGNED_SECONDS), end_s=draw(SECONDS),
            ),
            boundary=draw(TEXT), transitions=tuple(draw(st.lists(OBJECT, max_size=2))), audio=audio,
            requests=draw(st.none() | st.dictionaries(
                st.text(min_size=1, max_size=10).filter(str.isprintable), TEXT, max_size=2)),
        ))
        start += frames
    return tuple(out)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    segs = draw(segments(draw(st.integers(min_value=1, max_value=4))))
    anchors = draw(st.lists(st.builds(
        PlacedAnchor, spec=TEXT, segment=st.integers(1, len(segs)), at=st.sampled_from(ANCHOR_PLACES),
        time_s=SECONDS, source_time_s=SECONDS.map(lambda s: round(s, 4)), image=st.none() | PATHS,
    ), max_size=4))
    plan = draw(OBJECT)
    plan["encoder"] = {"crf": draw(st.integers(0, 51)), "preset": draw(st.sampled_from(X264_PRESETS))}
    width, height = (2 * draw(st.integers(1, 8192)) for _ in range(2))
    output = ManifestOutput(
        width=width, height=height, fps=draw(RATES), fps_float=draw(SECONDS), retime=draw(RATES),
        frame_count=sum(s.frame_count for s in segs), duration_s=draw(SECONDS),
        audio=draw(st.sampled_from(AudioMode)),
    )
    return Manifest(tool=draw(TEXT), source=draw(PATHS), probe=draw(OBJECT), profile=draw(TEXT), plan=plan,
                    output=output, segments=segs, anchors=tuple(anchors))


@SETTINGS
@given(manifests())
def test_from_dict_inverts_to_dict(manifest: Manifest) -> None:
    doc = manifest.to_dict()
    assert Manifest.from_dict(doc) == manifest
    text = json.dumps(doc, indent=2, allow_nan=False)
    assert manifest_from_text(text, path=Path("m.json")) == manifest  # through JSON text, as join reads it
    assert doc == manifest.to_dict()  # to_dict hands out copies: the model cannot be changed through them


def test_the_golden_manifest_survives_the_model_byte_for_byte() -> None:
    text = GOLDEN_TEXT
    manifest = manifest_from_text(text, path=GOLDEN)
    assert json.dumps(manifest.to_dict(), indent=2, allow_nan=False) + "\n" == text
    assert manifest.output.fps == 30 and manifest.frame_count == 240 and len(manifest.segments) > 1
    encoder = manifest.plan["encoder"]
    assert (manifest.crf, manifest.preset) == (encoder["crf"], encoder["preset"])


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a JSON document."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


GOLDEN_DOC = json.loads(GOLDEN_TEXT)
GOLDEN_PATHS = [p for p in _paths(GOLDEN_DOC) if p[:2] not in (("source", "probe"), ("plan", "rate"))]
HOSTILE = st.one_of(
    JSON_SCALAR, PATH_TEXT, st.lists(JSON_SCALAR, max_size=3), OBJECT,
    st.integers(min_value=10**30, max_value=10**400), st.sampled_from([float("nan"), float("inf")]),
)


@st.composite
def hostile_documents(draw: st.DrawFn) -> Any:
    """The golden manifest with one to three values replaced or removed, or anything at all."""
    doc = copy.deepcopy(GOLDEN_DOC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(GOLDEN_PATHS))
        holder: Any = doc
        try:
            for step in path[:-1]:
                holder = holder[step]
            if draw(st.booleans()) and isinstance(holder, dict):
                holder.pop(path[-1], None)
            else:
                holder[path[-1]] = draw(HOSTILE)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the way there
            continue
    return doc


@settings(SETTINGS, max_examples=2000)
@given(st.one_of(hostile_documents(), JSON, HOSTILE))
def test_hostile_documents_give_the_project_error(doc: Any) -> None:
    manifest = check_contract(Manifest.from_dict, doc, path=Path("hostile.json"))
    if manifest is not None:  # accepted: then it is a manifest join can use, and it round-trips
        assert manifest.output.width % 2 == 0 and all(is_plain_file_name(s.file) for s in manifest.segments)
        assert Manifest.from_dict(manifest.to_dict()) == manifest


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d["segments"][0].pop("sha256"), "segments[0].sha256: must be a string, got nothing"),
        (lambda d: d["segments"][1].update(start_frame=7), "segments[1].start_frame: expected 50"),
        (lambda d: d["segments"][0]["source"].update(time_base="1/0"), "segments[0].source.time_base"),
        (lambda d: d["output"].update(frame_count=99), "output.frame_count: must be the sum"),
        (lambda d: d["output"].update(audio="mp3"), "output.audio: must be one of none, copy, aac"),
        (lambda d: d.update(anchors=[{"spec": "first", "segment": 3, "at": "first", "time_s": 0.0,
                                      "source_time_s": 0.0, "image": None}]), "anchors[0].segment"),
        (lambda d: d["segments"][0].update(anchors=[{"at": "first"}]), "segments[0].anchors: must list"),
        (lambda d: d["segments"][0].update(requests={"x\n": "r.json"}), "segments[0].requests: keys"),
    ],
    ids=["missing-sha", "gap", "time-base", "frame-sum", "audio-mode", "anchor-segment", "segment-anchors",
         "request-key"],
)
def test_errors_name_the_field_and_say_what_is_expected(change, needle) -> None:
    doc = manifest_doc(count=2)
    change(doc)
    with pytest.raises(ManifestError) as info:
        Manifest.from_dict(doc, path=Path("m.json"))
    message = str(info.value)
    assert message.startswith("m.json: field ") and needle in message and "\n" not in message, message
