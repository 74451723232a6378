"""Issue 12, item 2: no output overwrites an input or a user's file; killed runs leave nothing."""

from __future__ import annotations

import errno
import os
import pathlib
import shutil

import pytest
from click.testing import CliRunner

from preflight.errors import OutputError
from preflight.media.outputs import check_output_path
from qa.cli import cli as qa_cli


def qa(*args: object):
    return CliRunner().invoke(qa_cli, ["score", *map(str, args)], catch_exceptions=False)


# --------------------------------------------------------------------------- the shared check


def test_refuse_inputs_by_path_link_and_folder(tmp_path):
    from preflight.media.outputs import refuse_inputs

    src = tmp_path / "in.png"
    src.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(src)
    os.link(src, tmp_path / "hard.png")
    folder = tmp_path / "masks"
    folder.mkdir()
    for out in (src, tmp_path / "link.png", tmp_path / "hard.png", tmp_path / "." / "in.png"):
        with pytest.raises(OutputError, match="input"):
            check_output_path(out, inputs=[None, src], force=True)
    with pytest.raises(OutputError, match="inside the input folder"):
        refuse_inputs(folder / "x.csv", [], input_dirs=[folder])
    with pytest.raises(OutputError, match="inside the input folder"):
        refuse_inputs(folder, [], input_dirs=[folder])
    refuse_inputs(tmp_path / "other.csv", [src, None], input_dirs=[folder, None])  # unrelated: fine


# --------------------------------------------------------------------------- qa


@pytest.mark.parametrize("option", ["--csv", "--save-region"])
def test_qa_force_never_overwrites_the_mask(pair, box_mask, option):
    before = box_mask.read_bytes()
    res = qa(pair.source, pair.edited, "--mask", box_mask, option, box_mask, "--force", "-q")
    assert res.exit_code == 2, res.output
    assert "input" in res.output and box_mask.read_bytes() == before


def test_qa_outputs_never_go_into_the_mask_folder(pair, box_mask, tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    names = [f"{i:04d}.png" for i in range(24)]  # one mask per source frame: a valid --mask-dir
    for name in names:
        shutil.copy(box_mask, folder / name)
    res = qa(pair.source, pair.edited, "--mask-dir", folder, "--heatmaps", folder, "--force", "-q")
    assert res.exit_code == 2, res.output
    assert sorted(p.name for p in folder.iterdir()) == names


def test_qa_worst_zero_creates_no_heatmap_folder(pair, box_mask, tmp_path):
    hm = tmp_path / "heat"
    res = qa(pair.source, pair.edited, "--mask", box_mask, "--worst", "0", "--heatmaps", hm, "-q")
    assert res.exit_code == 0, res.output
    assert not hm.exists()


def test_qa_heatmaps_on_a_full_disk_leave_nothing(pair, box_mask, tmp_path, monkeypatch):
    """The second PNG hits ENOSPC after half its bytes: no folder, no PNG, no temporary remain."""
    real = pathlib.Path.write_bytes
    calls = []

    def full_disk(self, data):
        calls.append(self)
        if len(calls) >= 2:
            real(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full_disk)
    hm = tmp_path / "heat"
    res = CliRunner().invoke(qa_cli, ["score", str(pair.source), str(pair.edited), "--mask", str(box_mask),
                                      "--worst", "3", "--heatmaps", str(hm), "-q"])
    assert res.exit_code == 2 and len(calls) == 2, res.output  # the disk, not a bug (was exit 4)
    assert res.stderr.strip().endswith("cannot write it: No space left on device"), res.stderr
    assert not hm.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]


def test_qa_heatmaps_failure_keeps_an_existing_folder_and_its_files(pair, box_mask, tmp_path, monkeypatch):
    hm = tmp_path / "heat"
    hm.mkdir()
    (hm / "notes.txt").write_text("mine")

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("qa.report.write_heatmap", broken)
    res = CliRunner().invoke(qa_cli, ["score", str(pair.source), str(pair.edited), "--mask", str(box_mask),
                                      "--worst", "2", "--heatmaps", str(hm), "-q"])
    assert res.exit_code != 0
    assert [p.name for p in hm.iterdir()] == ["notes.txt"]


# --------------------------------------------------------------------------- preflight check --csv


def test_check_csv_refuses_an_existing_file_without_force_and_any_input_with_it(tmp_path):
    from fixtures.synth import MEDIA
    from preflight.cli.main import cli

    clip = tmp_path / "clip.mp4"
    shutil.copy(MEDIA / "skv_bikes.mp4", clip)
    video = clip.read_bytes()
    existing = tmp_path / "notes.csv"
    existing.write_text("mine")
    runner = CliRunner()
    res = runner.invoke(cli, ["check", str(clip), "--csv", str(existing), "-q"])
    assert res.exit_code == 2 and "--force" in res.stderr, res.output
    assert existing.read_text() == "mine"
    res = runner.invoke(cli, ["check", str(clip), "--csv", str(clip), "--force", "-q"])
    assert res.exit_code == 2 and "input" in res.stderr, res.output
    assert clip.read_bytes() == video
    res = runner.invoke(cli, ["check", str(clip), "--csv", str(existing), "--force", "-q"])
    assert res.exit_code in (0, 1), res.output
    assert existing.read_text().startswith("frame,")


# --------------------------------------------------------------------------- preflight fix


def _fix_clip(tmp_path: pathlib.Path) -> pathlib.Path:
    from fixtures import long

    clip = tmp_path / "clip.mp4"  # 6 s, cut at 3 s
    shutil.copy(long.rotated_phone()[0], clip)
    return clip


