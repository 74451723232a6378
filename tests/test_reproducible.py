"""Same clip, same settings, same bytes: on any CPU, not only on the one that wrote them first.

x264 picks float approximations (macroblock-tree propagation and others) by instruction set, so
without ``cpu-independent`` its decisions, hence the bytes, changed between machines. The
instruction set is forced here with x264's own ``asm`` switch (``no-asm`` = plain C).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fixtures.synth import real_frames, write_clip
from preflight.fix.plan.encoder import EncoderPlan


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """60 real 320x240 frames (enough for x264's macroblock tree to matter)."""
    return [f[:240, :320].copy() for _, f in zip(range(60), real_frames(), strict=False)]


def _encode(path: Path, options: dict[str, str], frames: list[np.ndarray]) -> str:
    write_clip(path, frames, fps=25, options=options)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _options(plan: EncoderPlan, extra: str | None) -> dict[str, str]:
    opts = plan.x264_options()
    if extra:
        opts["x264-params"] = ":".join(p for p in (opts.get("x264-params"), extra) if p)
    return opts


def test_fix_encoder_output_does_not_depend_on_the_instruction_set(tmp_path: Path, frames) -> None:
    for plan in (EncoderPlan(), EncoderPlan(preset="ultrafast"), EncoderPlan(crf=28, preset="slow")):
        native = _encode(tmp_path / "native.mp4", _options(plan, None), frames)
        plain_c = _encode(tmp_path / "c.mp4", _options(plan, "no-asm=1"), frames)
        assert native == plain_c, plan.preset


def test_the_check_can_fail(tmp_path: Path, frames) -> None:
    """Without cpu-independent the two encodes differ: the test above measures something."""
    opts = {"crf": "18", "preset": "medium"}
    native = _encode(tmp_path / "native.mp4", opts, frames)
    plain_c = _encode(tmp_path / "c.mp4", {**opts, "x264-params": "no-asm=1"}, frames)
    assert native != plain_c
