"""Issue 12, item 2: no output overwrites an input or a user's file; killed runs leave nothing."""

from __future__ import annotations

import errno
import os
import pathlib
import shutil

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fixtures import qa as F
from preflight.errors import OutputError
from preflight.outputs import check_output_path
from qa.cli import cli as qa_cli


def qa(*args: object):
    return CliRunner().invoke(qa_cli, ["score", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def pair():
    return F.box_pair(frames=24)


@pytest.fixture
def mask(pair, tmp_path):
    x, y, w, h = pair.boxes[0]
    img = np.zeros((pair.size[1], pair.size[0]), np.uint8)
    img[y : y + h, x : x + w] = 255
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), img)
    return path


# --------------------------------------------------------------------------- the shared check


def test_refuse_inputs_by_path_link_and_folder(tmp_path):
    from preflight.outputs import refuse_inputs

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
        refuse_inputs(folder / "x.csv", [folder])
    refuse_inputs(tmp_path / "other.csv", [src, folder, None])  # unrelated: fine


# --------------------------------------------------------------------------- qa


@pytest.mark.parametrize("option", ["--csv", "--save-region"])
def test_qa_force_never_overwrites_the_mask(pair, mask, option):
    before = mask.read_bytes()
    res = qa(pair.source, pair.edited, "--mask", mask, option, mask, "--force", "-q")
    assert res.exit_code == 2, res.output
    assert "input" in res.output and mask.read_bytes() == before


def test_qa_outputs_never_go_into_the_mask_folder(pair, mask, tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    shutil.copy(mask, folder / "0001.png")
    res = qa(pair.source, pair.edited, "--mask-dir", folder, "--heatmaps", folder, "--force", "-q")
    assert res.exit_code == 2, res.output
    assert sorted(p.name for p in folder.iterdir()) == ["0001.png"]


def test_qa_worst_zero_creates_no_heatmap_folder(pair, mask, tmp_path):
    hm = tmp_path / "heat"
    res = qa(pair.source, pair.edited, "--mask", mask, "--worst", "0", "--heatmaps", hm, "-q")
    assert res.exit_code == 0, res.output
    assert not hm.exists()


def test_qa_heatmaps_on_a_full_disk_leave_nothing(pair, mask, tmp_path, monkeypatch):
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
    res = CliRunner().invoke(qa_cli, ["score", str(pair.source), str(pair.edited), "--mask", str(mask),
                                      "--worst", "3", "--heatmaps", str(hm), "-q"])
    assert res.exit_code != 0 and len(calls) == 2
    assert not hm.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.png"]


def test_qa_heatmaps_failure_keeps_an_existing_folder_and_its_files(pair, mask, tmp_path, monkeypatch):
    hm = tmp_path / "heat"
    hm.mkdir()
    (hm / "notes.txt").write_text("mine")

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("qa.report.write_heatmap", broken)
    res = CliRunner().invoke(qa_cli, ["score", str(pair.source), str(pair.edited), "--mask", str(mask),
                                      "--worst", "2", "--heatmaps", str(hm), "-q"])
    assert res.exit_code != 0
    assert [p.name for p in hm.iterdir()] == ["notes.txt"]


# --------------------------------------------------------------------------- preflight check --csv


def test_check_csv_refuses_an_existing_file_without_force_and_any_input_with_it(tmp_path):
    from fixtures.synth import MEDIA
    from preflight.cli import cli

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
