"""``preflight check``: probe, analyse in one decode, judge against a profile, print."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .batch import BATCH_HELP, JOBS_HELP, is_batch, item_outcome, run_batch_command
from .common import EXIT_CODES_HELP, EXIT_FAIL, EXIT_PASS, PROG, emit_json, handle_errors, progress_bar, warn

if TYPE_CHECKING:
    from ..profile import Profile



@click.command("check", epilog=f"{BATCH_HELP}\n\n{EXIT_CODES_HELP}")
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
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help=JOBS_HELP)
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
