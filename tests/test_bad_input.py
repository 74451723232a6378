"""Every bad input the issue lists gets one line on stderr, its exit code, and no output file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import bad
from preflight.cli import cli

EXIT_FAIL, EXIT_INPUT = 1, 3


def run_check(runner, path: Path, *extra: str):
    return runner.invoke(cli, ["check", str(path), "--quiet", *extra])


def assert_one_line_error(result, code: int, name: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("preflight: error: ")
    assert name in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("builder", "needle"),
    [
        (lambda tmp: tmp / "missing.mp4", "no such file"),
        (bad.zero_byte, "empty"),
        (bad.text_as_mp4, "not a readable media file"),
        (bad.png_image, "still image"),
        (bad.jpeg_image, "still image"),
        (bad.audio_only, "audio-only"),
        (bad.truncated_half, ""),
        (bad.one_frame, "single frame"),
    ],
    ids=["missing", "zero-byte", "text", "png", "jpeg", "audio-only", "truncated", "one-frame"],
)
def test_unreadable_input_exit_3(runner, tmp_path, builder, needle):
    path = builder(tmp_path)
    csv_path = tmp_path / "signals.csv"
    before = sorted(p.name for p in tmp_path.iterdir()) if tmp_path.is_dir() else []
    result = run_check(runner, path, "--csv", str(csv_path))
    assert_one_line_error(result, EXIT_INPUT, path.name)
    assert needle in result.stderr
    assert not csv_path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing changed


def test_input_not_modified(runner, tmp_path):
    path = bad.good_clip(tmp_path)
    data = path.read_bytes()
    result = run_check(runner, path)
    assert result.exit_code in (0, 1)
    assert path.read_bytes() == data


def test_corrupted_packets_continue_with_warning(runner, tmp_path):
    path = bad.corrupted_middle(tmp_path)
    result = runner.invoke(cli, ["check", str(path), "--json"])
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert doc["warnings"], "damaged packets must be reported"
    assert any(f["id"] == "damaged_stream" for f in doc["findings"])
    assert "warning" in result.stderr and "Traceback" not in result.stderr
    # analysis went past the damage: most frames were decoded
    assert doc["probe"]["frame_count_decoded"] >= 100


def test_eight_k_probes_and_streams(runner, tmp_path):
    path = bad.eight_k(tmp_path)
    result = runner.invoke(cli, ["check", str(path), "--json", "--quiet"])
    assert result.exit_code == EXIT_FAIL, result.stderr
    doc = json.loads(result.stdout)
    assert doc["probe"]["width"] == 7680 and doc["probe"]["height"] == 4320
    assert doc["probe"]["frame_count_decoded"] == 6
    assert any(f["id"] == "resolution_high" for f in doc["findings"])


def test_unknown_profile_is_usage_error(runner, tmp_path):
    path = bad.good_clip(tmp_path)
    result = run_check(runner, path, "--profile", "no-such-editor")
    assert result.exit_code == 2
    assert "unknown profile" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_console_script_has_no_traceback(tmp_path):
    """The installed entry point, in a real process, on a text file named .mp4."""
    path = bad.text_as_mp4(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "check", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == EXIT_INPUT
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
