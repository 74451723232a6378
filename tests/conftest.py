"""Shared fixtures and helpers of the test suite.

Helpers that are not fixtures (``write_box_mask``, ``manifest_doc``) are imported with
``from conftest import ...``.

``PREFLIGHT_TEST_FFMPEG_CPUFLAGS=0`` (or another ``AV_CPU_FLAG_*`` mask) forces the SIMD level
of the FFmpeg libraries PyAV bundles, for the whole test session: with ``NPY_DISABLE_CPU_FEATURES``
and ``OPENCV_CPU_DISABLE`` it simulates another CPU, which is how the golden documents are
checked to hold on machines other than the one that recorded them (see tests/golden_compare.py).
"""

from __future__ import annotations

import copy
import ctypes
import os
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fixtures import qa as F


def _force_ffmpeg_cpu_flags() -> None:
    flags = os.environ.get("PREFLIGHT_TEST_FFMPEG_CPUFLAGS")
    if flags is None:
        return
    libs = Path(av.__file__).resolve().parent.parent / "av.libs"
    avutil = next(libs.glob("libavutil*"), None)
    if avutil is None:
        raise pytest.UsageError(f"PREFLIGHT_TEST_FFMPEG_CPUFLAGS: no libavutil in {libs}")
    ctypes.CDLL(str(avutil)).av_force_cpu_flags(int(flags, 0))


def pytest_configure(config: pytest.Config) -> None:
    _force_ffmpeg_cpu_flags()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# --------------------------------------------------------------------------- qa pairs and masks


def write_box_mask(pair: F.Pair, folder: Path, name: str = "mask.png") -> Path:
    """A PNG mask (255 inside ``pair``'s first box, 0 elsewhere, source size) in ``folder``."""
    x, y, w, h = pair.boxes[0]
    img = np.zeros((pair.size[1], pair.size[0]), np.uint8)
    img[y : y + h, x : x + w] = 255
    path = folder / name
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture(scope="session")
def pair() -> F.Pair:
    """A 24-frame source/edited pair whose edit is one recoloured static box."""
    return F.box_pair(frames=24)


@pytest.fixture
def box_mask(pair: F.Pair, tmp_path: Path) -> Path:
    """The mask image of ``pair``'s box (``tmp_path / "mask.png"``)."""
    return write_box_mask(pair, tmp_path)


# --------------------------------------------------------------------------- fix manifests

_SEGMENT: dict[str, Any] = {
    "index": 1, "file": "clip_seg01.mp4", "bytes": 1000, "sha256": "0" * 64, "frame_count": 50,
    "duration_s": 2.0, "start_frame": 0, "end_frame": 50, "start_s": 0.0, "end_s": 2.0,
    "source": {"start_frame": 0, "last_frame": 49, "start_pts": 0, "last_pts": 25088,
               "time_base": "1/12800", "start_s": 0.0, "last_s": 1.96, "end_s": 2.0},
    "boundary": "start of the clip", "transitions": [], "anchors": [], "audio": None,
}


def manifest_doc(count: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid ``preflight.manifest/1`` document of ``count`` 50-frame segments at 25 fps
    (no probe or plan beyond what it must hold), with top-level keys replaced by ``changes``."""
    segs = []
    for i in range(count):
        seg = copy.deepcopy(_SEGMENT)
        seg.update(index=i + 1, file=f"clip_seg{i + 1:02d}.mp4", start_frame=50 * i, end_frame=50 * (i + 1),
                   start_s=2.0 * i, end_s=2.0 * (i + 1))
        seg["source"].update(start_frame=50 * i, last_frame=50 * i + 49, start_s=2.0 * i,
                             last_s=2.0 * i + 1.96, end_s=2.0 * (i + 1))
        segs.append(seg)
    doc = {
        "schema": "preflight.manifest/1",
        "tool": "preflight 0.1.0",
        "source": {"path": "/nonexistent/clip.mp4", "probe": {}},
        "profile": "aleph-2",
        "plan": {"encoder": {"crf": 18, "preset": "medium"}},
        "output": {"width": 640, "height": 360, "fps": "25", "fps_float": 25.0, "retime": "1",
                   "frame_count": 50 * count, "duration_s": 2.0 * count, "audio": "none"},
        "segments": segs,
        "anchors": [],
    }
    doc.update(changes)
    return doc
