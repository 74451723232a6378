"""``qa score`` command line: outputs, gate exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fixtures import qa as F
from qa.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["score", *map(str, args)], catch_exceptions=False)


def _error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("qa: error: "), lines[0]
    return lines[0]


def test_json_report_and_csv(pair, box_mask, tmp_path):
    out_csv = tmp_path / "frames.csv"
    res = run(pair.source, pair.edited, "--mask", box_mask, "--json", "--csv", out_csv, "--quiet")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["schema"] == "qa.score/1" and d["passed"] is True
    assert d["frames_compared"] == 24 and d["offset_frames"] == 0
    for key in ("mean", "min", "p5"):
        assert 0.9 < d["ssim_outside"][key] <= 1.0
    assert set(d["psnr_outside"]) >= {"mean", "min"} and d["inside_change"]["mean"] > 0.5
    assert len(d["worst_frames"]) == 5 and {"frame", "ssim_outside"} <= set(d["worst_frames"][0])
    assert isinstance(d["per_shot"], list) and d["per_shot"]
    assert d["region"]["kind"] == "mask"
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 24 and rows[0]["source_frame"] == "0"
    mean = np.mean([float(r["ssim_outside"]) for r in rows])
    assert mean == pytest.approx(d["ssim_outside"]["mean"], abs=1e-5)


def test_table_heatmaps_and_gate_failure(pair, tmp_path):
    hm = tmp_path / "heat"
    res = run(pair.source, pair.edited, "--heatmaps", hm, "--worst", "2", "--quiet")
    # Without a region the recoloured box counts against preservation: the default gate fails.
    assert res.exit_code == 1, res.output
    assert "qa score: FAIL" in res.output and "SSIM outside region" in res.output
    pngs = sorted(hm.glob("worst_*.png"))
    assert len(pngs) == 2
    img = cv2.imread(str(pngs[0]))
    assert img.shape[0] == pair.size[1] and img.shape[1] == 3 * pair.size[0] + 8


def test_gate_thresholds_are_options(pair, box_mask):
    res = run(pair.source, pair.edited, "--mask", box_mask, "--min-mean", "0.9999", "--quiet")
    assert res.exit_code == 1 and "--min-mean" in res.output


def test_auto_region_saves_a_mask_usable_as_input(tmp_path):
    pair = F.strip_pair(frames=16)
    saved = tmp_path / "region.png"
    res = run(pair.source, pair.edited, "--auto-region", "--save-region", saved, "--json", "-q")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["region"]["kind"] == "auto" and d["region"]["boxes_found"]
    again = run(pair.source, pair.edited, "--mask", saved, "--json", "-q")
    assert again.exit_code == 0
    mean = json.loads(again.output)["ssim_outside"]["mean"]
    assert mean == pytest.approx(d["ssim_outside"]["mean"], abs=0.01)


def test_wrong_size_mask_same_aspect_is_resampled_with_a_warning(pair, tmp_path):
    x, y, w, h = pair.boxes[0]
    img = np.zeros((pair.size[1] // 2, pair.size[0] // 2), np.uint8)
    img[y // 2 : (y + h + 1) // 2, x // 2 : (x + w + 1) // 2] = 255
    path = tmp_path / "half.png"
    cv2.imwrite(str(path), img)
    res = run(pair.source, pair.edited, "--mask", path)
    assert res.exit_code == 0
    assert "qa: warning:" in res.output and "resampled" in res.output


# --------------------------------------------------------------------------- errors
def _mask_file(tmp_path, shape, fill_rect=None, value=255):
    img = np.zeros(shape, np.uint8)
    if fill_rect is not None:
        x, y, w, h = fill_rect
        img[y : y + h, x : x + w] = value
    path = tmp_path / "m.png"
    cv2.imwrite(str(path), img)
    return path


def test_error_wrong_aspect_mask(pair, tmp_path):
    path = _mask_file(tmp_path, (100, 100), (10, 10, 20, 20))
    res = run(pair.source, pair.edited, "--mask", path)
    assert res.exit_code == 3 and "aspect" in _error_line(res)


def test_error_empty_mask(pair, tmp_path):
    path = _mask_file(tmp_path, (pair.size[1], pair.size[0]))
    res = run(pair.source, pair.edited, "--mask", path)
    assert res.exit_code == 3 and "mask is empty" in _error_line(res)


def test_error_mask_covering_everything(pair, tmp_path):
    w, h = pair.size
    path = _mask_file(tmp_path, (h, w), (8, 8, w - 16, h - 16))
    res = run(pair.source, pair.edited, "--mask", path)
    assert res.exit_code == 3 and "nothing left to score" in _error_line(res)
    res = run(pair.source, pair.edited, "--box", "0,0,1,1")
    assert res.exit_code == 2 and "nothing left to score" in _error_line(res)


def test_error_mismatched_durations():
    p = F.length_pair()
    res = run(p.source, p.edited)
    assert res.exit_code == 3 and "durations differ" in _error_line(res)


def test_error_unreadable_files(pair, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    res = run(junk, pair.edited)
    assert res.exit_code == 3 and "junk.mp4" in _error_line(res)
    res = run(pair.source, tmp_path / "missing.mp4")
    assert res.exit_code == 3 and "no such file" in _error_line(res)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--box", "1,2,3"], "expected x,y,w,h"),
        (["--box", "1,2,3,4", "--auto-region"], "one region kind"),
        (["--scale", "half"], "--scale"),
        (["--min-mean", "1.5"], "min_mean"),
    ],
)
def test_usage_errors(pair, args, match):
    res = run(pair.source, pair.edited, *args)
    assert res.exit_code == 2 and match in _error_line(res)


def test_output_refused_without_force(pair, tmp_path):
    out = tmp_path / "f.csv"
    out.write_text("keep")
    res = run(pair.source, pair.edited, "--csv", out)
    assert res.exit_code == 2 and "already exists" in _error_line(res)
    assert out.read_text() == "keep"


def test_console_script_entry_point(pair):
    proc = subprocess.run(
        [sys.executable, "-c", "from qa.cli import main; main()", "score", str(pair.source), str(pair.edited),
         "--json", "-q", "--min-mean", "0", "--min-p5", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["passed"] is True


def test_per_frame_masks_from_a_video_and_a_folder(tmp_path):
    from fixtures.synth import write_clip

    pair = F.box_pair(moving=True, lossless=True, frames=12)
    masks = [pair.region_mask(i) * np.uint8(255) for i in range(pair.frames)]
    video = write_clip(tmp_path / "masks.mp4", masks, fps=30, crf=0, preset="ultrafast")
    folder = tmp_path / "masks"
    folder.mkdir()
    for i, m in enumerate(masks):
        cv2.imwrite(str(folder / f"mask_{i}.png"), m)
    for opt, path in (("--mask-video", video), ("--mask-dir", folder)):
        res = run(pair.source, pair.edited, opt, path, "--json", "-q")
        assert res.exit_code == 0, res.output
        d = json.loads(res.output)
        assert d["ssim_outside"]["min"] >= 0.99999, opt  # the moving edit is excluded frame by frame
        assert d["inside_change"]["mean"] > 0.5 and d["region"]["frames_with_region"] == pair.frames
    # A static mask at the first frame's box misses the moving edit.
    first = tmp_path / "first.png"
    cv2.imwrite(str(first), masks[0])
    d = json.loads(run(pair.source, pair.edited, "--mask", first, "--json", "-q", "--min-mean", "0").output)
    assert d["ssim_outside"]["mean"] < 0.99


def test_short_mask_video_is_an_error(tmp_path):
    from fixtures.synth import write_clip

    pair = F.box_pair(frames=24)
    masks = [pair.region_mask(i) * np.uint8(255) for i in range(5)]
    video = write_clip(tmp_path / "masks.mp4", masks, fps=30, crf=0, preset="ultrafast")
    res = run(pair.source, pair.edited, "--mask-video", video)
    assert res.exit_code == 3 and "mask video has 5 frames but the source has 24" in _error_line(res)


def test_heatmaps_of_an_earlier_run_are_replaced_only_with_force(pair, tmp_path):
    hm = tmp_path / "heat"
    assert run(pair.source, pair.edited, "--heatmaps", hm, "--worst", "1", "-q").exit_code == 1
    res = run(pair.source, pair.edited, "--heatmaps", hm, "--worst", "1", "-q")
    assert res.exit_code == 2 and "--force" in _error_line(res)
    (hm / "worst_09_frame_000099.png").write_bytes(b"stale")
    assert run(pair.source, pair.edited, "--heatmaps", hm, "--worst", "1", "-q", "--force").exit_code == 1
    assert [p.name for p in hm.iterdir()] == [next(hm.glob("worst_01_*")).name]


def test_huge_max_offset_returns_with_the_right_offset():
    p = F.offset_pair(2)
    r = run(p.source, p.edited, "--max-offset", "100000000", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["offset_frames"] == 2
    # The evidence is the last key (existing keys keep their place); the range stops at the clip.
    assert list(d)[-1] == "offset_evidence"
    assert d["offset_evidence"]["candidates"] == 2 * (p.frames - 1) + 1
    assert d["offset_evidence"]["decided"] and d["offset_evidence"]["offset"] == 2


def test_negative_max_offset_is_a_usage_error(pair):
    r = run(pair.source, pair.edited, "--max-offset", "-1")
    assert r.exit_code == 2 and "max-offset" in r.output
