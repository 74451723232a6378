"""Pieces every console script shares: error → exit code mapping, progress bars, JSON output.

Exit codes (documented in ``--help`` and the README) are assigned here and only here:

====  ==========================================================
0     passed
1     failed the profile / the quality gate
2     usage error (bad option, bad profile, output refused)
3     unreadable or invalid input file
4     internal error (a bug: rerun with ``--debug`` for the traceback)
130   interrupted (Ctrl-C, SIGINT)
141   stdout closed by the reader (``| head``): stops quietly, like a tool killed by SIGPIPE
====  ==========================================================

Only the project's own errors (:class:`preflight.errors.PreflightError` and its subclasses,
``qa``'s included) get codes 1-3; anything else is a bug and says so.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click
from tqdm import tqdm

from ..errors import FailedError, InputError, InternalError, PreflightError, one_line
from ..jsondoc import dumps

PROG = "preflight"

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `tool | head` of other tools

DEBUG_ENV = "PREFLIGHT_DEBUG"
_DEBUG_KEY = "preflight.debug"

EXIT_CODES_HELP = (
    "Exit codes: 0 passed; 1 failed (profile or gate); 2 usage error "
    "(bad option, profile, or output refused); 3 unreadable or invalid input; "
    "4 internal error (rerun with --debug); 130 interrupted."
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(prog: str, message: str, code: int) -> None:
    """Print ``prog: error: message`` on one line to stderr and exit with ``code``."""
    click.echo(f"{prog}: error: {one_line(message)}", err=True)
    sys.exit(code)


def exit_code_for(exc: PreflightError) -> int:
    """The documented exit code of a project error, by its kind (usage and output errors: 2)."""
    if isinstance(exc, FailedError):
        return EXIT_FAIL
    if isinstance(exc, InternalError):
        return EXIT_INTERNAL
    return EXIT_INPUT if isinstance(exc, InputError) else EXIT_USAGE


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_DEBUG_KEY] = True


def debug_option(func: F) -> F:
    """``--debug`` on a command group: unexpected errors print their traceback (env: PREFLIGHT_DEBUG=1)."""
    return click.option(
        "--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug,
        help=f"Print the traceback of an internal error (exit code 4); also {DEBUG_ENV}=1.",
    )(func)


def debug_enabled() -> bool:
    """Whether ``--debug`` was given on the command line or ``PREFLIGHT_DEBUG`` is set (not 0)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_DEBUG_KEY):
        return True
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def handle_errors(prog: str) -> Callable[[F], F]:
    """Decorator for click commands: project errors become one line + exit code, no traceback.

    :class:`~preflight.errors.PreflightError` (``qa``'s errors subclass it) maps to 1-3 by
    :func:`exit_code_for`; any other exception is an internal error (exit 4) reported as such,
    with the traceback only under ``--debug``.
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
            except BrokenPipeError:  # the reader of stdout went away (`| head`): not a bug
                _silence_stdout()
                sys.exit(EXIT_BROKEN_PIPE)
            except Exception as exc:
                if not isinstance(exc, PreflightError) and debug_enabled():
                    traceback.print_exc(file=sys.stderr)
                code, message = describe_error(exc)
                fail(prog, message, code)
            except KeyboardInterrupt:
                fail(prog, "interrupted", EXIT_INTERRUPTED)
            return None

        return wrapper  # type: ignore[return-value]

    return deco


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. CliRunner)
        pass


def describe_error(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message a command ends with when ``exc`` escapes it.

    The project's own errors print their message with their documented code; anything else is
    an internal error (:data:`EXIT_INTERNAL`). The batch runner records the same pair for an
    item that failed this way.
    """
    if isinstance(exc, PreflightError):
        return exit_code_for(exc), _one_line(exc)
    return EXIT_INTERNAL, internal_error_message(exc)


def internal_error_message(exc: BaseException) -> str:
    """One line for an unexpected exception: what it was, and how to get the traceback."""
    what = one_line(f"{type(exc).__name__}: {_one_line(exc)}", 200)
    return f"internal error: {what}; rerun with --debug for the traceback"


def _one_line(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the error
        text = ""
    return one_line(text) or type(exc).__name__


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
