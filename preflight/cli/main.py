"""``preflight`` console script: the group, ``probe``, ``profiles`` and ``report``; ``check``
(:mod:`.check`), ``fix``/``join``/``anchors`` (:mod:`.fix`) are registered here.

The CLI parses options, calls the API, prints; exit codes are assigned only here (via
:mod:`preflight.cli.common`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .. import __version__
from .common import (
    EXIT_CODES_HELP,
    PROG,
    debug_option,
    emit_json,
    handle_errors,
)

if TYPE_CHECKING:
    pass



@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name=PROG)
@debug_option
def cli() -> None:
    """Check video clips against an AI video editor's rules, and fix them.

    \b
    preflight check clip.mp4            will the editor accept it? what will hurt the edit?
    preflight fix clip.mp4 -o out/      transcode into spec, split at shots, write a manifest
    preflight join manifest.json edited/ -o edited.mp4
    preflight profiles                  list built-in editor profiles
    """


@cli.command("probe", epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the probe as JSON.")
@handle_errors(PROG)
def probe_command(path: str, as_json: bool) -> None:
    """Print container and stream properties of PATH (reads no pixels)."""
    from ..media.probe import probe

    info = probe(path).to_dict()
    if as_json:
        emit_json(info)
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            click.echo(f"{key.ljust(width)}  {value}")


@cli.command("profiles", epilog=EXIT_CODES_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the profiles as JSON.")
@handle_errors(PROG)
def profiles_command(as_json: bool) -> None:
    """List the built-in editor profiles."""
    from ..profile import builtin_profiles, load_profile

    profiles = [load_profile(n) for n in builtin_profiles()]
    if as_json:
        emit_json([{"name": p.name, "description": p.description} for p in profiles])
        return
    for p in profiles:
        click.echo(f"{p.name:12s} {p.description}")


@cli.command("report", epilog=EXIT_CODES_HELP)
@click.argument("results", metavar="RESULTS.jsonl...", nargs=-1, required=True,
                type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              metavar="report.html", help="The HTML report to write (self-contained, no network).")
@click.option("--parquet", type=click.Path(dir_okay=False, path_type=str), metavar="TABLE.parquet",
              help="Also write one row per item as a Parquet table (needs pyarrow).")
@click.option("--thumbnails/--no-thumbnails", default=True, show_default=True,
              help="Decode thumbnails around cuts and of the worst qa frames from the items' files.")
@handle_errors(PROG)
def report_command(results: tuple[str, ...], output: str, parquet: str | None, thumbnails: bool) -> None:
    """Summarise batch results files (of `check` and `qa score --pairs`) as an HTML report."""
    from ..batch.html import render_report
    from ..batch.table import load_results, row, write_parquet
    from ..media.outputs import check_output_path, write_text_atomic

    for out in (output, parquet):
        if out:
            check_output_path(out, inputs=results, force=True)
    records = load_results(results)
    write_text_atomic(output, render_report(records, thumbnails=thumbnails))
    if parquet:
        write_parquet((row(r) for r in records), parquet)


# Registered here rather than decorated in place: each command group lives in its own module.
from .check import check_command  # noqa: E402
from .fix import anchors_command, fix_command, join_command  # noqa: E402

cli.add_command(check_command, "check")
cli.add_command(fix_command, "fix")
cli.add_command(join_command, "join")
cli.add_command(anchors_command, "anchors")


def main() -> None:
    from ..media.outputs import sigterm_as_exit

    with sigterm_as_exit():  # SIGTERM cleans up like Ctrl-C: no temporaries are left behind
        cli(prog_name=PROG)
