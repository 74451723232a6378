"""Error hierarchy of the ``preflight`` package.

Library code raises these; only the CLI maps them to exit codes, so the Python API
stays usable inside other programs (a pipeline catches ``InputError`` and moves on).
"""

from __future__ import annotations


class PreflightError(Exception):
    """Base class of every error this package raises on purpose."""


class UsageError(PreflightError, ValueError):
    """The caller asked for something inconsistent (bad option, bad profile, bad anchor)."""


class InputError(PreflightError):
    """An input file is missing, unreadable, not a video, or too broken to analyse.

    Parameters
    ----------
    path : str
        The offending file, so every message can name it.
    problem : str
        One line saying what is wrong.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class OutputError(PreflightError):
    """An output cannot be written (exists without --force, would overwrite an input, not writable)."""
