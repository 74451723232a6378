"""``preflight`` console script: a thin layer over :mod:`preflight.api`.

The CLI parses options, calls the API, prints; exit codes are assigned only here (via
:mod:`preflight.cliutil`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import __version__
from .batch import BATCH_HELP, is_batch, item_outcome, run_batch_command
from .common import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    EXIT_PASS,
    debug_option,
    emit_json,
    handle_errors,
    progress_bar,
    warn,
)

if TYPE_CHECKING:
    from ..profile import Profile

PROG = "preflight"


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


@cli.command("check", epilog=f"{BATCH_HELP}\n\n{EXIT_CODES_HELP}")
@click.argument("paths", metavar="INPUT...", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--profile", "profile_name", default="aleph-2", show_default=True, metavar="NAME|PATH",
              help="Editor profile: a built-in name (see `preflight profiles`) or a .toml file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema preflight.check/1).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=str), metavar="PATH",
              help="Write every per-frame signal (cut scores, motion, luma, sharpness) to a CSV file.")
@click.option("--force", is_flag=True, help="Overwrite the --csv file if it exists (never an input).")
@click.option("--detector", "detectors", multiple=True,
              type=click.Choice(["adaptive", "content", "hist", "hash"]),
              help="Also run a PySceneDetect detector on the same decoded frames (repeatable); "
                   "its cuts are listed for comparison, the verdict uses this tool's detector.")
@click.option("--analysis-size", default=320, show_default=True, type=click.IntRange(16, 4096),
              help="Long side in pixels of the frames the analyzers see.")
@click.option("--full-decode", is_flag=True,
              help="Decode with the H.264/HEVC loop filter on (slower; the analysis size makes it "
                   "invisible, so it is skipped by default).")
@click.option("--otio", "otio_path", type=click.Path(dir_okay=False, path_type=str), metavar="FILE",
              help="Write the shots as clips, transitions as transitions and findings as markers to an "
                   "OpenTimelineIO file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings on stderr.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=str), metavar="FILE.jsonl",
              help="Batch: append one JSON line per item here; items already in it are skipped.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None,
              help="Batch: worker processes (default: the usable cores, at most 2; measured).")
@click.option("--scheduler", metavar="ADDRESS", help="Batch: run on a Dask cluster, e.g. tcp://host:8786.")
@handle_errors(PROG)
def check_command(
    paths: tuple[str, ...],
    profile_name: str,
    as_json: bool,
    csv_path: str | None,
    force: bool,
    detectors: tuple[str, ...],
    analysis_size: int,
    full_decode: bool,
    otio_path: str | None,
    quiet: bool,
    results: str | None,
    jobs: int | None,
    scheduler: str | None,
) -> None:
    """Probe each INPUT, analyse it in one decode pass, and judge it against an editor profile.

    Finds hard cuts and gradual transitions (dissolves, fades), measures camera shake, exposure
    and sharpness per shot, and reports every rule the clip breaks (errors: the editor will
    reject it) or quality problem (warnings: the edit will suffer), each with a fix hint.
    """
    from ..check.result import check
    from ..media.outputs import check_output_path
    from ..media.probe import probe
    from ..profile import load_profile

    profile = load_profile(profile_name)
    if is_batch(paths, results=results, jobs=jobs, scheduler=scheduler):
        _check_batch(paths, profile, detectors, analysis_size, full_decode, csv_path, as_json,
                     results=results, jobs=jobs, scheduler=scheduler, quiet=quiet)
    path = paths[0]
    if csv_path:
        check_output_path(csv_path, inputs=[path], force=force)
    if otio_path:
        check_output_path(otio_path, inputs=[path], force=force)
    info = probe(path)
    with progress_bar(info.frame_count, desc="analysing", quiet=quiet) as bar:
        result = check(
            path,
            profile=profile,
            detectors=detectors,
            analysis_size=analysis_size,
            fast_decode=not full_decode,
            progress=bar.update,
            on_warning=lambda m: warn(PROG, m, quiet=quiet),
            probe_result=info,
        )
    if csv_path:
        from ..check.report import write_frame_csv

        write_frame_csv(result, csv_path)
    if otio_path:
        from ..timeline import check_timeline, write_otio

        write_otio(check_timeline(result), otio_path)
    if as_json:
        emit_json(result.to_dict())
    else:
        from ..check.report import render_check

        click.echo(render_check(result), nl=False)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


def _check_batch(paths: tuple[str, ...], profile: Profile, detectors: tuple[str, ...], analysis_size: int,
                 full_decode: bool, csv_path: str | None, as_json: bool, **batch: Any) -> NoReturn:
    import functools

    from ..batch.inputs import expand_inputs
    from ..batch.tasks import CheckOptions, check_item
    from ..errors import UsageError

    if csv_path or as_json:
        raise UsageError("--csv and --json take one input; a batch writes JSON lines (see --results)")
    options = CheckOptions(profile=profile, detectors=detectors, analysis_size=analysis_size,
                           fast_decode=not full_decode)
    task = functools.partial(check_item, options=options, outcome=item_outcome)
    run_batch_command(PROG, expand_inputs(paths), task, key_of=str, **batch)


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


@cli.command("profiles")
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


# Registered here rather than decorated in place: fix/join live in their own module.
from .fix import anchors_command, fix_command, join_command  # noqa: E402

cli.add_command(fix_command, "fix")
cli.add_command(join_command, "join")
cli.add_command(anchors_command, "anchors")


def main() -> None:
    from ..media.outputs import sigterm_as_exit

    with sigterm_as_exit():  # SIGTERM cleans up like Ctrl-C: no temporaries are left behind
        cli(prog_name=PROG)
