"""Shared helpers of the services / anchors / timeline tests: a small profile and cheap clips."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from fixtures.long import shots_clip
from preflight.cli.main import cli

FPS = 10
SIZE = (320, 180)


def small_profile(folder: Path, *, max_s: float = 30.0) -> Path:
    """aleph-2 with a low size and rate floor, so small 10 fps clips are kept as they are."""
    text = (resources.files("preflight") / "profiles" / "aleph-2.toml").read_text(encoding="utf-8")
    text = text.replace('name = "aleph-2"', 'name = "test-small"')
    text = text.replace("min_short_side = 480", "min_short_side = 90").replace(
        "min_fps = 24.0", "min_fps = 5.0"
    )
    text = text.replace("max_s = 30.0", f"max_s = {max_s}")
    path = folder / f"small_{max_s:g}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def three_shots() -> Path:
    """90 s in three 30 s shots at 10 fps, 320x180: splits into 3 segments of 30 s."""
    return shots_clip("services_three_shots", [300, 300, 300], fps=FPS, size=SIZE)[0]


def one_shot(seconds: int) -> Path:
    return shots_clip(f"services_one_shot_{seconds}", [seconds * FPS], fps=FPS, size=SIZE)[0]


def image(folder: Path, name: str, color: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> Path:
    path = folder / name
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = color[::-1]
    cv2.imwrite(str(path), img)
    return path


def preflight(*args: object):
    return CliRunner().invoke(cli, [*map(str, args)], prog_name="preflight")


def one_line_error(result, code: int, *needles: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    errors = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith("preflight: warning:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("preflight: error: ")
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def load_json(path: Path) -> object:
    return json.loads(Path(path).read_text(encoding="utf-8"))
