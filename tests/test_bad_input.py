"""Every bad input the issue lists gets one line on stderr, its exit code, and no output file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import manifest_doc

from fixtures import bad
from preflight.cli.main import cli

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


# --------------------------------------------------------------------------- issue 12, item 4


def assert_short_error(result, code: int, *needles: str, prog: str = "preflight") -> None:
    """One line on stderr, at most 300 characters, the documented code, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output[-500:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-500:]
    assert lines[0].startswith(f"{prog}: error: ") and len(lines[0]) <= 300 + len(prog) + 9, lines[0][:400]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def minimal_manifest(**changes) -> dict:
    """A small valid ``preflight.manifest/1`` document ``load_manifest`` accepts."""
    return manifest_doc(**changes)


def test_symlink_loop_and_device_say_what_is_wrong(runner, tmp_path):
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(tmp_path / "other.mp4")
    (tmp_path / "other.mp4").symlink_to(loop)
    assert_short_error(run_check(runner, loop), EXIT_INPUT, "symlink loop")
    assert_short_error(run_check(runner, Path("/dev/zero")), EXIT_INPUT, "not a regular file")


def test_join_refuses_a_non_video_output_name(runner, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(minimal_manifest()))
    (tmp_path / "edited").mkdir()
    out = tmp_path / "out.txt"
    result = runner.invoke(cli, ["join", str(manifest), str(tmp_path / "edited"), "-o", str(out), "-q"])
    assert_short_error(result, 2, ".mp4")
    assert not out.exists()


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (minimal_manifest(segments=[{"index": 1, "file": "*", "frame_count": 50, "start_frame": 0}]),
         "segments[0].file"),
        (minimal_manifest(segments=[{"index": 1, "file": "seg[1].mp4", "frame_count": 5, "start_frame": 0}]),
         "segments[0].file"),
        (minimal_manifest(source={"path": "/x/" + "a" * 5000}), "source.path"),
        (minimal_manifest(source={"path": ""}), "source.path"),
    ],
    ids=["star", "brackets", "long-source", "empty-source"],
)
def test_manifest_names_must_be_plain(tmp_path, doc, needle):
    from preflight.fix.manifest import ManifestError, load_manifest

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert needle in str(info.value) and len(str(info.value)) <= 300


@pytest.mark.parametrize(
    "text",
    [
        '{"schema": "preflight.manifest/1", "n": ' + "7" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        json.dumps(minimal_manifest(segments=[
            {"index": i + 1, "file": f"s{i}.mp4", "frame_count": 1, "start_frame": i} for i in range(27_000)
        ])),
        '{"schema": "preflight.manifest/1", "n": NaN}',
    ],
    ids=["5000-digits", "deep", "27000-segments", "nan"],
)
def test_hostile_manifest_gives_one_short_line(runner, tmp_path, text):
    path = tmp_path / "manifest.json"
    path.write_text(text)
    (tmp_path / "edited").mkdir()
    out = tmp_path / "out.mp4"
    result = runner.invoke(cli, ["join", str(path), str(tmp_path / "edited"), "-o", str(out), "-q"])
    assert_short_error(result, EXIT_INPUT, "manifest.json")


def test_overflowing_box_is_a_usage_error(runner, tmp_path):
    from qa.cli import cli as qa_cli

    for box, needle in (("0,0," + "1" * 310 + ",1", "characters"), ("0,0," + "9" * 150 + ",1", "at most")):
        result = runner.invoke(qa_cli, ["score", "a.mp4", "b.mp4", "--box", box])
        assert_short_error(result, 2, "--box", needle, prog="qa")


def test_long_anchor_path_is_a_short_usage_error(runner, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    result = runner.invoke(cli, ["fix", str(clip), "--dry-run", "--anchor", "first=" + "a" * 5000])
    assert_short_error(result, 2, "anchor", "characters")


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("exc", [RuntimeError("boom"), ValueError("boom"), OSError(28, "No space left")])
def test_unexpected_errors_are_internal_errors(runner, tmp_path, monkeypatch, exc):
    """Only the project's own errors get codes 1-3: a bug is exit 4 and says so."""
    import preflight.profile

    def broken(*_a, **_k):
        raise exc

    monkeypatch.setattr(preflight.profile, "load_profile", broken)
    clip = tmp_path / "clip.mp4"
    result = runner.invoke(cli, ["check", str(clip)])
    assert_short_error(result, 4, "internal error", type(exc).__name__, "--debug")
    result = runner.invoke(cli, ["--debug", "check", str(clip)])
    assert result.exit_code == 4 and "Traceback" in result.stderr
    monkeypatch.setenv("PREFLIGHT_DEBUG", "1")
    result = runner.invoke(cli, ["check", str(clip)])
    assert result.exit_code == 4 and "Traceback" in result.stderr


def test_exit_codes_documented():
    from preflight.cli.common import EXIT_CODES_HELP

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for code in ("| 4 |", "| 130 |"):
        assert code in readme
    assert "4 internal error" in EXIT_CODES_HELP and "--debug" in EXIT_CODES_HELP
    from preflight.cli.main import cli as preflight_cli

    for name, command in preflight_cli.commands.items():  # every command's --help lists them
        assert "4 internal error (rerun with --debug)" in (command.epilog or ""), name


def test_qa_help_documents_the_internal_error_code(runner):
    """``qa`` maps unexpected errors to 4 as well (its ``--debug`` help says so): its exit-code
    list must name 4 and 130 too, not stop at 3."""
    from qa.cli import cli as qa_cli

    for args in (["--help"], ["score", "--help"], ["anchors", "--help"]):
        text = " ".join(runner.invoke(qa_cli, args).output.split())
        assert "4 internal error (rerun with --debug)" in text and "130 interrupted" in text, text[-300:]



def _run_with_closed_stdout(code: str, *argv: str) -> subprocess.CompletedProcess:
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE
    try:
        return subprocess.run([sys.executable, "-c", code, *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)


def test_closed_stdout_is_not_an_internal_error(pair, box_mask):
    """``preflight profiles | head -0``: the reader is gone before the first write. That is no
    bug: exit 141 (128 + SIGPIPE, what the shell reports for other tools), nothing on stderr."""
    main = "import sys; sys.argv[0] = {!r}; from {} import main; main()"
    proc = _run_with_closed_stdout(main.format("preflight", "preflight.cli.main"), "profiles")
    assert (proc.returncode, proc.stderr) == (141, ""), (proc.returncode, proc.stderr)
    proc = _run_with_closed_stdout(main.format("qa", "qa.cli"), "score", str(pair.source),
                                   str(pair.edited), "--mask", str(box_mask), "-q")
    assert (proc.returncode, proc.stderr) == (141, ""), (proc.returncode, proc.stderr)
