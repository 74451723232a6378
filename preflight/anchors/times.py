"""Parsing ``--at TIME``: seconds as a plain decimal number (``35``, ``12.5``)."""

from __future__ import annotations

import math
import re

from ..errors import UsageError, preview

_TIME_RE = re.compile(r"^\s*\d+(\.\d+)?\s*$")


def parse_at(text: str) -> float:
    """Seconds >= 0 from ``--at TIME``.

    Raises
    ------
    UsageError
        Not a plain decimal number of seconds (no sign, exponent, ``inf`` or ``nan``).
    """
    if not _TIME_RE.match(text):
        raise UsageError(f"--at {preview(text)}: expected seconds like 35 or 12.5")
    value = float(text)
    if not math.isfinite(value):
        raise UsageError(f"--at {preview(text)}: expected seconds like 35 or 12.5")
    return value
