"""Error hierarchy of the ``preflight`` package.

Library code raises these; only the CLI maps them to exit codes, so the Python API
stays usable inside other programs (a pipeline catches ``InputError`` and moves on).
Every message is one line of at most :data:`MAX_MESSAGE` characters: user-supplied text is
quoted through :func:`preview`, which abbreviates it.
"""

from __future__ import annotations

import os

MAX_MESSAGE = 300
"""Longest message (characters) an error of this package carries."""

_PREVIEW = 60
MAX_PATH_CHARS = 4096
MAX_NAME_CHARS = 255


def preview(value: object, limit: int = _PREVIEW) -> str:
    """``repr``-like short form of user-supplied ``value`` for an error message.

    One line; longer than ``limit`` characters is cut in the middle and says how long it was
    (``'aaaa…aaaa' (5000 chars)``), so a hostile input cannot blow up a message.

    Parameters
    ----------
    value : object
        A string (quoted like ``repr``) or any other value (its ``repr``, shortened).
    limit : int
        Longest kept part, in characters (>= 8).
    """
    text = repr(value) if isinstance(value, str) else _safe_repr(value)
    if len(text) <= limit:
        return text
    keep = max(4, (limit - 1) // 2)
    size = f" ({len(value)} chars)" if isinstance(value, str) else ""
    return f"{text[:keep]}…{text[-keep:]}{size}"


def _safe_repr(value: object) -> str:
    try:
        return " ".join(repr(value).split())
    except (ValueError, RecursionError):  # e.g. an int beyond the str-conversion digit limit
        return f"<{type(value).__name__}>"


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as an error message names it: as is, or through :func:`preview` when it is long
    or holds characters that would break the line (a newline, a carriage return)."""
    text = os.fspath(path)
    text = text if isinstance(text, str) else os.fsdecode(text)
    return text if len(text) <= 120 and text.isprintable() else preview(text, 120)


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a file path on this system (too long, NUL byte), or ``None``.

    Checked before touching the file system, so the user gets a short message, not the
    operating system's error with the whole path in it.
    """
    if "\0" in text:
        return "holds a NUL byte"
    if len(text) > MAX_PATH_CHARS:
        return f"is {len(text)} characters long (at most {MAX_PATH_CHARS})"
    longest = max((len(part) for part in text.split(os.sep)), default=0)
    if longest > MAX_NAME_CHARS:
        return f"has a {longest}-character name (at most {MAX_NAME_CHARS} per file or folder name)"
    return None


class PreflightError(Exception):
    """Base class of every error this package raises on purpose.

    Five kinds, each one exit code in the CLI (``preflight.cli.common``): :class:`UsageError`,
    :class:`InputError`, :class:`OutputError`, :class:`FailedError` and :class:`InternalError`.
    """


class UsageError(PreflightError, ValueError):
    """The caller asked for something inconsistent (bad option, bad profile, bad anchor)."""


class InputError(PreflightError):
    """An input file is missing, unreadable, not a video, or too broken to analyse.

    Parameters
    ----------
    path : str
        The offending file, so every message can name it (abbreviated when very long).
    problem : str
        One line saying what is wrong.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{shown_path(path)}: {problem}")
        self.path = path
        self.problem = problem


class OutputError(PreflightError):
    """An output cannot be written (exists without --force, would overwrite an input, not writable)."""


class FailedError(PreflightError):
    """The input was read, but fails the profile and cannot be fixed or joined as asked (no valid
    segmentation, edited segments of the wrong length): the CLI's "failed" outcome."""


class InternalError(PreflightError):
    """A check of the library's own invariants failed: a bug, never the caller's doing."""
