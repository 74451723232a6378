"""``preflight fix`` end to end: round trips on generated long / many-cut clips and the shared
real clips, anchors, and every bad input (one-line error, exit code, nothing half-written).

Round trip, per output segment: passes ``preflight check`` (hard rules of the profile), frame
counts add up to the transcoded clip, the first and last frame match the source frame the
manifest names (luma SSIM >= 0.95, Wang et al. 2004 parameters via scikit-image), and the audio
lasts as long as the video within one frame.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

import preflight
from fixtures import long
from fixtures.synth import SHARED_MEDIA
from preflight.check.result import check
from preflight.check.shots import Transition
from preflight.cli.fix import fix_command
from preflight.errors import UsageError
from preflight.fix.anchors import parse_anchor, place_anchors
from preflight.fix.execute import fix_file, run_fix
from preflight.fix.manifest import SCHEMA, load_manifest
from preflight.fix.plan import make_plan
from preflight.fix.plan.segments import frame_limits
from preflight.media.decode import iter_frames, luma_plane
from preflight.media.h264 import annexb_to_length_prefixed
from preflight.media.probe import probe
from preflight.profile import load_profile
from tests.headers import assert_declared_matches_decoded

PROFILE = load_profile("aleph-2")
PRESET = "veryfast"  # B-frames and scene-cut keyframes, as in real use


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255))


def truth_transitions(path: Path, truth: dict) -> list[Transition]:
    """Ground-truth cuts as Transitions, with times from the file's packet timestamps."""
    seconds = frame_seconds(path)
    out = [Transition("cut", c, c, float(seconds[c]), float(seconds[c]), 1.0) for c in truth["cuts"]]
    for kind, spans in (truth.get("gradual") or {}).items():
        name = "dissolve" if kind == "cross_dissolve" else kind
        for a, b in spans:
            out.append(Transition(name, a, b, float(seconds[a]), float(seconds[b]), 1.0))
    return out


