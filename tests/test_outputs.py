from __future__ import annotations

import os
import stat

import pytest

from preflight.errors import OutputError
from preflight.media.outputs import atomic_path, check_output_path, write_text_atomic


def test_atomic_write_renames_and_follows_umask(tmp_path):
    target = tmp_path / "out.json"
    write_text_atomic(target, "{}")
    assert target.read_text() == "{}"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert list(tmp_path.iterdir()) == []


def test_output_checks(tmp_path):
    src = tmp_path / "in.mp4"
    src.write_bytes(b"x")
    with pytest.raises(OutputError, match="overwrite the input"):
        check_output_path(src, inputs=[src], force=True)
    with pytest.raises(OutputError, match="already exists"):
        check_output_path(src)
    assert check_output_path(src, force=True) == src
    with pytest.raises(OutputError, match="is a directory"):
        check_output_path(tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "x.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="not writable"):
        check_output_path(locked / "x.csv")
