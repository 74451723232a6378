"""Every writer's output read as an ingest reads it: the header must declare what the frames are.

The writers (``fix`` single pass with its GOP copy and boundary re-encodes, the direct executor,
``join`` with edited or source audio; deinterlaced and tone-mapped sources go through the same
writers) run over the fixture matrix: 25, 29.97, 30, 50 -> 25, 60 -> 30 fps, VFR -> CFR,
23.976 conformed to 24, an odd size, interlaced, HDR, with and without audio. A short profile
(segments of at most 2.5 s) forces splits, so segment boundaries fall at cuts and inside GOPs.

Then ``preflight check`` against files whose header lies (the last packet's duration wrong, as the
old muxer wrote it) and honest ones.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from pathlib import Path

import pytest

from fixtures import container
from preflight.check.result import check
from preflight.fix import splice
from preflight.fix.execute import fix_file, run_fix
from preflight.fix.join import run_join
from preflight.fix.plan import make_plan
from preflight.media.probe import probe
from preflight.profile import load_profile
from tests.headers import assert_declared_matches_decoded, read_header

PROFILE = load_profile("aleph-2")
SHORT = dataclasses.replace(PROFILE, min_duration_s=0.5, max_duration_s=2.5)
PRESET = "veryfast"  # B-frames (pyramid) and scene-cut keyframes, as in real use

SOURCES = {
    "25fps_audio": lambda: container.rate_clip(25, audio=True),
    "29.97fps": lambda: container.rate_clip(Fraction(30000, 1001), audio=False),
    "30fps_audio": lambda: container.rate_clip(30, audio=True),
    "50fps_to_25": lambda: container.rate_clip(50, audio=False),
    "60fps_to_30_audio": lambda: container.rate_clip(60, audio=True),
    "23.976_conform_24_audio": lambda: container.rate_clip(Fraction(24000, 1001), audio=True),
    "vfr": container.vfr_clip,
    "odd_642x322": container.odd_size_clip,
    "interlaced": container.interlaced_clip,
    "hdr_pq": lambda: container.hdr_clip("pq", (0.1, 0.4, 0.7)),
}


@pytest.fixture(scope="module")
def out_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("headers")


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_writer_declares_what_it_wrote(name, out_root):
    src, _truth = SOURCES[name]()
    info = probe(src)
    # `preflight fix`: single pass, then GOP copy / boundary re-encode per segment.
    _plan, fixed = fix_file(str(src), profile=SHORT, output_dir=out_root / f"{name}-fix", preset=PRESET)
    # The direct executor (known transitions: none here, so boundaries fall inside shots).
    plan = make_plan(info, [], SHORT, preset=PRESET)
    direct = run_fix(plan, probe_result=info, profile=SHORT, output_dir=out_root / f"{name}-direct")
    written = [*fixed.segment_paths, *direct.segment_paths]
    manifest = fixed.manifest_path
    written.append(run_join(manifest, manifest.parent, out_root / f"{name}-join.mp4").output)
    if info.audio:
        joined = run_join(manifest, manifest.parent, out_root / f"{name}-join-src.mp4", source_audio=True)
        written.append(joined.output)
    assert len(written) >= 3
    for path in written:
        h = assert_declared_matches_decoded(path)
        assert bool(probe(path).audio) == bool(info.audio), path
        print(f"{name} {Path(path).name}: {h.describe()}")  # pytest -s


def test_boundary_reencode_splices_keep_the_rate(out_root, monkeypatch):
    """60 -> 30 fps, a cut at 2 s (output frame 60, where x264 puts a keyframe), segments of at
    most 2.5 s, and the boundary moved one frame past the cut: the first segment then ends with a
    one-frame piece of the next GOP, re-encoded alone. That encoder has no B-frame delay while the
    copied GOPs have two frames of it; the writer must still lay the decode times out evenly
    (taking each piece's own DTS made one MP4 sample three frames long: 60 frames declared
    29.03 FPS). The boundary is moved by the test, not left to x264's keyframe choices."""
    import dataclasses

    from preflight.fix import plan as plan_module

    chunks = []
    original = splice._reencode
    make_plan = plan_module.make_plan

    def spy(src, gop, first, end, *args, **kwargs):
        chunks.append(end - first)
        return original(src, gop, first, end, *args, **kwargs)

    def one_frame_late(*args, **kwargs):
        plan = make_plan(*args, **kwargs)
        if len(plan.segments) != 2:
            return plan
        a, b = plan.segments
        step = 1 / float(plan.rate.fps)
        a = dataclasses.replace(a, end_frame=a.end_frame + 1, end_s=a.end_s + step)
        b = dataclasses.replace(b, start_frame=b.start_frame + 1, start_s=b.start_s + step)
        return dataclasses.replace(plan, segments=(a, b))

    monkeypatch.setattr(splice, "_reencode", spy)
    monkeypatch.setattr(plan_module, "make_plan", one_frame_late)
    src, _truth = container.rate_clip(60, audio=True, seconds=10 / 3)
    plan, fixed = fix_file(str(src), profile=SHORT, output_dir=out_root / "splice", preset=PRESET)
    assert [s.start_frame for s in plan.segments] == [0, 61]
    # A short piece (x264 puts its keyframe at the cut or a few frames before it: 1-3 frames seen,
    # varying between runs) is re-encoded next to copied GOPs that have another B-frame delay.
    assert chunks and min(chunks) <= 8, f"no short boundary piece was re-encoded: {chunks}"
    for path in fixed.segment_paths:
        assert_declared_matches_decoded(path)