def frame_seconds(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        pts = sorted(p.pts for p in c.demux(s) if p.size and p.pts is not None)
        tb = float(s.time_base)
    arr = np.asarray(pts, dtype=np.float64)
    return (arr - arr[0]) * tb


def display_luma(frame: av.VideoFrame, rotation: int, size: tuple[int, int]) -> np.ndarray:
    """Full-resolution luma turned upright and resized to the displayed size ``(w, h)``."""
    y = np.ascontiguousarray(luma_plane(frame))
    if y.dtype != np.uint8:
        y = (y >> 2).astype(np.uint8)
    if rotation:
        y = np.ascontiguousarray(np.rot90(y, k=-(rotation // 90)))
    if (y.shape[1], y.shape[0]) != size:
        y = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    return y


def frames_at(path: Path, indices: set[int], rotation: int, size: tuple[int, int]) -> dict[int, np.ndarray]:
    out = {}
    for i, frame in enumerate(iter_frames(str(path))):
        if i in indices:
            out[i] = display_luma(frame, rotation, size)
        if len(out) == len(indices):
            break
    return out


def first_last(
    path: Path, size: tuple[int, int], pad: tuple[int, int, int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """First and last frame as luma at ``size``, after cutting away the ``pad`` bars (x, y, w, h
    of the picture); the last frame via a seek to its keyframe."""

    def picture(frame: av.VideoFrame) -> np.ndarray:
        y = np.ascontiguousarray(luma_plane(frame))
        if pad is not None:
            x0, y0, w, h = pad
            y = y[y0 : y0 + h, x0 : x0 + w]
        return cv2.resize(y, size, interpolation=cv2.INTER_AREA) if (y.shape[1], y.shape[0]) != size else y

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        first = picture(next(c.decode(s)))
        pts = max(p.pts for p in c.demux(s) if p.pts is not None)
        c.seek(pts, stream=s, backward=True)
        last = None
        for frame in c.decode(s):
            last = frame
        return first, picture(last)


def moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()[:1 << 20]
    m = data.find(b"moov")
    return m != -1 and (data.find(b"mdat") == -1 or m < data.find(b"mdat"))


# --------------------------------------------------------------------------- round trips


def _generated(name):
    return {
        "many_cuts": long.many_cuts,
        "long_take": long.long_take,
        "long_many_cuts": long.long_many_cuts,
        "ntsc_cuts": long.ntsc_cuts,
        "rotated_phone": long.rotated_phone,
    }[name]()


SHARED = {
    "psd_documentary_anamorphic_pal.mp4": "SAR 16:11, 5 cuts, AAC copied",
    "psd_goldeneye_10s.mp4": "rotation 90 (displays 544x1280: padded to 9:16), 23.976 conformed, AAC retimed",
    "psd_goldeneye_vfr_drop3.mp4": "VFR resampled to CFR",
    "psd_testvideo.mp4": "fades and dissolves",
}


def _shared(name):
    path = SHARED_MEDIA / name
    if not path.exists():
        pytest.skip(f"{path} absent (../shared/media is optional)")
    cuts = json.loads((SHARED_MEDIA / "cuts.json").read_text())[name]
    return path, {"cuts": cuts["cuts"], "gradual": cuts["gradual"] or {}}


@pytest.fixture(scope="module")
def out_root(tmp_path_factory):
    return tmp_path_factory.mktemp("fix")


def _aspect(info) -> str | None:
    """Pad clips whose displayed aspect is not conventional (else the editor rejects them)."""
    _name, _ratio, err = PROFILE.nearest_aspect(info.display_aspect)
    return "pad" if err > PROFILE.aspect_tolerance else None


GENERATED = ("many_cuts", "long_take", "long_many_cuts", "ntsc_cuts", "rotated_phone")
ROUND_TRIPS = [*(("gen", n) for n in GENERATED), *(("shared", n) for n in SHARED)]


@pytest.mark.parametrize(("kind", "name"), ROUND_TRIPS, ids=[n for _, n in ROUND_TRIPS])
def test_round_trip(kind, name, out_root):
    """The CLI's executor: one decode (transitions detected on the fly), then the split."""
    src, _truth = _generated(name) if kind == "gen" else _shared(name)
    info = probe(src)
    plan, result = fix_file(str(src), profile=PROFILE, output_dir=out_root / name, preset=PRESET,
                            aspect=_aspect(info))
    if kind == "gen" and name != "rotated_phone":
        assert len(plan.segments) >= 2  # every long / many-cut fixture must be split
    if name == "long_take":
        # The split falls inside a keyframe interval: the GOP around it was re-encoded.
        assert plan.segments[1].start_frame % plan.encoder.gop != 0
    verify_round_trip(src, info, plan, result)


def test_round_trip_direct_executor(out_root):
    """The API executor for known transitions (ground truth here): one decode, one encoder per
    segment. 10 s with 12 cuts and AAC audio: two segments split at a cut."""
    name = "many_cuts_10s"
    src, truth = long.many_cuts(seconds=10, cuts=12)
    info = probe(src)
    plan = make_plan(info, truth_transitions(src, truth), PROFILE, preset=PRESET)
    result = run_fix(plan, probe_result=info, profile=PROFILE, output_dir=out_root / f"direct-{name}")
    verify_round_trip(src, info, plan, result)


def verify_round_trip(src: Path, info, plan, result) -> None:
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["schema"] == SCHEMA and manifest == result.manifest.to_dict()
    assert load_manifest(result.manifest_path) == result.manifest  # the typed model survives the file
    assert len(manifest["segments"]) == len(plan.segments) == len(result.segment_paths)
    fps = plan.fps
    min_f, max_f = frame_limits(fps, PROFILE)
    total = 0
    pairs: list[tuple[int, np.ndarray]] = []  # (source frame index, output luma)
    src_size = (info.display_width, info.display_height)
    out_size = (plan.size.width, plan.size.height)
    pic = (plan.size.scaled_width, plan.size.scaled_height)
    pad = (*plan.size.pad, *pic) if plan.size.pad else None
    # Compare the picture at the smaller of the two sizes (area downscale of the larger).
    cmp_size = pic if pic[0] * pic[1] <= src_size[0] * src_size[1] else src_size
    for seg, entry, path in zip(plan.segments, manifest["segments"], result.segment_paths, strict=True):
        p = probe(path)
        # Hard rules, as the editor will see them.
        assert p.codec == "h264" and p.pix_fmt == "yuv420p" and p.bit_depth == 8
        assert p.sar == 1 and p.rotation == 0 and not p.vfr
        assert (p.width, p.height) == out_size
        assert PROFILE.min_short_side <= p.short_side <= PROFILE.max_short_side
        eps = 1e-6  # the measured rate and duration carry float rounding from integer PTS
        assert PROFILE.min_fps - eps <= p.fps <= PROFILE.max_fps + eps
        assert PROFILE.min_duration_s - eps <= p.duration_s <= PROFILE.max_duration_s + eps
        assert p.frame_count == seg.frame_count == entry["frame_count"]
        assert min_f <= p.frame_count <= max_f
        assert len(entry["transitions"]) <= PROFILE.max_cuts
        assert moov_before_mdat(path)
        # The header as an ingest reads it: durations, average rate and frame count are the frames'.
        assert assert_declared_matches_decoded(path).frames == seg.frame_count
        with av.open(str(path)) as c:
            assert c.streams.video[0].codec_context.profile == "High"
        verdict = check(path, profile=PROFILE)
        errors = [f.message for f in verdict.findings if f.severity == "error"]
        assert verdict.passed, errors
        total += p.frame_count
        # Audio as long as the video, within one frame.
        if info.audio:
            assert p.audio, "audio track lost"
            assert abs(p.audio[0].duration_s - p.duration_s) <= 1 / float(fps) + 1e-6
        else:
            assert not p.audio
        first, last = first_last(path, cmp_size, pad)
        pairs += [(entry["source"]["start_frame"], first), (entry["source"]["last_frame"], last)]
        assert entry["source"]["start_s"] == pytest.approx(seg.source_start_s, abs=0.6 / float(fps))
    assert total == plan.frame_count
    assert manifest["output"]["frame_count"] == plan.frame_count

    # First and last frame of every segment are the source frames the manifest names.
    source = frames_at(src, {i for i, _ in pairs}, info.rotation, cmp_size)
    scores = [ssim(source[i], out_luma) for i, out_luma in pairs]
    assert min(scores) >= 0.95, scores



def test_split_boundaries_follow_the_shots(out_root):
    """many_cuts: the planned boundary is a ground-truth cut and each segment's transitions
    are exactly the ground-truth cuts inside it."""
    src, truth = long.many_cuts()
    info = probe(src)
    plan = make_plan(info, truth_transitions(src, truth), PROFILE, preset=PRESET)
    starts = [s.start_frame for s in plan.segments[1:]]
    assert starts and all(b in truth["cuts"] for b in starts)
    for seg in plan.segments:
        inside = [c for c in truth["cuts"] if seg.start_frame < c < seg.end_frame]
        assert [t.source_start_frame for t in seg.transitions] == inside


def test_ten_bit_input_converted_with_warning(tmp_path):
    src = Path(__file__).resolve().parent.parent / "fixtures" / "media" / "vmaf_sparks_ref_480x270_10bit.y4m"
    info = probe(src)
    # 5 frames is too short for aleph-2; a profile with a tiny minimum duration exercises conversion.
    import dataclasses

    profile = dataclasses.replace(PROFILE, min_duration_s=0.1)
    plan = make_plan(info, [], profile, preset=PRESET)
    assert any("10-bit" in w for w in plan.warnings)
    result = run_fix(plan, probe_result=info, profile=profile, output_dir=tmp_path / "o")
    out = probe(result.segment_paths[0])
    assert out.pix_fmt == "yuv420p" and out.bit_depth == 8 and out.frame_count == 5
    assert_declared_matches_decoded(result.segment_paths[0])
    first, _last = first_last(result.segment_paths[0], (480, 270))
    src_first = frames_at(src, {0}, 0, (480, 270))[0]
    assert ssim(src_first, first) >= 0.95


# --------------------------------------------------------------------------- anchors


def _split_plan():
    """40 s at 30 fps with a cut at 30 s: segments 0-30 s and 30-40 s."""
    from tests.test_plan import make_probe

    t = Transition("cut", 900, 900, 30.0, 30.0, 1.0)
    return make_plan(make_probe(fps=30, frames=1200), [t], PROFILE)


def test_anchor_parsing(tmp_path):
    img = tmp_path / "ref.png"
    img.write_bytes(b"\x89PNG")
    assert parse_anchor("12.5").seconds == 12.5
    assert parse_anchor("first").at == "first"
    a = parse_anchor(f"last={img}")
    assert a.at == "last" and a.image == str(img.resolve())
    for bad in ["abc", "1.2.3", "=x.png", "first=", "-3", "", "12,5", "nan", f"4={tmp_path / 'missing.png'}"]:
        with pytest.raises(UsageError, match="anchor"):
            parse_anchor(bad)


def test_anchor_remapped_into_segment_time():
    plan = _split_plan()
    placed = place_anchors([parse_anchor(x) for x in ["35", "first", "last", "12.344", "29.999"]], plan,
                           max_anchors=5, precision_s=0.01)
    got = {(a.spec, a.segment, a.at, a.time_s) for a in placed}
    assert ("35", 2, "time", 5.0) in got  # the spec's example: 35.00 s lands at 5.00 s of segment 2
    assert ("first", 1, "first", 0.0) in got
    assert ("last", 2, "last", 9.96) in got  # last frame starts at 9.9667 s
    assert ("12.344", 1, "time", 12.34) in got
    assert ("29.999", 1, "time", 29.96) in got  # clamped to the last frame of segment 1


def test_anchor_errors_name_the_culprit():
    plan = _split_plan()
    with pytest.raises(UsageError, match=r"'41'.*outside the clip"):
        place_anchors([parse_anchor("41")], plan, max_anchors=5, precision_s=0.01)
    six = [parse_anchor(str(30 + i)) for i in range(6)]
    with pytest.raises(UsageError, match=r"segment 2 .* 6 anchors .*at most 5"):
        place_anchors(six, plan, max_anchors=5, precision_s=0.01)
    with pytest.raises(UsageError, match="allows no anchors"):
        place_anchors([parse_anchor("3")], plan, max_anchors=0, precision_s=0.01)


# --------------------------------------------------------------------------- CLI and bad input


def small_clip() -> Path:
    return long.rotated_phone()[0]


def run(runner, *args):
    return runner.invoke(fix_command, [*map(str, args)], prog_name="preflight")


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [ln for ln in lines if not ln.startswith("preflight: warning:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("preflight: error: ")
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert "Traceback" not in result.output


def listing(d: Path) -> list[str]:
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*")) if d.exists() else []


def test_cli_fix_dry_run_and_json(runner, tmp_path):
    src = small_clip()
    out = tmp_path / "out"
    r = run(runner, src, "--dry-run", "-o", out, "--quiet")
    assert r.exit_code == 0, r.stderr
    assert "frame rate" in r.stdout and "480x854" in r.stdout
    assert not out.exists()
    r = run(runner, src, "--dry-run", "--json", "--quiet", "-o", out)
    doc = json.loads(r.stdout)
    assert doc["schema"] == "preflight.fix/1" and doc["dry_run"] and doc["files"] is None
    assert doc["plan"]["size"]["width"] == 480 and doc["plan"]["size"]["rotation"] == 90
    assert not out.exists()


def test_cli_fix_writes_and_refuses_to_overwrite(runner, tmp_path):
    src = small_clip()
    out = tmp_path / "out"
    r = run(runner, src, "-o", out, "--preset", PRESET, "--json", "--quiet", "--anchor", "1.5")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    seg = Path(doc["files"]["segments"][0])
    assert seg.exists() and (out / "manifest.json").exists()
    assert oct(seg.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not a private temp file
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["segments"][0]["anchors"][0]["time_s"] == 1.5
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    r = run(runner, src, "-o", out, "--preset", PRESET, "--quiet")
    assert_one_line_error(r, 2, "already exists", "--force")
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    r = run(runner, src, "-o", out, "--preset", PRESET, "--quiet", "--force")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(before)


def test_cli_output_is_the_input(runner, tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(small_clip().read_bytes())
    r = run(runner, src, "-o", src, "--quiet")
    assert_one_line_error(r, 2, "input file")
    assert listing(tmp_path) == ["clip.mp4"]


def test_cli_output_dir_not_writable(runner, tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/1")  # root bypasses permission bits; procfs refuses new files
        if not target.is_dir():
            pytest.skip("no /proc")
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    r = run(runner, small_clip(), "-o", target / "out", "--quiet")
    assert_one_line_error(r, 2, "not writable")
    assert not (target / "out").exists()


@pytest.mark.parametrize(
    ("anchor", "needle"),
    [("abc", "expected TIME|first|last"), ("3=", "expected"), ("99", "outside the clip"),
     ("first=missing.png", "not a file")],
)
def test_cli_bad_anchor(runner, tmp_path, anchor, needle):
    out = tmp_path / "out"
    r = run(runner, small_clip(), "-o", out, "--anchor", anchor, "--quiet")
    assert_one_line_error(r, 2, needle)
    assert not out.exists()


def test_cli_too_many_anchors(runner, tmp_path):
    out = tmp_path / "out"
    args = [a for t in ("0.5", "1", "1.5", "2", "2.5", "3") for a in ("--anchor", t)]
    r = run(runner, small_clip(), "-o", out, *args, "--quiet")
    assert_one_line_error(r, 2, "segment 1", "6 anchors")
    assert not out.exists()


def test_cli_no_valid_plan_exit_1(runner, tmp_path):
    src = long.shots_clip("short_take", [30], fps=30)[0]  # 1 s < 2 s minimum
    out = tmp_path / "out"
    r = run(runner, src, "-o", out, "--quiet")
    assert_one_line_error(r, 1, "no valid plan", "shorter than the profile minimum")
    assert not out.exists()


def test_cli_unreadable_input_exit_3(runner, tmp_path):
    bad = tmp_path / "notvideo.mp4"
    bad.write_text("hello")
    out = tmp_path / "out"
    r = run(runner, bad, "-o", out, "--quiet")
    assert_one_line_error(r, 3, "notvideo.mp4")
    assert not out.exists()


def test_cli_bad_crf_exit_2(runner, tmp_path):
    r = run(runner, small_clip(), "-o", tmp_path / "out", "--crf", "60", "--quiet")
    assert_one_line_error(r, 2, "--crf")


@pytest.mark.parametrize(
    ("existing_dir", "stage"), [(False, "pass"), (True, "pass"), (False, "split"), (True, "split")]
)
def test_failure_leaves_nothing(runner, tmp_path, monkeypatch, existing_dir, stage):
    """A failure while encoding (the single pass) or while cutting segment 2 (the split) removes
    every temporary file, the intermediate stream, and the output directory if fix created it."""
    import preflight.fix.execute as tc

    src, _ = long.many_cuts(seconds=10, cuts=12)  # two segments
    out = tmp_path / "out"
    if existing_dir:
        out.mkdir()
        (out / "keep.txt").write_text("user file")
    count = {"n": 0}

    def disk_full_after(n, real):
        def wrapper(*args, **kwargs):
            count["n"] += 1
            if count["n"] > n:
                raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        return wrapper

    if stage == "pass":
        monkeypatch.setattr(tc, "prepare_frame", disk_full_after(200, tc.prepare_frame))
    else:
        patched = disk_full_after(200, tc.SegmentWriter.write_packet)
        monkeypatch.setattr(tc.SegmentWriter, "write_packet", patched)
    r = run(runner, src, "-o", out, "--preset", "ultrafast", "--quiet")
    assert r.exit_code != 0
    errors = [ln for ln in r.stderr.strip().splitlines() if "error" in ln]
    assert len(errors) == 1 and "No space left" in errors[0]
    assert count["n"] > 200
    assert listing(out) == (["keep.txt"] if existing_dir else [])
    assert listing(tmp_path) == (["out", "out/keep.txt"] if existing_dir else [])


def test_splice_fallback_still_writes_valid_segments(tmp_path, monkeypatch):
    """Should a re-encoded GOP ever not fit the intermediate stream, fix encodes the segments
    directly instead (one more decode) and says so."""
    import preflight.fix.execute as tc

    def refuse(*_args, **_kwargs):
        raise tc.SpliceError("re-encoded GOP has other SPS/PPS than the intermediate stream")

    monkeypatch.setattr(tc, "split_intermediate", refuse)
    src, _ = long.many_cuts(seconds=10, cuts=12)
    warnings: list[str] = []
    plan, result = fix_file(str(src), profile=PROFILE, output_dir=tmp_path / "o", preset="ultrafast",
                            on_warning=warnings.append)
    assert any("directly" in w for w in warnings)
    assert [probe(p).frame_count for p in result.segment_paths] == [s.frame_count for s in plan.segments]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(
        [p.name for p in result.segment_paths] + ["manifest.json"]
    )


def test_annexb_to_length_prefixed():
    sps, pps = b"\x67\x64\x00\x1f", b"\x68\xee\x3c\x80"
    sei, idr = b"\x06\x05\x01\x80", b"\x65\x88\x84\x00\x03\x21"
    four, three = b"\x00\x00\x00\x01", b"\x00\x00\x01"
    annexb = four + sps + four + pps + three + sei + four + idr
    out = annexb_to_length_prefixed(annexb)
    assert out == len(sei).to_bytes(4, "big") + sei + len(idr).to_bytes(4, "big") + idr


def test_vfr_frame_mapping_is_by_time(tmp_path):
    """A VFR clip (every 3rd frame of a 30 fps pan dropped) becomes CFR: each output frame shows
    the source frame on screen at its time, so the output has duration * fps frames."""
    from fixtures.synth import cached_clip, write_clip

    keep = [i for i in range(120) if i % 3 != 2]

    def build(path):
        frames = list(long.shot_frames(0, 120))
        write_clip(path, (frames[i] for i in keep), fps=30, pts=keep, time_base=Fraction(1, 30))

    src = cached_clip("vfr_drop3_pan", {"keep": len(keep), "src": long._source_digest()}, build)
    info = probe(src)
    assert info.vfr
    plan = make_plan(info, [], PROFILE, preset=PRESET)
    assert plan.rate.mode == "resample"
    result = run_fix(plan, probe_result=info, profile=PROFILE, output_dir=tmp_path / "o")
    out = probe(result.segment_paths[0])
    assert out.frame_count == plan.frame_count == round(info.duration_s * float(plan.fps))
    assert not out.vfr


def test_force_removes_the_segments_of_the_replaced_manifest(runner, tmp_path):
    """A split run, then an unsplit --force run into the same directory: no stale segments stay."""
    src = small_clip()  # 6 s, cut at 3 s
    strict = tmp_path / "max4s.toml"
    text = (Path(preflight.__file__).parent / "profiles" / "aleph-2.toml").read_text()
    strict.write_text(text.replace("max_s = 30.0", "max_s = 4.0"))
    out = tmp_path / "out"
    r = run(runner, src, "-o", out, "--preset", PRESET, "--quiet", "--profile", strict)
    assert r.exit_code == 0, r.stderr
    split = sorted(p.name for p in out.glob("*.mp4"))
    assert len(split) == 2 and all("_seg0" in n for n in split)
    keep = out / "notes.txt"  # not ours: must survive
    keep.write_text("mine")
    r = run(runner, src, "-o", out, "--preset", PRESET, "--force")  # not --quiet: it hides warnings
    assert r.exit_code == 0, r.stderr
    assert "removed 2 segment file(s) of the replaced manifest" in r.stderr
    doc = json.loads((out / "manifest.json").read_text())
    assert sorted(p.name for p in out.glob("*.mp4")) == [seg["file"] for seg in doc["segments"]]
    assert len(doc["segments"]) == 1 and keep.read_text() == "mine"


def test_fixed_size_profile_output_passes_its_own_check(runner, tmp_path):
    """gen4-aleph renders fixed sizes only: fix must deliver one, so check has nothing to say."""
    src = small_clip()  # displays 480x854 (9:16)
    out = tmp_path / "out"
    r = run(runner, src, "-o", out, "--preset", PRESET, "--json", "--profile", "gen4-aleph")
    assert r.exit_code == 0, r.stderr
    assert "upscaled to 720x1280" in r.stderr  # nearest 9:16 size in area is 720x1280
    seg = Path(json.loads(r.stdout)["files"]["segments"][0])
    gen4 = load_profile("gen4-aleph")
    verdict = check(str(seg), profile=gen4)
    assert (verdict.analysis.probe.display_width, verdict.analysis.probe.display_height) == (720, 1280)
    assert [f.id for f in verdict.findings if f.severity == "error" or f.id == "output_size"] == []


def test_interlaced_source_is_deinterlaced(tmp_path):
    """fix runs bwdif on an interlaced source: a progressive output that no longer combs."""
    from fixtures.container import interlaced_clip
    from tests.test_deinterlace import combing

    src, truth = interlaced_clip()
    plan, result = fix_file(str(src), profile=PROFILE, output_dir=tmp_path / "out", preset=PRESET)
    assert plan.encoder.deinterlace == "tff" and "bwdif" in plan.encoder.reason
    assert not any("interlaced" in w for w in plan.warnings)
    out = result.segment_paths[0]
    assert not probe(str(out)).interlaced
    src_comb = np.mean([combing(luma_plane(f)) for f in iter_frames(str(src))])
    out_comb = np.mean([combing(luma_plane(f)) for f in iter_frames(str(out))])
    assert out_comb < 0.5 * src_comb, (out_comb, src_comb)
    assert sum(1 for _ in iter_frames(str(out))) == truth["frames"]
