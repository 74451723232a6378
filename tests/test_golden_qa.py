"""Golden ``qa score --json`` outputs: the JSON stays byte-identical across refactors.

Each case runs the CLI on a generated fixture pair and compares its output, with only the
temporary and repository paths normalised, to ``tests/golden/qa_<case>.json``. Regenerate (after
an intended change of the output, never to make a refactor pass) with
``PREFLIGHT_UPDATE_GOLDEN=1 pytest tests/test_golden_qa.py``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_box_mask
from golden_compare import assert_matches_golden

from fixtures import qa as F
from qa.cli import cli

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("PREFLIGHT_UPDATE_GOLDEN") == "1"


def _box(pair: F.Pair, _tmp: Path) -> list[str]:
    x, y, w, h = pair.boxes[0]
    return [pair.source, pair.edited, "--box", f"{x},{y},{w},{h}"]


def _plain(pair: F.Pair, _tmp: Path) -> list[str]:
    return [pair.source, pair.edited]


CASES: dict[str, tuple[Callable[[], F.Pair], Callable[[F.Pair, Path], list]]] = {
    "box": (lambda: F.box_pair(frames=24), _box),
    "box_moving_auto_region": (lambda: F.box_pair(frames=24, moving=True),
                               lambda p, t: [p.source, p.edited, "--auto-region"]),
    "mask": (lambda: F.box_pair(frames=24),
             lambda p, t: [p.source, p.edited, "--mask", write_box_mask(p, t)]),
    "no_region_scale2": (lambda: F.box_pair(frames=24), lambda p, t: [*_plain(p, t), "--scale", "2"]),
    "offset": (lambda: F.offset_pair(3), _plain),
    "scaled": (lambda: F.scaled_pair(), lambda p, t: [*_plain(p, t), "--scale", "auto"]),
    "still_offset": (lambda: F.still_offset_pair(4), _box),
}


def _normalise(text: str, tmp: Path) -> str:
    """Temporary and repository paths, and the fixture cache's content hashes (they change with
    the generator's source, not with what qa computes), as placeholders."""
    text = text.replace(str(tmp), "<tmp>").replace(str(REPO), "<repo>")
    return re.sub(r"(fixtures/cache/[A-Za-z0-9_.-]+?)-[0-9a-f]{10,}(\.[a-z0-9]+)", r"\1-<hash>\2", text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_qa_score_json_is_unchanged(case: str, tmp_path: Path) -> None:
    make, args = CASES[case]
    pair = make()
    res = CliRunner().invoke(cli, ["score", *map(str, args(pair, tmp_path)), "--json", "--quiet"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    got = _normalise(res.output, tmp_path)
    assert_matches_golden(GOLDEN / f"qa_{case}.json", got, update=UPDATE)
