"""Pieces every console script shares: error → exit code mapping, progress bars, JSON output.

Exit codes (documented in ``--help`` and the README) are assigned here and only here:

====  ==========================================================
0     passed
1     failed the profile / the quality gate
2     usage error (bad option, bad profile, output refused)
3     unreadable or invalid input file
====  ==========================================================
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from tqdm import tqdm

from .errors import InputError, OutputError, PreflightError, UsageError
from .jsondoc import dumps

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3

EXIT_CODES_HELP = (
    "Exit codes: 0 passed; 1 failed (profile or gate); 2 usage error "
    "(bad option, profile, or output refused); 3 unreadable or invalid input."
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(prog: str, message: str, code: int) -> None:
    """Print ``prog: error: message`` on one line to stderr and exit with ``code``."""
    click.echo(f"{prog}: error: {message}", err=True)
    sys.exit(code)


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, InputError):
        return EXIT_INPUT
    if isinstance(exc, (UsageError, OutputError, ValueError)):
        return EXIT_USAGE
    return EXIT_INPUT


def handle_errors(prog: str) -> Callable[[F], F]:
    """Decorator for click commands: known errors become one line + exit code, no traceback.

    Library errors of the ``qa`` package are mapped too (they subclass the same bases by
    duck-typing: an ``exit_code`` attribute wins when present).
    """

    def deco(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except click.exceptions.Exit:
                raise
            except click.ClickException:
                raise
            except Exception as exc:
                code, message = describe_error(exc)
                fail(prog, message, code)
            except KeyboardInterrupt:
                fail(prog, "interrupted", 130)
            return None

        return wrapper  # type: ignore[return-value]

    return deco


def describe_error(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message a command ends with when ``exc`` escapes it.

    Known errors (and ``ValueError``) print their message; anything else is prefixed with its
    type. An ``exit_code`` attribute wins when present. The batch runner records the same pair
    for an item that failed this way.
    """
    if isinstance(exc, (PreflightError, ValueError)):
        return getattr(exc, "exit_code", None) or exit_code_for(exc), _one_line(exc)
    code = getattr(exc, "exit_code", None)
    return EXIT_INPUT if code is None else code, f"{type(exc).__name__}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def progress_bar(total: int | None, *, desc: str, quiet: bool, unit: str = "frame") -> tqdm:
    """A tqdm bar on stderr, shown only on a TTY and without ``--quiet``."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        leave=False,
        dynamic_ncols=True,
    )


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout."""
    click.echo(dumps(obj, indent=2))


def warn(prog: str, message: str, *, quiet: bool = False) -> None:
    """One warning line on stderr (kept even with --quiet? no: --quiet silences warnings too)."""
    if not quiet:
        click.echo(f"{prog}: warning: {message}", err=True)