# --------------------------------------------------------------------------- the helper itself


def test_helper_rejects_a_lying_header():
    src, _ = container.rate_clip(30, audio=False)
    assert_declared_matches_decoded(src)
    lying, truth = container.lying_header_clip(src, 0.1)
    h = read_header(lying)
    assert h.decoded_frames == h.frames == truth["frames"]
    assert h.decoded_s == pytest.approx(truth["decoded_s"])
    with pytest.raises(AssertionError, match="declared container"):
        assert_declared_matches_decoded(lying)


# --------------------------------------------------------------------------- preflight check


def _header_findings(path: Path) -> dict[str, tuple[str, object]]:
    result = check(path, profile=PROFILE)
    return {f.id: (f.severity, f.value) for f in result.findings if f.id.startswith("header_")}


@pytest.mark.parametrize(
    ("last_s", "duration", "rate"),
    [
        (0.2, "warning", "warning"),  # ~4.15 s at ~29 FPS: both inside the profile
        (17.0, "warning", "error"),  # ~21 s is allowed, ~5.7 FPS is not
        (40.0, "error", "error"),  # ~44 s beyond the 30 s maximum
    ],
)
def test_check_flags_a_lying_header(last_s, duration, rate):
    src, _ = container.rate_clip(30, audio=False)
    lying, truth = container.lying_header_clip(src, last_s)
    h = read_header(lying)
    found = _header_findings(lying)
    assert set(found) == {"header_duration", "header_frame_rate"}, found
    assert found["header_duration"] == (duration, pytest.approx(h.stream_s))
    assert found["header_frame_rate"] == (rate, pytest.approx(float(h.average_rate), abs=1e-3))
    result = check(lying, profile=PROFILE)
    f = next(f for f in result.findings if f.id == "header_duration")
    assert f.limit == pytest.approx(truth["decoded_s"]) and "preflight fix" in f.hint
    doc = json.loads(json.dumps(result.to_dict()))
    assert [x["id"] for x in doc["findings"] if x["id"].startswith("header_")] == list(
        x.id for x in result.findings if x.id.startswith("header_"))


@pytest.mark.parametrize("name", ["25fps_audio", "29.97fps", "vfr", "odd_642x322"])
def test_check_is_silent_on_honest_headers(name):
    src, _ = SOURCES[name]()
    assert not _header_findings(src)


def test_check_passes_what_fix_wrote(out_root):
    """The old muxer's outputs would fail here (30 s declared at 8 FPS); fix's outputs now pass."""
    src, _ = container.rate_clip(25, audio=True)
    _plan, fixed = fix_file(str(src), profile=SHORT, output_dir=out_root / "checked", preset=PRESET)
    for path in fixed.segment_paths:
        assert not _header_findings(path)
