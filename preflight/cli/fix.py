"""``preflight fix`` and ``preflight join``: click commands registered on the ``preflight`` group.

Exit codes (:mod:`preflight.cli.common`): 0 done; 1 no valid plan (``fix``) or edited segments
that do not match their source segments (``join``); 2 usage error (bad option, bad anchor,
output refused: exists without --force, would overwrite an input, directory not writable);
3 unreadable or invalid input (source clip, manifest, missing edited segment).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import preview
from ..fix.plan import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS, Plan
from ..fix.report import fix_document, render_plan
from .common import EXIT_CODES_HELP, EXIT_FAIL, PROG, emit_json, handle_errors, progress_bar, warn

if TYPE_CHECKING:
    from ..media.probe import Probe
    from ..profile import Profile

FIX_EPILOG = (
    "Exit codes: 0 done; 1 no valid plan (e.g. clip shorter than the profile minimum); 2 usage "
    "error (bad option or anchor, output refused); 3 unreadable or invalid input; 4 internal error "
    "(rerun with --debug)."
)
JOIN_EPILOG = (
    "Exit codes: 0 done; 1 an edited segment's duration differs from its source segment by more "
    "than one frame; 2 usage error (output refused); 3 invalid manifest, missing or unreadable segment; "
    "4 internal error (rerun with --debug)."
)


@click.command("fix", epilog=FIX_EPILOG)
@click.argument("path", type=click.Path(dir_okay=True, path_type=str))
@click.option("--profile", "profile_name", default="aleph-2", show_default=True, metavar="NAME|PATH",
              help="Editor profile: a built-in name (see `preflight profiles`) or a .toml file.")
@click.option("-o", "--output-dir", type=click.Path(path_type=str), metavar="DIR",
              help="Where segments and manifest.json go (created if missing). "
                   "Default: <input dir>/<input stem>_fixed/, or <input name>_fixed/ "
                   "(clip.mkv_fixed/) when another video there has the same stem (clip.mov).")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema preflight.fix/1).")
@click.option("--force", is_flag=True,
              help="Overwrite existing segments and manifest in the output directory.")
@click.option("--crf", type=int, default=DEFAULT_CRF, show_default=True,
              help="x264 constant rate factor, 0-51 (lower = better quality, bigger files).")
@click.option("--preset", type=click.Choice(X264_PRESETS), default=DEFAULT_PRESET, show_default=True,
              help="x264 speed/compression trade-off.")
@click.option("--aspect", type=click.Choice(["pad", "crop"]), default=None,
              help="Conform a non-conventional aspect ratio to the nearest conventional one.")
@click.option("--anchor", "anchors", multiple=True, metavar="TIME|first|last[=IMAGE]",
              help="Keyframe anchor in source seconds (repeatable); remapped into its segment.")
@click.option("--service", "services", multiple=True, metavar="NAME",
              help="Also write each segment's request body for this editor service (repeatable): "
                   "runway, runway-gen4, runware, runware-gen4, cloudflare, cometapi.")
@click.option("--prompt", default=None, metavar="TEXT", help="The edit prompt for --service (1-1000 chars).")
@click.option("--video-url", default=None, metavar="TEMPLATE",
              help="https URL template with {file} where segments and anchor images will be uploaded; "
                   "default: a data URI where the service takes one, else a marked placeholder.")
@click.option("--edl", "write_edl", is_flag=True, help="Also write DIR/segments.edl (CMX 3600).")
@click.option("--merge-range", "merge_ranges", multiple=True, metavar="START-END",
              help="Source seconds planned as one shot (repeatable): transitions inside are ignored "
                   "for splitting (a strobe, a flash-cut montage).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings on stderr.")
@handle_errors(PROG)
def fix_command(
    path: str,
    profile_name: str,
    output_dir: str | None,
    dry_run: bool,
    as_json: bool,
    force: bool,
    crf: int,
    preset: str,
    aspect: str | None,
    anchors: tuple[str, ...],
    services: tuple[str, ...],
    prompt: str | None,
    video_url: str | None,
    write_edl: bool,
    merge_ranges: tuple[str, ...],
    quiet: bool,
) -> None:
    """Make PATH acceptable to the editor: frame rate, size, aspect, H.264; split at shots.

    One decode finds cuts and transitions while encoding the converted clip; the plan (print it
    with --dry-run) picks the output rate and size and the optimal split points; the segments are
    then cut from that encode (re-encoding only around boundaries between keyframes) and a
    manifest.json maps segments (and --anchor keyframes) back to source time. It also writes
    DIR/segments.otio (each segment a clip at its exact source range, anchors as markers) and,
    with --service, DIR/requests/<segment stem>.<service>.json: each service's request body,
    every limit checked first (a broken one: exit 2, nothing written). A Gen-4 service switches
    the size plan to its fixed sizes.
    """
    from ..fix.anchors import parse_anchor
    from ..fix.execute import fix_file
    from ..fix.plan import make_plan, validate_encoder_options
    from ..fix.segments import default_output_dir
    from ..media.probe import probe
    from ..profile import load_profile
    from ..services import fixrun, services_profile

    profile = load_profile(profile_name)
    validate_encoder_options(crf=crf, preset=preset)
    specs = [parse_anchor(a) for a in anchors]
    req = fixrun.request_options(services, prompt=prompt, video_url=video_url)
    notes: list[str] = []
    if req is not None:
        profile, notes = services_profile(profile, req.services)
    merged = [parse_time_range(r) for r in merge_ranges]
    info = probe(path)
    if write_edl:
        from ..timeline import check_edl_rate

        check_edl_rate(info)
    out_dir = Path(output_dir) if output_dir else default_output_dir(path)

    def on_warning(message: str) -> None:
        warn(PROG, message, quiet=quiet)

    for message in notes:
        on_warning(message)

    stem, precision_s = Path(path).stem, profile.anchor_precision_s
    requests_for = fixrun.requests_builder(req, specs, stem=stem, precision_s=precision_s)
    if dry_run:
        _dry_run(path, profile, info, req, specs, requests_for, crf=crf, preset=preset, aspect=aspect,
                 merge_ranges=merged, as_json=as_json, quiet=quiet, on_warning=on_warning)
        return

    fixrun.precheck_extras(out_dir, path, req, force=force, edl=write_edl)
    draft = make_plan(info, [], profile, crf=crf, preset=preset, aspect=aspect)
    for message in draft.warnings:
        on_warning(message)
    with progress_bar(draft.frame_count, desc="encoding", quiet=quiet) as bar:
        state = {"split": False}

        def split_progress(n: int) -> None:
            if not state["split"]:  # the same bar, reset for the (much faster) split
                state["split"] = True
                bar.reset(total=draft.frame_count)
                bar.set_description("splitting")
            bar.update(n)

        plan, result = fix_file(
            path, profile=profile, output_dir=out_dir, probe_result=info, crf=crf, preset=preset,
            aspect=aspect, anchors=specs, force=force, progress=bar.update, split_progress=split_progress,
            on_warning=on_warning, before_write=requests_for, merge_ranges=merged,
        )
    for message in plan.warnings:
        if message not in draft.warnings:  # those were printed before the pass
            on_warning(message)
    extra = fixrun.write_extras(req, plan, specs, result, precision_s=profile.anchor_precision_s, source=path,
                                probe=info, force=force, edl=write_edl, on_warning=on_warning)
    _print_fix(plan, result, req, extra, as_json=as_json, quiet=quiet)


def _dry_run(path: str, profile: Profile, info: Probe, req: Any, specs: list[Any], requests_for: Any, *,
             crf: int, preset: str, aspect: str | None, merge_ranges: list[tuple[float, float]],
             as_json: bool, quiet: bool, on_warning: Any) -> None:
    """``fix --dry-run``: analyse, plan, print the plan (and request costs); write nothing."""
    from ..fix.anchors import place_anchors
    from ..fix.execute import plan_fix
    from ..services import fixrun

    with progress_bar(info.frame_count, desc="analysing", quiet=quiet) as bar:
        plan = plan_fix(path, profile=profile, probe_result=info, crf=crf, preset=preset, aspect=aspect,
                        merge_ranges=merge_ranges, progress=bar.update, on_warning=on_warning)
    for message in plan.warnings:
        on_warning(message)
    if not plan.ok:
        if as_json:
            emit_json(fix_document(plan, dry_run=True, anchors=[], files=None))
        click.echo(f"{PROG}: error: {plan.problem}", err=True)
        sys.exit(EXIT_FAIL)
    bodies = requests_for(plan)
    placed = place_anchors(
        specs, plan, max_anchors=profile.max_anchors, precision_s=profile.anchor_precision_s
    )
    for message in fixrun.request_notes(req, plan, specs, bodies, precision_s=profile.anchor_precision_s,
                                        stem=Path(path).stem):
        on_warning(message)
    if as_json:
        doc = fix_document(plan, dry_run=True, anchors=[a.to_dict() for a in placed], files=None)
        emit_json(_with_costs(doc, req, plan))
    else:
        click.echo(render_plan(plan, placed))
        _echo_costs(req, plan)


def _print_fix(
    plan: Plan, result: Any, req: Any, extra: dict[str, Any], *, as_json: bool, quiet: bool
) -> None:
    """What ``fix`` says when done: the JSON document, or the plan and the files written."""
    placed = result.anchors
    if as_json:
        files = {"manifest": str(result.manifest_path), "segments": [str(p) for p in result.segment_paths]}
        doc = fix_document(plan, dry_run=False, anchors=placed, files={**files, **extra})
        emit_json(_with_costs(doc, req, plan))
    else:
        if not quiet:  # -q: only what was written
            click.echo(render_plan(plan))
            for a in placed:
                where = f"segment {a['segment']} at {a['at']} {a['time_s']:.2f} s"
                click.echo(f"  anchor {a['spec']!r} -> {where}")
            _echo_costs(req, plan)
        click.echo(f"wrote {len(result.segment_paths)} segment(s) and {result.manifest_path}")
        for key, value in extra.items():
            click.echo(f"wrote {len(value)} request file(s) in {Path(value[0]).parent}" if key == "requests"
                       else f"wrote {value}")


def _with_costs(doc: dict[str, object], req, plan: Plan) -> dict[str, object]:
    if req is None or not plan.ok:
        return doc
    from ..services import fixrun

    return {**doc, "services": [c.to_dict() for c in fixrun.costs(req, plan)]}


def _echo_costs(req, plan: Plan) -> None:
    if req is None or not plan.ok:
        return
    from ..services import fixrun

    click.echo("")
    click.echo("  cost before uploading (one request per segment):")
    for c in fixrun.costs(req, plan):
        click.echo(f"    {c.describe()}")


def parse_time_range(text: str) -> tuple[float, float]:
    """``"START-END"`` (seconds, e.g. ``12.4-14``) as a pair of finite floats."""
    head, sep, tail = text.partition("-")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(head), float(tail)
    except ValueError:
        raise click.BadParameter(f"{preview(text)} is not START-END in seconds (e.g. 12.4-14.1)",
                                 param_hint="--merge-range") from None
    if not 0 <= lo < hi < math.inf:
        raise click.BadParameter(f"{preview(text)}: need 0 <= START < END, both finite",
                                 param_hint="--merge-range")
    return lo, hi


@click.command("anchors", epilog=EXIT_CODES_HELP)
@click.argument("source", type=click.Path(path_type=str), metavar="MANIFEST_OR_CLIP")
@click.option("-o", "--output-dir", required=True, type=click.Path(path_type=str), metavar="DIR",
              help="Where the PNGs and contact_sheet.png go (created if missing).")
@click.option("--at", "times", multiple=True, type=str, metavar="TIME",
              help="Export the frame at TIME (source seconds for a manifest, clip seconds for a clip); "
                   "repeatable. Default: every anchor of the manifest.")
@click.option("--force", is_flag=True, help="Overwrite existing PNGs.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema preflight.anchors/1).")
@handle_errors(PROG)
def anchors_command(source: str, output_dir: str, times: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Write the exact frame at each anchor (or --at time) as a full-resolution PNG.

    Frames come from the fixed segments of a fix manifest: what you paint on is what the editor
    sees at that time. Files are named <segment stem>_<seconds>s.png; edit one and pass it back
    with `preflight fix ... --anchor TIME=edited.png`.
    """
    from ..anchors import export_anchor_frames, targets_for
    from ..anchors.times import parse_at

    targets = targets_for(source, at=[parse_at(t) for t in times])
    frames = export_anchor_frames(targets, output_dir, force=force)
    if as_json:
        emit_json({"schema": "preflight.anchors/1", "frames": [f.to_dict() for f in frames],
                   "contact_sheet": str(Path(output_dir) / "contact_sheet.png")})
    else:
        for f in frames:
            click.echo(f"{f.png}  ({f.target.video.name} frame {f.frame_index} at {f.frame_time_s:.3f} s)")
        click.echo(f"{Path(output_dir) / 'contact_sheet.png'}")