def fix(*args: object):
    from preflight.cli.fix import fix_command

    return CliRunner().invoke(fix_command, [*map(str, args), "--preset", "ultrafast"], prog_name="preflight")


def test_fix_force_removes_only_files_it_can_show_it_wrote(tmp_path):
    """A manifest edited to list the user's notes, and a segment the user replaced: --force keeps
    both (their size and SHA-256 differ from the manifest's) and says so."""
    import hashlib
    import json

    clip = _fix_clip(tmp_path)
    strict = tmp_path / "max4s.toml"
    import preflight

    text = (pathlib.Path(preflight.__file__).parent / "profiles" / "aleph-2.toml").read_text()
    strict.write_text(text.replace("max_s = 30.0", "max_s = 4.0"))
    out = tmp_path / "out"
    r = fix(clip, "-o", out, "-q", "--profile", strict)
    assert r.exit_code == 0, r.stderr
    doc = json.loads((out / "manifest.json").read_text())
    assert [s["file"] for s in doc["segments"]] == ["clip_seg01.mp4", "clip_seg02.mp4"]
    for seg in doc["segments"]:  # the manifest records what was written
        data = (out / seg["file"]).read_bytes()
        assert (seg["bytes"], seg["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    notes = out / "notes.txt"
    notes.write_text("mine")
    doc["segments"].append(dict(doc["segments"][1], file="notes.txt"))
    (out / "manifest.json").write_text(json.dumps(doc))
    (out / "clip_seg02.mp4").write_bytes(b"the user's own edit")
    r = fix(clip, "-o", out, "--force")
    assert r.exit_code == 0, r.stderr
    assert "removed 1 segment file(s) of the replaced manifest: clip_seg01.mp4" in r.stderr
    assert "kept 2 file(s)" in r.stderr and "clip_seg02.mp4, notes.txt" in r.stderr
    assert notes.read_text() == "mine" and (out / "clip_seg02.mp4").read_bytes() == b"the user's own edit"
    assert not (out / "clip_seg01.mp4").exists() and (out / "clip_fixed.mp4").exists()


def test_fix_on_a_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, monkeypatch):
    """ENOSPC while writing the segments: one line naming the folder, exit 2 (it was an
    "internal error", exit 4), and the folder this run made is gone."""
    import preflight.fix.execute as execute

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(execute, "split_intermediate", full_disk)
    clip = _fix_clip(tmp_path)
    out = tmp_path / "out"
    r = fix(clip, "-o", out, "-q")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and line.startswith(f"preflight: error: {out}"), r.stderr
    assert line.endswith("cannot write it: No space left on device"), r.stderr
    assert not out.exists()


def test_fix_removes_temporaries_a_killed_run_left(tmp_path):
    clip = _fix_clip(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = [".clip.k3j4h5g6.intermediate.mp4", ".clip_fixed.ab_12xyz.part.mp4",
             ".clip_seg01.0a1b2c3d.part.mp4", ".manifest.zz9y8x7w.part.json"]
    for name in stale:
        (out / name).write_bytes(b"\0" * 100)
    others = [".other.k3j4h5g6.intermediate.mp4", "notes.txt", ".clip.mp4"]
    for name in others:
        (out / name).write_text("not ours")
    r = fix(clip, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert "removed 4 temporary file(s) an interrupted run left" in r.stderr
    written = ["clip_fixed.mp4", "manifest.json", "segments.otio"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*others, *written])


def test_fix_refuses_a_folder_another_run_is_writing_to(tmp_path):
    from preflight.media.outputs import output_lock

    clip = _fix_clip(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".clip.k3j4h5g6.intermediate.mp4").write_bytes(b"live")  # the other run's
    with output_lock(out):
        r = fix(clip, "-o", out, "-q")
    assert r.exit_code == 2 and "another run is writing" in r.stderr, r.output
    assert sorted(p.name for p in out.iterdir()) == [".clip.k3j4h5g6.intermediate.mp4"]


_KILLED_RUN = """
import os, signal, sys
import preflight.fix.execute as tc
SIG = getattr(signal, sys.argv[1])
def die(*args, **kwargs):
    os.kill(os.getpid(), SIG)
    raise AssertionError("still alive after the signal")
tc.split_intermediate = die
sys.argv = ["preflight", "fix", *sys.argv[2:]]
from preflight.cli.main import main
main()
"""


def _killed_fix(signame: str, clip: pathlib.Path, out: pathlib.Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", _KILLED_RUN, signame, str(clip), "-o", str(out), "-q",
                           "--preset", "ultrafast"], capture_output=True, text=True, timeout=600)


def test_fix_sigterm_cleans_up_like_ctrl_c(tmp_path):
    clip = _fix_clip(tmp_path)
    out = tmp_path / "out"
    r = _killed_fix("SIGTERM", clip, out)
    assert r.returncode == 143, (r.returncode, r.stderr)
    assert not out.exists(), sorted(p.name for p in out.iterdir())


def test_fix_after_sigkill_the_next_run_leaves_nothing_behind(tmp_path):
    clip = _fix_clip(tmp_path)
    out = tmp_path / "out"
    r = _killed_fix("SIGKILL", clip, out)
    assert r.returncode == -9, (r.returncode, r.stderr)
    left = sorted(p.name for p in out.iterdir())
    assert any(n.endswith(".intermediate.mp4") for n in left), left  # what SIGKILL cannot clean
    r = fix(clip, "-o", out, "-q")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["clip_fixed.mp4", "manifest.json", "segments.otio"]
