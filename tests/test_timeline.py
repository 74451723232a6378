"""Timeline export: ``fix`` writes segments.otio (and an EDL), ``check --otio`` shots and transitions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction
from types import SimpleNamespace

import opentimelineio as otio
import pytest

from fixtures.long import shots_clip
from preflight.check.shots import Transition
from preflight.check.verdict import Finding
from preflight.fix.manifest import load_manifest
from preflight.fix.plan import source_rate
from preflight.media.probe import probe
from preflight.timeline import check_timeline, segments_timeline
from tests.services_util import load_json, one_line_error, preflight, small_profile

NTSC = Fraction(24000, 1001)


def clip_ranges(tl: otio.schema.Timeline) -> list[otio.opentime.TimeRange]:
    (track,) = tl.tracks
    return [c.source_range for c in track if isinstance(c, otio.schema.Clip)]


def total(ranges) -> otio.opentime.RationalTime:
    out = otio.opentime.RationalTime(0, ranges[0].duration.rate)
    for r in ranges:
        out += r.duration
    return out


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """A 30 s clip at 24000/1001 in three shots, fixed into segments of at most 12 s with an EDL."""
    tmp = tmp_path_factory.mktemp("timeline")
    clip, truth = shots_clip("timeline_ntsc", [240, 240, 239], fps=NTSC, size=(320, 180))
    out = tmp / "out"
    r = preflight(
        "fix",
        clip,
        "-o",
        out,
        "--profile",
        small_profile(tmp, max_s=12),
        "--preset",
        "ultrafast",
        "--quiet",
        "--edl",
        "--anchor",
        "12.5",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    return clip, truth, out


def test_segments_otio_tiles_the_source_exactly(fixed):
    _clip, truth, out = fixed
    tl = otio.adapters.read_from_file(str(out / "segments.otio"))
    assert tl.metadata["preflight"]["rate"] == "24000/1001"
    ranges = clip_ranges(tl)
    manifest = load_json(out / "manifest.json")
    assert len(ranges) == len(manifest["segments"]) >= 3
    assert all(r.duration.rate == float(NTSC) for r in ranges)
    assert total(ranges) == otio.opentime.RationalTime(truth["frame_count"], float(NTSC))
    assert ranges[0].start_time.value == 0
    for a, b in itertools.pairwise(ranges):
        assert a.end_time_exclusive() == b.start_time
    markers = [m for c in tl.tracks[0] for m in c.markers]
    assert len(markers) == 1 and markers[0].marked_range.start_time.value == round(Fraction("12.5") * NTSC)


def test_edl_round_trips(fixed):
    _, _, out = fixed
    tl = otio.adapters.read_from_file(str(out / "segments.otio"))
    back = otio.adapters.read_from_file(str(out / "segments.edl"), rate=float(NTSC))
    want = [(r.start_time.value, r.duration.value) for r in clip_ranges(tl)]
    got = [(r.start_time.to_frames(), r.duration.to_frames()) for r in clip_ranges(back)]
    assert got == want
    names = [c.name for c in back.tracks[0] if isinstance(c, otio.schema.Clip)]
    assert names == [c.name for c in tl.tracks[0]]


def test_known_edl_reads_back(tmp_path):
    """The writer against a hand-written CMX 3600 EDL of the same two events (24 fps)."""
    known = (
        "TITLE: known\n\n"
        "001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
        "* FROM CLIP NAME:  a.mp4\n\n"
        "002  AX       V     C        00:00:01:00 00:00:02:12 00:00:01:00 00:00:02:12\n"
        "* FROM CLIP NAME:  b.mp4\n"
    )
    tl = otio.adapters.read_from_string(known, "cmx_3600", rate=24)
    assert [(r.start_time.to_frames(), r.duration.to_frames()) for r in clip_ranges(tl)] == [
        (0, 24),
        (24, 36),
    ]
    written = otio.adapters.write_to_string(tl, "cmx_3600")
    again = otio.adapters.read_from_string(written, "cmx_3600", rate=24)
    assert [r.duration.to_frames() for r in clip_ranges(again)] == [24, 36]
    assert "00:00:01:00 00:00:02:12" in written


def test_edl_needs_a_timecode_rate(tmp_path):
    clip = shots_clip("services_one_shot_12", [120], fps=10, size=(320, 180))[0]
    r = preflight("fix", clip, "-o", tmp_path / "o", "--profile", small_profile(tmp_path), "--edl", "--quiet")
    one_line_error(r, 2, "--edl", "10 fps")
    assert not (tmp_path / "o").exists()


def test_segments_timeline_from_a_manifest(fixed):
    """The clips start at each segment's first source frame and tile the source to its end."""
    clip, _truth, out = fixed
    info = probe(str(clip))
    assert source_rate(info) == NTSC
    manifest = load_manifest(out / "manifest.json")
    first, second = manifest.segments[:2]
    moved = replace(
        manifest,
        segments=(first, replace(second, source=replace(second.source, start_frame=100))),
        anchors=(),
    )
    ranges = clip_ranges(segments_timeline(moved, info))
    assert [(r.start_time.value, r.duration.value) for r in ranges] == [(0, 100), (100, 619)]


def test_check_timeline_cuts_transitions_and_findings(fixed):
    clip, _, _ = fixed
    info = probe(str(clip))
    r = float(NTSC)
    cut = Transition("cut", 240, 240, 10.0, 10.0, 1.0)
    dissolve = Transition("dissolve", 470, 489, 19.6, 20.4, 0.9)
    result = SimpleNamespace(
        analysis=SimpleNamespace(probe=info, frame_count=719, transitions=(dissolve, cut)),
        findings=(Finding("cuts", "warning", 2, 1, "two cuts", "split"),),
        profile=SimpleNamespace(name="aleph-2"),
    )
    tl = check_timeline(result)
    items = list(tl.tracks[0])
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Clip", "Clip", "Transition", "Clip"]
    ranges = clip_ranges(tl)
    assert [(x.start_time.value, x.duration.value) for x in ranges] == [(0, 240), (240, 240), (480, 239)]
    assert total(ranges) == otio.opentime.RationalTime(719, r)
    t = items[2]
    assert (t.in_offset.value, t.out_offset.value) == (10, 10)  # 470..489 split at 480
    assert [m.name for m in tl.tracks[0].markers] == ["cuts"]


def test_check_otio_cli(fixed, tmp_path):
    clip, truth, _ = fixed
    path = tmp_path / "check.otio"
    r = preflight("check", clip, "--otio", path, "--quiet", "--profile", small_profile(tmp_path, max_s=12))
    assert r.exit_code in (0, 1), r.stderr
    tl = otio.adapters.read_from_file(str(path))
    ranges = clip_ranges(tl)
    assert len(ranges) == 3
    assert total(ranges) == otio.opentime.RationalTime(truth["frame_count"], float(NTSC))