@click.command("join", epilog=JOIN_EPILOG)
@click.argument("manifest", type=click.Path(path_type=str))
@click.argument("edited_dir", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str), metavar="OUT",
              help="The joined clip (.mp4).")
@click.option("--source-audio", is_flag=True,
              help="Take the audio from the source clip instead of the edited segments.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--crf", type=int, default=None, help="x264 CRF (default: the manifest's).")
@click.option("--preset", type=click.Choice(X264_PRESETS), default=None,
              help="x264 preset (default: the manifest's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema preflight.join/1).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings on stderr.")
@handle_errors(PROG)
def join_command(
    manifest: str,
    edited_dir: str,
    output: str,
    source_audio: bool,
    force: bool,
    crf: int | None,
    preset: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Reassemble the edited segments in EDITED_DIR into one clip, in the order of MANIFEST.

    Each edited segment must last as long as its source segment (within one frame); all are
    re-encoded to a common size and the source segments' frame rate.
    """
    from ..fix.join import run_join
    from ..fix.manifest import load_manifest

    total = load_manifest(manifest).frame_count
    with progress_bar(total, desc="joining", quiet=quiet) as bar:
        result = run_join(
            manifest, edited_dir, output, force=force, source_audio=source_audio, crf=crf, preset=preset,
            progress=bar.update, on_warning=lambda m: warn(PROG, m, quiet=quiet),
        )
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(
            f"joined {len(result.segments)} segment(s) into {result.output}: {result.width}x{result.height}, "
            f"{float(result.fps):.3f} fps, {result.frame_count} frames, audio: {result.audio}"
        )


__all__ = ["EXIT_CODES_HELP", "anchors_command", "fix_command", "join_command", "render_plan"]
