"""`preflight check` end to end: JSON schema, CSV, exit codes, profiles, PySceneDetect bridge."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from fixtures.synth import MEDIA, cached_clip, real_frames, real_still, write_clip
from preflight.cli.main import cli


def compliant_clip():
    """854x480, 30 fps, 3 s slow pan over a real still: passes aleph-2's hard rules."""

    def build(path):
        still = real_still((854 + 90, 480))
        write_clip(path, (still[:, i : i + 854] for i in range(90)), fps=30)

    return cached_clip("compliant", {"v": 1}, build)


def two_shot_clip():
    """854x480 30 fps: 45 frames of a pan over one real still, cut at frame 45 to Bikes."""

    def build(path):
        still = real_still((854 + 45, 480))
        import cv2

        bikes = [cv2.resize(f, (854, 480), interpolation=cv2.INTER_AREA)
                 for f in list(real_frames("skv_bikes.mp4"))[80:125]]
        frames = [still[:, i : i + 854] for i in range(45)] + bikes
        write_clip(path, frames, fps=30)

    return cached_clip("two_shot", {"v": 1}, build)


def test_compliant_clip_passes_with_exit_0(runner):
    result = runner.invoke(cli, ["check", str(compliant_clip()), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "preflight.check/1"
    assert doc["passed"] is True
    assert doc["profile"] == "aleph-2"
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    assert doc["transitions"] == []
    assert len(doc["shots"]) == 1


def test_json_schema_and_cut_convention(runner):
    result = runner.invoke(cli, ["check", str(two_shot_clip()), "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    probe = doc["probe"]
    for key in ("duration_s", "frame_count", "fps", "vfr", "width", "height",
                "display_width", "display_height"):
        assert key in probe
    assert probe["frame_count"] == 90 and probe["fps"] == pytest.approx(30.0)
    (cut,) = doc["transitions"]
    assert cut["type"] == "cut"
    assert abs(cut["start_frame"] - 45) <= 1 and cut["start_frame"] == cut["end_frame"]
    assert cut["start_s"] == pytest.approx(cut["start_frame"] / 30.0, abs=1e-3)
    assert 0.0 <= cut["confidence"] <= 1.0
    assert [(s["start_frame"], s["end_frame"]) for s in doc["shots"]] == [
        (0, cut["start_frame"] - 1), (cut["start_frame"], 89)]
    for shot in doc["shots"]:
        assert set(shot["shake"]) >= {"score_pct", "class"}
        assert set(shot["exposure"]) >= {"mean_luma", "dark_pct", "bright_pct", "flags"}
        assert isinstance(shot["sharpness"], float)
    for f in doc["findings"]:
        assert set(f) == {"id", "severity", "value", "limit", "message", "hint"}


def test_failing_clip_exit_1_with_findings(runner):
    result = runner.invoke(cli, ["check", str(MEDIA / "skv_bikes.mp4"), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    ids = {f["id"] for f in doc["findings"] if f["severity"] == "error"}
    assert "resolution_low" in ids
    assert [t["start_frame"] for t in doc["transitions"] if t["type"] == "cut"] == [30, 76, 137, 187, 242]


def test_profile_changes_verdict(runner, tmp_path):
    text = (MEDIA.parent.parent / "preflight" / "profiles" / "aleph-2.toml").read_text()
    custom = tmp_path / "tiny.toml"
    custom.write_text(text.replace('name = "aleph-2"', 'name = "tiny"')
                      .replace("min_short_side = 480", "min_short_side = 200")
                      .replace("max_cuts = 10", "max_cuts = 2")
                      .replace("min_fps = 24.0", "min_fps = 20.0"))
    result = runner.invoke(cli, ["check", str(MEDIA / "skv_bikes.mp4"), "--json", "--profile", str(custom)])
    doc = json.loads(result.stdout)
    ids = {f["id"] for f in doc["findings"] if f["severity"] == "error"}
    assert doc["profile"] == "tiny"
    assert ids == {"too_many_cuts"}
    assert result.exit_code == 1


def test_csv_has_every_frame(runner, tmp_path):
    out = tmp_path / "signals.csv"
    result = runner.invoke(cli, ["check", str(two_shot_clip()), "--csv", str(out), "--quiet"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 90
    assert [int(r["frame"]) for r in rows] == list(range(90))
    times = np.array([float(r["time_s"]) for r in rows])
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-4)
    assert len(rows[0]) > 6  # frame, pts, time_s + analyzer signals
    assert not list(tmp_path.glob("*.part*"))


def test_table_output_names_shots_and_findings(runner):
    result = runner.invoke(cli, ["check", str(MEDIA / "skv_bikes.mp4"), "--quiet"])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "resolution_low" in result.stdout
    assert "shot" in result.stdout and "hint:" in result.stdout


def test_scenedetect_detector_runs_in_same_pass(runner):
    result = runner.invoke(
        cli, ["check", str(MEDIA / "skv_bikes.mp4"), "--json", "--detector", "adaptive",
              "--detector", "content"])
    doc = json.loads(result.stdout)
    for kind in ("adaptive", "content"):
        frames = [t["start_frame"] for t in doc["comparisons"][kind]]
        assert len(frames) >= 4
        assert all(min(abs(f - g) for g in (30, 76, 137, 187, 242)) <= 1 for f in frames)


def test_help_documents_exit_codes(runner):
    result = runner.invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output and "--json" in result.output


def test_profiles_listed(runner):
    result = runner.invoke(cli, ["profiles", "--json"])
    names = {p["name"] for p in json.loads(result.stdout)}
    assert names == {"aleph-2", "gen4-aleph"}
