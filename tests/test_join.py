"""``preflight join``: split -> join reproduces the transcoded whole; edited segments at another
rate/size are conformed; mismatched, missing or nonsense inputs are refused with one line and
nothing written."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from fixtures import long
from fixtures.synth import write_clip
from preflight.check.shots import Transition
from preflight.cli.fix import join_command
from preflight.fix.execute import run_fix
from preflight.fix.plan import make_plan
from preflight.media.decode import iter_frames, luma_plane
from preflight.media.probe import probe
from preflight.profile import load_profile
from tests.headers import assert_declared_matches_decoded

PROFILE = load_profile("aleph-2")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255))


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> Path:
    """10 s with 12 cuts and AAC audio, fixed into 2 segments; returns the output directory."""
    src, truth = long.many_cuts(seconds=10, cuts=12)
    info = probe(src)
    trans = [Transition("cut", c, c, c / 30, c / 30, 1.0) for c in truth["cuts"]]
    plan = make_plan(info, trans, PROFILE, preset="ultrafast")
    out = tmp_path_factory.mktemp("join") / "fixed"
    result = run_fix(plan, probe_result=info, profile=PROFILE, output_dir=out)
    for path in result.segment_paths:
        assert_declared_matches_decoded(path)
    return out


def manifest_of(d: Path) -> dict:
    return json.loads((d / "manifest.json").read_text())


def run(runner, *args):
    return runner.invoke(join_command, [*map(str, args)], prog_name="preflight")


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    lines = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith("preflight: warning:")]
    assert len(lines) == 1 and lines[0].startswith("preflight: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.output


def lumas(path: Path, scale: float = 1.0):
    for frame in iter_frames(str(path)):
        y = np.ascontiguousarray(luma_plane(frame))
        if scale != 1.0:
            size = (round(y.shape[1] * scale), round(y.shape[0] * scale))
            y = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
        yield y


def test_split_join_reproduces_the_transcoded_whole(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", fixed, "-o", out, "--json", "--quiet")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    total = m["output"]["frame_count"]
    assert len(m["segments"]) == 2 and total == 300
    assert doc["frame_count"] == total
    p = probe(out)
    assert (p.width, p.height, p.frame_count) == (m["output"]["width"], m["output"]["height"], total)
    assert p.fps == pytest.approx(30.0) and not p.vfr and p.codec == "h264"
    assert p.audio and abs(p.audio[0].duration_s - p.duration_s) <= 1 / 30 + 1e-6
    assert_declared_matches_decoded(out)
    # Per-frame luma SSIM against the concatenated segments (the transcoded whole): every frame at
    # quarter resolution plus a full-resolution mean absolute difference (a frame shifted in time
    # fails both), and full-resolution SSIM on every 20th frame and around each segment boundary.
    bounds = {s["start_frame"] + d for s in m["segments"] for d in (-1, 0, 1)}
    whole = (y for seg in m["segments"] for y in lumas(fixed / seg["file"]))
    n = 0
    worst_full = worst_small = 1.0
    worst_mad = 0.0
    for k, (a, b) in enumerate(zip(whole, lumas(out), strict=True)):
        if k % 20 == 0 or k in bounds:
            worst_full = min(worst_full, ssim(a, b))
        small = (a.shape[1] // 4, a.shape[0] // 4)
        worst_small = min(worst_small, ssim(cv2.resize(a, small, interpolation=cv2.INTER_AREA),
                                            cv2.resize(b, small, interpolation=cv2.INTER_AREA)))
        worst_mad = max(worst_mad, float(np.mean(np.abs(a.astype(np.int16) - b))))
        n += 1
    assert n == total
    assert worst_full >= 0.95 and worst_small >= 0.95, (worst_full, worst_small)
    assert worst_mad < 3.0, worst_mad


def test_join_with_source_audio(runner, fixed, tmp_path):
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", fixed, "-o", out, "--source-audio", "--quiet")
    assert r.exit_code == 0, r.stderr
    p = probe(out)
    assert p.frame_count == 300 and p.audio
    assert abs(p.audio[0].duration_s - p.duration_s) <= 1 / 30 + 1e-6
    assert_declared_matches_decoded(out)


def reencode(src: Path, dst: Path, *, fps: Fraction | None = None, size: tuple[int, int] | None = None,
             drop_last: int = 0, brighten_box: bool = False) -> None:
    """An 'edited' segment: optionally another rate (by time), another size, fewer frames, and a
    visible edit (a brightened box in the top-left quarter)."""
    frames = [f.to_ndarray(format="rgb24") for f in iter_frames(str(src))]
    src_fps = Fraction(30)
    if fps is not None:
        n = round(len(frames) * fps / src_fps)
        frames = [frames[min(len(frames) - 1, int(k * src_fps / fps))] for k in range(n)]
    if drop_last:
        frames = frames[:-drop_last]
    out = []
    for img in frames:
        if brighten_box:
            img = img.copy()
            h, w = img.shape[:2]
            img[: h // 2, : w // 2] = np.clip(img[: h // 2, : w // 2].astype(np.int16) + 60, 0, 255)
        if size is not None:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        out.append(img)
    tmp = dst.with_suffix(".tmp.mp4")
    write_clip(tmp, out, fps=fps or src_fps, preset="ultrafast", crf=16)
    tmp.rename(dst)


def test_edited_segments_at_other_rate_and_size(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    edited = tmp_path / "edited"
    edited.mkdir()
    s1, s2 = (fixed / s["file"] for s in m["segments"])
    reencode(s1, edited / s1.name, fps=Fraction(24), size=(640, 360))  # the editor returned 24 fps, 360p
    reencode(s2, (edited / s2.name).with_suffix(".mov"), brighten_box=True)  # editors return .mov
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", edited, "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    assert "sizes" in r.stderr  # warned: 640x360 and 854x480 scaled to the largest
    p = probe(out)
    assert (p.width, p.height) == (854, 480) and p.frame_count == 300 and p.fps == pytest.approx(30.0)
    assert not p.audio  # no edited segment carried audio and --source-audio was not given
    assert_declared_matches_decoded(out)
    # The edit shows in segment 2 (box brighter than the unedited segment), not in segment 1.
    n1 = m["segments"][0]["frame_count"]
    orig = list(lumas(s2))[10]
    joined = list(lumas(out))
    got = joined[n1 + 10]
    box = (slice(0, 240), slice(0, 427))
    assert got[box].mean() > orig[box].mean() + 30
    first_orig = next(lumas(s1))
    assert ssim(cv2.resize(first_orig, (427, 240), interpolation=cv2.INTER_AREA),
                cv2.resize(joined[0], (427, 240), interpolation=cv2.INTER_AREA)) >= 0.9


def _edited_copy(fixed: Path, tmp_path: Path) -> Path:
    edited = tmp_path / "edited"
    shutil.copytree(fixed, edited)
    (edited / "manifest.json").unlink()
    return edited


def test_duration_mismatch_refused_naming_segment(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    edited = _edited_copy(fixed, tmp_path)
    name = m["segments"][1]["file"]
    reencode(fixed / name, edited / name, drop_last=3)
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", edited, "-o", out, "--quiet")
    assert_one_line_error(r, 1, name, "more than one frame")
    assert m["segments"][0]["file"] not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited"]


def test_one_frame_difference_is_accepted(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    edited = _edited_copy(fixed, tmp_path)
    name = m["segments"][0]["file"]
    reencode(fixed / name, edited / name, drop_last=1)
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", edited, "-o", out, "--quiet", "--preset", "ultrafast")
    assert r.exit_code == 0, r.stderr
    assert probe(out).frame_count == 300  # the missing frame is held, frames stay aligned
    assert_declared_matches_decoded(out)


def test_missing_segment(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    edited = _edited_copy(fixed, tmp_path)
    name = m["segments"][1]["file"]
    (edited / name).unlink()
    out = tmp_path / "joined.mp4"
    r = run(runner, fixed / "manifest.json", edited, "-o", out, "--quiet")
    assert_one_line_error(r, 3, "missing edited segment", name)
    assert not out.exists()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda m: "{not json", "not valid JSON"),
        (lambda m: {**m, "schema": "other/9"}, "field schema"),
        (lambda m: {**m, "segments": []}, "field segments"),
        (lambda m: {**m, "segments": [{**m["segments"][0], "frame_count": "many"}, m["segments"][1]]},
         "segments[0].frame_count"),
        (lambda m: {**m, "segments": [{**m["segments"][0], "file": "../../etc/passwd"}, m["segments"][1]]},
         "segments[0].file"),
        (lambda m: {**m, "segments": [m["segments"][1], m["segments"][0]]}, "segments[0].index"),
        (lambda m: {**m, "output": {**m["output"], "fps": "fast"}}, "output.fps"),
        (lambda m: [1, 2, 3], "<root>"),
    ],
    ids=["json", "schema", "empty", "frames", "path", "order", "fps", "root"],
)
def test_nonsense_manifest(runner, fixed, tmp_path, mutate, needle):
    m = manifest_of(fixed)
    bad = mutate(m)
    path = tmp_path / "manifest.json"
    path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    out = tmp_path / "joined.mp4"
    r = run(runner, path, fixed, "-o", out, "--quiet")
    assert_one_line_error(r, 3, "manifest.json", needle)
    assert not out.exists()


def test_output_refused(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    out = tmp_path / "joined.mp4"
    out.write_bytes(b"precious")
    r = run(runner, fixed / "manifest.json", fixed, "-o", out, "--quiet")
    assert_one_line_error(r, 2, "already exists", "--force")
    assert out.read_bytes() == b"precious"
    seg = fixed / m["segments"][0]["file"]
    before = seg.read_bytes()
    r = run(runner, fixed / "manifest.json", fixed, "-o", seg, "--quiet", "--force")
    assert_one_line_error(r, 2, "refusing to overwrite the input")
    assert seg.read_bytes() == before
    r = run(runner, fixed / "manifest.json", fixed, "-o", tmp_path / "nodir" / "x.mp4", "--quiet")
    assert_one_line_error(r, 2, "does not exist")


def test_source_audio_needs_the_source(runner, fixed, tmp_path):
    m = manifest_of(fixed)
    m["source"]["path"] = str(tmp_path / "gone.mp4")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(m))
    out = tmp_path / "joined.mp4"
    r = run(runner, path, fixed, "-o", out, "--source-audio", "--quiet")
    assert_one_line_error(r, 3, "gone.mp4")
    assert not out.exists()
