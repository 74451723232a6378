"""``preflight anchors`` (exact frames out) and ``qa anchors`` (adherence after the edit)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from skimage.color import deltaE_ciede2000, rgb2lab

from fixtures.long import shots_clip
from fixtures.synth import write_clip
from qa.anchors import DEFAULT_MAX_DELTA_E, SCHEMA
from qa.cli import cli as qa_cli
from tests.services_util import FPS, SIZE, image, load_json, one_line_error, preflight, small_profile

BOX = (slice(40, 100), slice(80, 160))  # rows, cols: even edges, so 4:2:0 chroma stays inside
BRAND = (200, 30, 60)


def decoded(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def read_png(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """A 20 s two-shot clip fixed into two 10 s segments, anchors at 3 s (with an image) and 15 s."""
    tmp = tmp_path_factory.mktemp("anchors")
    clip = shots_clip("anchors_two_shots", [100, 100], fps=FPS, size=SIZE)[0]
    anchor = image(tmp, "anchor.png", (0, 0, 0))  # replaced by the painted export below
    out = tmp / "out"
    r = preflight(
        "fix",
        clip,
        "-o",
        out,
        "--profile",
        small_profile(tmp, max_s=10),
        "--preset",
        "ultrafast",
        "--quiet",
        "--anchor",
        f"3={anchor}",
        "--anchor",
        "15",
    )
    assert r.exit_code == 0, r.stderr
    return tmp, out, anchor


def test_exported_pngs_equal_the_decoded_frames(fixed):
    tmp, out, _ = fixed
    pngs = tmp / "pngs"
    r = preflight("anchors", out / "manifest.json", "-o", pngs, "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    manifest = load_json(out / "manifest.json")
    seg1, seg2 = (out / s["file"] for s in manifest["segments"])
    names = sorted(Path(f["png"]).name for f in doc["frames"])
    assert names == sorted([f"{seg1.stem}_3.00s.png", f"{seg2.stem}_5.00s.png"])
    frames1, frames2 = decoded(seg1), decoded(seg2)
    assert np.array_equal(read_png(pngs / f"{seg1.stem}_3.00s.png"), frames1[30])
    assert np.array_equal(read_png(pngs / f"{seg2.stem}_5.00s.png"), frames2[50])
    assert (pngs / "contact_sheet.png").is_file()


def test_export_at_times_and_from_a_clip(fixed):
    tmp, out, _ = fixed
    manifest = load_json(out / "manifest.json")
    seg2 = out / manifest["segments"][1]["file"]
    r = preflight("anchors", out / "manifest.json", "-o", tmp / "at", "--at", "12.34")
    assert r.exit_code == 0, r.stderr
    assert np.array_equal(read_png(tmp / "at" / f"{seg2.stem}_2.34s.png"), decoded(seg2)[23])  # 2.3 s nearest
    r = preflight("anchors", seg2, "-o", tmp / "clip", "--at", "9.9")
    assert r.exit_code == 0, r.stderr
    assert np.array_equal(read_png(tmp / "clip" / f"{seg2.stem}_9.90s.png"), decoded(seg2)[99])
    one_line_error(preflight("anchors", seg2, "-o", tmp / "none"), 2, "--at")
    one_line_error(preflight("anchors", seg2, "-o", tmp / "clip", "--at", "9.9"), 2, "already exists")


def test_export_of_a_bad_clip_says_what_is_wrong_and_leaves_no_folder(tmp_path):
    """A missing clip is "no such file" (it was "cannot decode ([Errno 2] ...)"), and a clip that
    fails to decode leaves no output folder behind (it was left, empty)."""
    from fixtures import bad

    out = tmp_path / "frames"
    one_line_error(preflight("anchors", tmp_path / "missing.mp4", "-o", out, "--at", "1"), 3, "no such file")
    assert not out.exists()
    text = bad.text_as_mp4(tmp_path)
    r = preflight("anchors", text, "-o", out, "--at", "1")
    one_line_error(r, 3, text.name, "not a readable media file")
    assert not out.exists()



def test_export_to_an_unusable_folder_name_is_a_usage_error(fixed, tmp_path):
    """A 300-character folder name was OSError 'File name too long' as an internal error (exit 4)."""
    _, out, _ = fixed
    seg = out / load_json(out / "manifest.json")["segments"][0]["file"]
    r = preflight("anchors", seg, "-o", tmp_path / ("d" * 300), "--at", "1")
    one_line_error(r, 2, "300-character name")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = preflight("anchors", seg, "-o", blocker / "sub", "--at", "1")
    one_line_error(r, 2, "cannot create the folder")


def _shifted(color: tuple[int, int, int], target: float) -> tuple[tuple[int, int, int], float]:
    """The gray-shifted colour whose CIEDE2000 from ``color`` is nearest ``target``."""
    base = rgb2lab(np.array([[color]], np.float64) / 255)
    best = None
    for k in range(1, 80):
        c = tuple(int(v) for v in np.clip(np.array(color) + k, 0, 255))
        de = float(deltaE_ciede2000(base, rgb2lab(np.array([[c]], np.float64) / 255))[0, 0])
        if best is None or abs(de - target) < abs(best[1] - target):
            best = (c, de)
    assert best is not None
    return best


def _edit(manifest: dict, out: Path, edited: Path, color: tuple[int, int, int]) -> None:
    """Edited segments: the source segments with the box painted in ``color`` (lossless-ish encode)."""
    edited.mkdir(exist_ok=True)
    for seg in manifest["segments"]:
        frames = decoded(out / seg["file"])
        for f in frames:
            f[BOX] = color
        write_clip(edited / seg["file"], frames, fps=FPS, crf=0, preset="ultrafast")


@pytest.fixture(scope="module")
def painted(fixed):
    tmp, out, anchor = fixed
    manifest = load_json(out / "manifest.json")
    seg1 = out / manifest["segments"][0]["file"]
    r = preflight("anchors", out / "manifest.json", "-o", tmp / "export")
    assert r.exit_code == 0, r.stderr
    frame = read_png(tmp / "export" / f"{seg1.stem}_3.00s.png")
    frame[BOX] = BRAND
    cv2.imwrite(str(anchor), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return tmp, out, manifest


def qa(*args: object):
    return CliRunner().invoke(qa_cli, [*map(str, args)], prog_name="qa")


def reference_delta_e(anchor: Path, edited_segment: Path, frame: int) -> np.ndarray:
    """CIEDE2000 of the anchor image against the edited frame inside BOX, straight from scikit-image."""
    images = (read_png(anchor), decoded(edited_segment)[frame])
    lab = [rgb2lab(img.astype(np.float64) / 255) for img in images]
    return deltaE_ciede2000(*lab)[BOX]


def test_edit_in_the_anchor_colours_passes(painted):
    tmp, out, manifest = painted
    _edit(manifest, out, tmp / "good", BRAND)
    r = qa("anchors", out / "manifest.json", tmp / "good", "--json")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["schema"] == SCHEMA and doc["passed"] and doc["region"] == "auto"
    (a,) = doc["anchors"]
    assert a["delta_e_mean"] < 2 and a["region_pixels"] == 60 * 80
    assert a["frame_time_s"] == 3.0
    de = reference_delta_e(Path(a["image"]), tmp / "good" / manifest["segments"][0]["file"], 30)
    assert a["delta_e_mean"] == pytest.approx(de.mean(), abs=1e-3)
    assert a["delta_e_p95"] == pytest.approx(np.percentile(de, 95), abs=1e-3)
    assert a["ssim_outside"] > 0.95 and a["ssim_inside"] > 0.9
    r = qa("anchors", out / "manifest.json", tmp / "good", "--box", "80,40,80,60")
    assert r.exit_code == 0 and "PASS" in r.stdout, r.stdout
    mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    mask[BOX] = 255
    cv2.imwrite(str(tmp / "box_mask.png"), mask)
    by_box, by_mask = (
        json.loads(qa("anchors", out / "manifest.json", tmp / "good", *region, "--json").stdout)
        for region in (["--box", "80,40,80,60"], ["--mask", tmp / "box_mask.png"])
    )
    assert (by_box["region"], by_mask["region"]) == ("box", "mask")
    assert by_box["anchors"] == by_mask["anchors"] and by_mask["anchors"][0]["region_pixels"] == 60 * 80


def test_colour_drift_of_delta_e_10_fails(painted):
    tmp, out, manifest = painted
    color, de = _shifted(BRAND, 10.0)
    assert abs(de - 10) < 1.0
    _edit(manifest, out, tmp / "drift", color)
    r = qa("anchors", out / "manifest.json", tmp / "drift", "--json")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    (a,) = json.loads(r.stdout)["anchors"]
    assert a["delta_e_mean"] > DEFAULT_MAX_DELTA_E and abs(a["delta_e_mean"] - 10) < 2
    de = reference_delta_e(Path(a["image"]), tmp / "drift" / manifest["segments"][0]["file"], 30)
    assert a["delta_e_p95"] == pytest.approx(np.percentile(de, 95), abs=1e-3) and a["delta_e_p95"] > 8
    assert qa("anchors", out / "manifest.json", tmp / "drift", "--max-delta-e", "12").exit_code == 0


def test_ssim_outside_is_against_the_source_segment(painted):
    """Outside the region the edited frame is judged against the source, not the anchor image: a
    scribble on the anchor outside the box changes nothing; damage to the edit outside it fails."""
    tmp, out, manifest = painted
    seg1 = manifest["segments"][0]["file"]
    _edit(manifest, out, tmp / "in_colour", BRAND)
    box = ["--box", "80,40,80,60", "--json"]
    plain = json.loads(qa("anchors", out / "manifest.json", tmp / "in_colour", *box).stdout)["anchors"][0]
    anchor = Path(plain["image"])
    original = anchor.read_bytes()
    scribbled = read_png(anchor)
    scribbled[120:170, 200:300] = (0, 255, 0)
    try:
        cv2.imwrite(str(anchor), cv2.cvtColor(scribbled, cv2.COLOR_RGB2BGR))
        r = qa("anchors", out / "manifest.json", tmp / "in_colour", *box)
        assert r.exit_code == 0, r.stdout
        again = json.loads(r.stdout)["anchors"][0]
    finally:
        anchor.write_bytes(original)
    assert again["ssim_outside"] == plain["ssim_outside"] > 0.95
    damaged = tmp / "damaged"
    damaged.mkdir(exist_ok=True)
    frames = decoded(tmp / "in_colour" / seg1)
    for f in frames:
        f[:, 200:] = 255 - f[:, 200:]  # outside the box
    write_clip(damaged / seg1, frames, fps=FPS, crf=0, preset="ultrafast")
    for seg in manifest["segments"][1:]:
        (damaged / seg["file"]).write_bytes((tmp / "in_colour" / seg["file"]).read_bytes())
    r = qa("anchors", out / "manifest.json", damaged, *box)
    assert r.exit_code == 1, r.stdout
    hurt = json.loads(r.stdout)["anchors"][0]
    assert hurt["delta_e_mean"] < 2 and hurt["ssim_outside"] < 0.9 and not hurt["passed"]


def test_qa_anchors_errors(painted, tmp_path):
    tmp, out, _manifest = painted
    r = qa("anchors", out / "manifest.json", tmp_path)
    assert r.exit_code == 3 and "qa: error:" in r.stderr
    r = qa("anchors", out / "manifest.json", tmp / "good", "--box", "1,1,2,2", "--auto-region")
    assert r.exit_code == 2 and "one region kind" in r.stderr


def test_contact_sheet_grid():
    from preflight.anchors.export import contact_sheet

    frames = [(f"f{i}.png", np.full((180, 320, 3), i * 40, np.uint8)) for i in range(5)]
    sheet = contact_sheet(frames)
    assert sheet.shape == (2 * (180 + 24), 4 * 320, 3)
    assert (sheet[:180, 320:640] == 40).all()  # second thumbnail, unscaled at 320 px wide
    assert contact_sheet(frames[:2]).shape == (180 + 24, 2 * 320, 3)


def test_score_anchor_against_scikit_image_on_a_spread_of_differences():
    from qa.anchors import score_anchor

    source = np.full((64, 96, 3), 128, np.uint8)
    anchor = source.copy()
    anchor[16:48, 24:72] = BRAND
    edited = anchor.copy()
    ramp = np.arange(32, dtype=np.int16)[:, None, None]  # row k of the box drifts by k levels
    edited[16:48, 24:72] = np.clip(edited[16:48, 24:72].astype(np.int16) + ramp, 0, 255).astype(np.uint8)
    region = np.zeros((64, 96), np.uint8)
    region[16:48, 24:72] = 1
    n, mean, p95, ssim_in, ssim_out = score_anchor(source, edited, anchor, region)
    lab = [rgb2lab(img.astype(np.float64) / 255) for img in (anchor, edited)]
    de = deltaE_ciede2000(*lab)[16:48, 24:72]
    assert n == 32 * 48 and np.ptp(de) > 5  # a real spread: mean, p95 and max all differ
    assert mean == pytest.approx(de.mean(), rel=1e-9)
    assert p95 == pytest.approx(np.percentile(de, 95), rel=1e-9)
    assert ssim_out == pytest.approx(1.0) and 0 < ssim_in < 1
