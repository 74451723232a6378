"""The golden comparison shared by ``tests/test_golden_*.py``.

A document equal to its golden text byte for byte passes. Otherwise it must have the same
structure (keys in the same order, list lengths, types, strings, booleans, integers) and numbers
within :data:`REL` relative or :data:`ABS` absolute of the golden ones: the generated fixture
clips are encoded with libx264, whose bytes (so the decoded pixels, and the numbers measured on
them) moved by a little between runs on this machine, even single-threaded. Any other difference
(a renamed key, a reordered field, a changed message, a different count) fails, which is what the
golden files guard when code moves.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path

REL = 0.05
ABS = 0.02
# Integers that count encoded bytes, not anything the code decides.
BYTE_KEYS = frozenset({"size_bytes", "bytes"})
# Lists ranked by a measured number: near-ties may trade places, so which frame stands at a rank
# is not compared (the measured numbers at each rank still are).
RANKED = frozenset({"worst_frames"})
RANK_IDENTITY = frozenset({"frame", "edited_frame", "source_frame", "time_s"})


def _diff(want: object, got: object, where: str, key: str | None = None) -> str | None:
    if isinstance(want, dict) and isinstance(got, dict):
        if list(want) != list(got):
            return f"{where}: keys {list(want)} != {list(got)}"
        for k in want:
            found = _diff(want[k], got[k], f"{where}.{k}", k)
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{where}: {len(want)} items != {len(got)}"
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            if key in RANKED and isinstance(w, dict) and isinstance(g, dict):
                w, g = ({k: v for k, v in d.items() if k not in RANK_IDENTITY} for d in (w, g))
            found = _diff(w, g, f"{where}[{i}]", key)
            if found:
                return found
        return None
    if isinstance(want, bool) or isinstance(got, bool) or isinstance(want, str) or want is None:
        return None if want == got else f"{where}: {want!r} != {got!r}"
    if isinstance(want, int) and isinstance(got, int) and key not in BYTE_KEYS:
        return None if want == got else f"{where}: {want} != {got}"
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        ok = math.isclose(want, got, rel_tol=REL, abs_tol=ABS) or key in BYTE_KEYS
        return None if ok else f"{where}: {want} != {got}"
    return f"{where}: {type(want).__name__} != {type(got).__name__}"


def assert_matches_golden(path: Path, text: str, *, update: bool) -> None:
    """Compare ``text`` (a JSON document) with the golden file ``path``; rewrite it if ``update``."""
    if update:
        path.write_text(text)
        return
    assert path.exists(), f"no golden {path.name}: run with PREFLIGHT_UPDATE_GOLDEN=1"
    want = path.read_text()
    if text == want:
        return
    problem = _diff(json.loads(want), json.loads(text), "$")
    if problem:
        lines = difflib.unified_diff(want.splitlines(True), text.splitlines(True), "golden", "now", n=1)
        raise AssertionError(f"{path.name}: {problem}\n{''.join(lines)[:4000]}")
