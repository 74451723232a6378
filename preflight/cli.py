"""``preflight`` console script: a thin layer over :mod:`preflight.api`.

The CLI parses options, calls the API, prints; exit codes are assigned only here (via
:mod:`preflight.cliutil`).
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .cliutil import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    EXIT_PASS,
    debug_option,
    emit_json,
    handle_errors,
    progress_bar,
    warn,
)

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


@cli.command("check", epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(dir_okay=True, path_type=str))
@click.option("--profile", "profile_name", default="aleph-2", show_default=True, metavar="NAME|PATH",
              help="Editor profile: a built-in name (see `preflight profiles`) or a .toml file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema preflight.check/1).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=str), metavar="PATH",
              help="Write every per-frame signal (cut scores, motion, luma, sharpness) to a CSV file.")
@click.option("--detector", "detectors", multiple=True,
              type=click.Choice(["adaptive", "content", "hist", "hash"]),
              help="Also run a PySceneDetect detector on the same decoded frames (repeatable); "
                   "its cuts are listed for comparison, the verdict uses this tool's detector.")
@click.option("--analysis-size", default=320, show_default=True, type=click.IntRange(16, 4096),
              help="Long side in pixels of the frames the analyzers see.")
@click.option("--full-decode", is_flag=True,
              help="Decode with the H.264/HEVC loop filter on (slower; the analysis size makes it "
                   "invisible, so it is skipped by default).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings on stderr.")
@handle_errors(PROG)
def check_command(
    path: str,
    profile_name: str,
    as_json: bool,
    csv_path: str | None,
    detectors: tuple[str, ...],
    analysis_size: int,
    full_decode: bool,
    quiet: bool,
) -> None:
    """Probe PATH, analyse it in one decode pass, and judge it against an editor profile.

    Finds hard cuts and gradual transitions (dissolves, fades), measures camera shake, exposure
    and sharpness per shot, and reports every rule the clip breaks (errors: the editor will
    reject it) or quality problem (warnings: the edit will suffer), each with a fix hint.
    """
    from .api import check
    from .outputs import check_output_path
    from .probe import probe
    from .profile import load_profile

    profile = load_profile(profile_name)
    if csv_path:
        check_output_path(csv_path, inputs=[path], force=True)
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
        from .report import write_frame_csv

        write_frame_csv(result, csv_path)
    if as_json:
        emit_json(result.to_dict())
    else:
        from .report import render_check

        click.echo(render_check(result), nl=False)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


@cli.command("probe", epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the probe as JSON.")
@handle_errors(PROG)
def probe_command(path: str, as_json: bool) -> None:
    """Print container and stream properties of PATH (reads no pixels)."""
    from .probe import probe

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
    from .profile import builtin_profiles, load_profile

    profiles = [load_profile(n) for n in builtin_profiles()]
    if as_json:
        emit_json([{"name": p.name, "description": p.description} for p in profiles])
        return
    for p in profiles:
        click.echo(f"{p.name:12s} {p.description}")


# Registered here rather than decorated in place: fix/join live in their own module.
from .cli_fix import fix_command, join_command  # noqa: E402

cli.add_command(fix_command, "fix")
cli.add_command(join_command, "join")


def main() -> None:
    cli(prog_name=PROG)
