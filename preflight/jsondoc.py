"""The one JSON encoding of every document the tools print (``--json``, batch result lines).

Library code (the batch runner) and the CLI (``emit_json``) share it, so a document stored in a
results file is exactly what the single-item command prints.
"""

from __future__ import annotations

import json
from typing import Any


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: Fractions and Paths as strings, numpy scalars and arrays as Python."""
    from fractions import Fraction
    from pathlib import Path

    import numpy as np

    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """``obj`` as JSON text (no NaN: a NaN in a document is a bug and raises ``ValueError``)."""
    return json.dumps(obj, indent=indent, allow_nan=False, default=json_default)


def plain(obj: Any) -> Any:
    """``obj`` as the plain JSON value a reader of :func:`dumps` gets back."""
    return json.loads(dumps(obj))
