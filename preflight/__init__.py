"""preflight: check and fix clips for AI in-context video editors.

The public API lives in :mod:`preflight.api` (``probe``, ``check``, ``plan_fix``, ``fix``,
``join``, ``load_profile``, ``errors``). ``probe``, ``plan_fix``, ``join``, ``load_profile`` and
``errors`` are also importable from here, loaded on first use (``import preflight`` does no
work); ``check`` and ``fix`` are not, because ``preflight.check`` and ``preflight.fix`` are the
subpackages that implement them. The layout and data flow are drawn in ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("probe", "plan_fix", "join", "load_profile", "errors")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'preflight' has no attribute {name!r}")
