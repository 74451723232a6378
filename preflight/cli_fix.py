"""``preflight fix`` and ``preflight join``: click commands registered on the ``preflight`` group.

Exit codes (:mod:`preflight.cliutil`): 0 done; 1 no valid plan (``fix``) or edited segments
that do not match their source segments (``join``); 2 usage error (bad option, bad anchor,
output refused: exists without --force, would overwrite an input, directory not writable);
3 unreadable or invalid input (source clip, manifest, missing edited segment).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cliutil import EXIT_CODES_HELP, EXIT_FAIL, emit_json, handle_errors, progress_bar, warn
from .plan import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS, Plan

PROG = "preflight"
FIX_SCHEMA = "preflight.fix/1"

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
                   "Default: <input dir>/<input name>_fixed/.")
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
    quiet: bool,
) -> None:
    """Make PATH acceptable to the editor: frame rate, size, aspect, H.264; split at shots.

    One decode finds cuts and transitions while encoding the converted clip; the plan (print it
    with --dry-run) picks the output rate and size and the optimal split points; the segments are
    then cut from that encode (re-encoding only around boundaries between keyframes) and a
    manifest.json maps segments (and --anchor keyframes) back to source time.
    """
    from .manifest import parse_anchor, place_anchors
    from .plan import make_plan, validate_encoder_options
    from .probe import probe
    from .profile import load_profile
    from .transcode import fix_file, transitions_for

    profile = load_profile(profile_name)
    validate_encoder_options(crf=crf, preset=preset)
    specs = [parse_anchor(a) for a in anchors]
    info = probe(path)
    out_dir = Path(output_dir) if output_dir else Path(path).parent / f"{Path(path).stem}_fixed"

    def on_warning(message: str) -> None:
        warn(PROG, message, quiet=quiet)

    if dry_run:
        with progress_bar(info.frame_count, desc="analysing", quiet=quiet) as bar:
            transitions, frame_count = transitions_for(
                path, profile, probe_result=info, progress=bar.update, on_warning=on_warning
            )
        plan = make_plan(
            info, transitions, profile, frame_count=frame_count, crf=crf, preset=preset, aspect=aspect
        )
        for message in plan.warnings:
            on_warning(message)
        if not plan.ok:
            if as_json:
                emit_json(_fix_json(plan, dry_run=True, anchors=[], files=None))
            click.echo(f"{PROG}: error: {plan.problem}", err=True)
            sys.exit(EXIT_FAIL)
        placed = place_anchors(
            specs, plan, max_anchors=profile.max_anchors, precision_s=profile.anchor_precision_s
        )
        if as_json:
            emit_json(_fix_json(plan, dry_run=True, anchors=[a.to_dict() for a in placed], files=None))
        else:
            click.echo(render_plan(plan, placed))
        return

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
            on_warning=on_warning,
        )
    placed = result.manifest["anchors"]
    if as_json:
        files = {"manifest": str(result.manifest_path), "segments": [str(p) for p in result.segment_paths]}
        emit_json(_fix_json(plan, dry_run=False, anchors=placed, files=files))
    else:
        click.echo(render_plan(plan))
        for a in placed:
            click.echo(f"  anchor {a['spec']!r} -> segment {a['segment']} at {a['at']} {a['time_s']:.2f} s")
        click.echo(f"wrote {len(result.segment_paths)} segment(s) and {result.manifest_path}")


def _fix_json(plan: Plan, *, dry_run: bool, anchors: list, files: dict | None) -> dict[str, object]:
    return {
        "schema": FIX_SCHEMA,
        "dry_run": dry_run,
        "ok": plan.ok,
        "plan": plan.to_dict(),
        "anchors": anchors,
        "files": files,
    }


def render_plan(plan: Plan, anchors=()) -> str:
    """The plan as a human-readable table."""
    r, s, a, e = plan.rate, plan.size, plan.aspect, plan.encoder
    lines = [
        f"plan for {plan.source} (profile {plan.profile})",
        f"  frame rate  {float(r.source_fps):.3f} -> {float(r.fps):.3f} fps [{r.mode}]  {r.reason}",
        f"  size        {s.display_width}x{s.display_height} -> {s.width}x{s.height}  {s.reason}",
        f"  aspect      {a.reason}",
        f"  encoder     {e.reason}",
        f"  audio       {e.audio_reason}",
        f"  split       {plan.split_reason}",
    ]
    if plan.segments:
        lines.append("")
        lines.append(
            f"  {'#':>3}  {'start s':>8}  {'end s':>8}  {'dur s':>7}  {'frames':>6}  {'cuts':>4}  boundary"
        )
        for seg in plan.segments:
            lines.append(
                f"  {seg.index:>3}  {seg.start_s:>8.2f}  {seg.end_s:>8.2f}  {seg.duration_s:>7.2f}  "
                f"{seg.frame_count:>6}  {len(seg.transitions):>4}  {seg.boundary}"
            )
    if anchors:
        lines.append("")
        for anc in anchors:
            lines.append(f"  anchor {anc.spec!r} -> segment {anc.segment} at {anc.at} {anc.time_s:.2f} s")
    if plan.warnings:
        lines.append("")
        lines.extend(f"  warning: {w}" for w in plan.warnings)
    return "\n".join(lines)


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
    from .join import run_join
    from .manifest import load_manifest

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


__all__ = ["EXIT_CODES_HELP", "fix_command", "join_command", "render_plan"]
