"""Truth labels of the evaluation edits (``fixtures/transitions_eval.py``): a dissolve from or
into black is a fade, by a pixel property of the sides fixed in advance."""

from __future__ import annotations

import numpy as np
import pytest

from fixtures import transitions_eval as te

H, W = te.OUT[1], te.OUT[0]


def _frames(level: float, count: int, *, texture: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        img = level + texture * rng.standard_normal((H, W, 1))
        out.append(np.clip(np.repeat(img, 3, axis=2), 0, 255).astype(np.uint8))
    return out


def _label(outgoing: list[np.ndarray], incoming: list[np.ndarray], length: int) -> tuple[str, int, int]:
    edit = te._Edit()
    edit.cut(outgoing)
    edit.dissolve(incoming, length)
    assert len(edit.gradual) == 1
    return edit.gradual[0]


@pytest.mark.parametrize(
    ("out_level", "in_level", "expected"),
    [
        (0, 120, "fade_in"),     # from black: the incoming shot's exposure ramps up
        (120, 0, "fade_out"),    # into black
        (8, 120, "fade_in"),     # a few code values above black is still black
        (120, 40, "dissolve"),   # a dark shot (above 0.1) is not black
        (120, 200, "dissolve"),
        (0, 0, "dissolve"),      # nothing to fade: left as it was
    ],
)
def test_dissolve_from_or_into_black_is_a_fade(out_level: float, in_level: float, expected: str) -> None:
    kind, start, end = _label(_frames(out_level, 30), _frames(in_level, 30, texture=20, seed=1), 10)
    assert (kind, start, end) == (expected, 20, 29)


def test_black_side_must_be_black_throughout_the_dissolve() -> None:
    # The outgoing shot turns to picture for the last frames of the dissolve: not a fade.
    outgoing = _frames(0, 25) + _frames(120, 5, texture=20)
    assert _label(outgoing, _frames(120, 30, texture=20, seed=2), 10)[0] == "dissolve"
    # Black everywhere in the dissolve, picture before it: a fade in.
    outgoing = _frames(120, 15, texture=20) + _frames(0, 15)
    assert _label(outgoing, _frames(120, 30, texture=20, seed=2), 10)[0] == "fade_in"


def test_black_needs_low_spread_as_well_as_low_level() -> None:
    # Dark but speckled: most pixels below 0.1, yet a luma spread above 0.08 (bright dots).
    speckled = _frames(0, 1)[0].copy()
    speckled[::4, ::4] = 255
    assert te.is_black(_frames(5, 1)[0])
    assert not te.is_black(speckled)
