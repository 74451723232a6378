"""``qa`` console script: ``qa score SOURCE EDITED [region] [gate options]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click

from preflight.cli.batch import BATCH_EXIT_HELP, JOBS_HELP
from preflight.cli.common import (
    EXIT_FAIL,
    EXIT_PASS,
    debug_option,
    emit_json,
    handle_errors,
    progress_bar,
    warn,
)
from preflight.errors import OutputError
from preflight.media.outputs import FolderRollback, check_output_path, refuse_inputs

from .align import DEFAULT_MAX_OFFSET
from .errors import QAUsageError
from .gate import DEFAULT_MIN_MEAN, DEFAULT_MIN_P5, DEFAULT_WORST, Gate
from .mask import Region, make_region, parse_box

PROG = "qa"
HEATMAP_GLOB = "worst_*_frame_*.png"
# qa has no editor profile: preflight's EXIT_CODES_HELP (which names one) does not apply.
QA_EXIT_CODES_HELP = (
    "Exit codes: 0 passed; 1 failed the quality gate; 2 usage error (bad option, or output "
    "refused); 3 unreadable or invalid input; 4 internal error (rerun with --debug); 130 interrupted."
)

SCORE_HELP = f"""Score how well EDITED preserves SOURCE outside the edit region (luma SSIM).

SSIM is Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L = 2^bitdepth - 1),
identical to scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False) within 1e-4. The SSIM map is averaged over pixels farther than the
window radius (5 px) from the region and from the frame edge; PSNR uses the same pixels; the
change inside the region is 1 - SSIM there.

\b
Region (one kind; none = whole frame):
  --mask IMAGE        white = edited, for every frame
  --mask-video PATH   frame i masks source frame i
  --mask-dir DIR      i-th image (natural sort) masks source frame i
  --box x,y,w,h[@t0-t1]  pixels of the displayed source frame, or fractions if all
                      four are <= 1; optional time range in seconds; repeatable
  --auto-region       estimate the region from the difference; reported as boxes,
                      and as a mask image with --save-region
A mask of another size but the same aspect ratio (1%) is resampled with a warning (a pixel
counts as edited if any part of it was); another aspect ratio, an empty mask, or a region that
leaves nothing to score is an error.

\b
Alignment: an edited clip of another size is resampled to the source grid; frames are
paired by timestamp; a constant offset up to --max-offset frames (at most the clip length) is
detected from thumbnails, past a still opening if need be, and reported with its evidence;
durations must agree within 6 frames (fewer with a smaller --max-offset).

Gate (defaults, see qa/gate.py for the rationale): mean outside SSIM >= {DEFAULT_MIN_MEAN} and 5th
percentile >= {DEFAULT_MIN_P5}; exit 1 when either fails.

{QA_EXIT_CODES_HELP} {BATCH_EXIT_HELP}
"""


@click.group(name="qa", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=QA_EXIT_CODES_HELP)
@click.version_option(package_name="video-preflight", prog_name="qa")
@debug_option
def cli() -> None:
    """Post-edit quality checks for AI video edits."""


def _scale(value: str) -> str | int:
    v = value.strip().lower()
    if v in ("full", "auto"):
        return v
    try:
        f = int(v)
    except ValueError:
        raise QAUsageError(f"--scale {value!r}: expected 'full', 'auto' or an integer factor >= 1") from None
    if f < 1:
        raise QAUsageError(f"--scale {value!r}: the factor must be >= 1")
    return f


@cli.command(name="score", help=SCORE_HELP)
@click.argument("source", type=click.Path(dir_okay=True), required=False)
@click.argument("edited", type=click.Path(dir_okay=True), required=False)
@click.option("--pairs", "pairs_csv", type=click.Path(dir_okay=False), metavar="PAIRS.csv",
              help="Batch: score every row (header source,edited[,mask][,box]; paths relative to the CSV).")
@click.option("--results", type=click.Path(dir_okay=False), metavar="FILE.jsonl",
              help="Batch: append one JSON line per pair here; pairs already in it are skipped.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help=JOBS_HELP)
@click.option("--scheduler", metavar="ADDRESS", help="Batch: run on a Dask cluster, e.g. tcp://host:8786.")
@click.option("--mask", "mask_image", type=click.Path(), help="Mask image, white = edited.")
@click.option("--mask-video", type=click.Path(), help="Video of per-frame masks.")
@click.option("--mask-dir", type=click.Path(), help="Folder of per-frame mask images.")
@click.option("--box", "boxes", multiple=True, metavar="x,y,w,h[@t0-t1]", help="Edit rectangle (repeatable).")
@click.option("--auto-region", is_flag=True, help="Estimate the edit region from the difference.")
@click.option("--save-region", type=click.Path(), help="Write the region used (union over time) as a PNG.")
@click.option("--scale", "scale_text", default="full", show_default=True,
              help="full, auto (Wang 2009: factor max(1, round(min(H,W)/256))) or an integer factor.")
@click.option("--max-offset", type=click.IntRange(min=0), default=DEFAULT_MAX_OFFSET, show_default=True,
              help="Largest frame offset searched for (capped at the clip length).")
@click.option("--offset", type=int, default=None, help="Use this offset (frames; + = edited delayed).")
@click.option("--min-mean", type=float, default=DEFAULT_MIN_MEAN, show_default=True,
              help="Gate: lowest acceptable mean outside SSIM.")
@click.option("--min-p5", type=float, default=DEFAULT_MIN_P5, show_default=True,
              help="Gate: lowest acceptable 5th-percentile outside SSIM.")
@click.option("--worst", type=click.IntRange(min=0), default=DEFAULT_WORST, show_default=True,
              help="How many worst frames to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema qa.score/1) instead of the table.")
@click.option("--csv", "csv_path", type=click.Path(), help="Write per-frame scores to this CSV file.")
@click.option("--heatmaps", "heatmap_dir", type=click.Path(file_okay=False),
              help="Write PNGs of the worst frames (source | edited | SSIM map) into this folder.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or warnings.")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=2, show_default=True,
              help="SSIM threads.")
@handle_errors(PROG)
def score_cmd(
    source: str | None,
    edited: str | None,
    pairs_csv: str | None,
    results: str | None,
    jobs: int | None,
    scheduler: str | None,
    mask_image: str | None,
    mask_video: str | None,
    mask_dir: str | None,
    boxes: tuple[str, ...],
    auto_region: bool,
    save_region: str | None,
    scale_text: str,
    max_offset: int,
    offset: int | None,
    min_mean: float,
    min_p5: float,
    worst: int,
    as_json: bool,
    csv_path: str | None,
    heatmap_dir: str | None,
    force: bool,
    quiet: bool,
    workers: int,
) -> None:
    from .report import format_table, write_csv, write_region_png
    from .score import score

    if pairs_csv or results or jobs or scheduler:
        _score_batch(source, edited, pairs_csv, locals(), results=results, jobs=jobs, scheduler=scheduler,
                     quiet=quiet)
    if source is None or edited is None:
        raise QAUsageError("give SOURCE and EDITED, or --pairs PAIRS.csv")
    region = _region(mask_image, mask_video, mask_dir, boxes, auto_region)
    scale = _scale(scale_text)
    try:
        gate = Gate(min_mean=min_mean, min_p5=min_p5)
    except ValueError as exc:
        raise QAUsageError(str(exc)) from None
    # Outputs are validated before any decoding, so a refused path costs nothing.
    inputs, input_dirs = [source, edited, mask_image, mask_video, mask_dir], [mask_dir]
    if csv_path:
        check_output_path(csv_path, inputs=inputs, input_dirs=input_dirs, force=force)
    if save_region:
        check_output_path(save_region, inputs=inputs, input_dirs=input_dirs, force=force)
        if not (auto_region or mask_image or boxes):
            raise QAUsageError("--save-region needs --auto-region, --mask or --box")
    heatmaps = _heatmap_dir(heatmap_dir, worst=worst, inputs=inputs, input_dirs=input_dirs, force=force)

    bar = progress_bar(None, desc="qa score", quiet=quiet)
    # On any failure (a full disk, Ctrl-C) the maps this run drew go, and the folder if it made it.
    drawn = FolderRollback(heatmap_dir, pattern=HEATMAP_GLOB) if heatmaps and heatmap_dir else None
    try:
        result = score(
            source,
            edited,
            region=region,
            auto_region=auto_region,
            scale=scale,
            max_offset=max_offset,
            offset=offset,
            gate=gate,
            worst=worst,
            heatmap_dir=heatmap_dir if heatmaps else None,
            workers=workers,
            on_warning=lambda m: warn(PROG, m, quiet=quiet),
            on_progress=bar.update,
            total_hint=lambda n: setattr(bar, "total", n),
        )
        if csv_path:
            write_csv(csv_path, result)
        if save_region:
            mask = result.auto_region_union
            if mask is None and region is not None:
                mask = region.union_mask()
            if mask is not None:
                write_region_png(save_region, mask)
    except BaseException:
        if drawn is not None:
            drawn.rollback()
        raise
    finally:
        bar.close()

    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(format_table(result))
    click.get_current_context().exit(EXIT_PASS if result.passed else EXIT_FAIL)


def _score_batch(source: str | None, edited: str | None, pairs_csv: str | None, opts: dict[str, Any],
                 **batch: Any) -> NoReturn:
    """``qa score --pairs``: every single-pair gate and scoring option applies to each pair."""
    import functools
    from operator import attrgetter

    from preflight.cli.batch import item_outcome, run_batch_command

    from .batch import ScoreOptions, read_pairs, score_item

    if source or edited or not pairs_csv:
        raise QAUsageError("a batch takes --pairs PAIRS.csv instead of SOURCE EDITED")
    single = (("--mask", "mask_image"), ("--mask-video", "mask_video"), ("--mask-dir", "mask_dir"),
              ("--box", "boxes"), ("--save-region", "save_region"), ("--csv", "csv_path"),
              ("--heatmaps", "heatmap_dir"), ("--json", "as_json"))
    if per_item := [o for o, k in single if opts[k]]:
        raise QAUsageError(f"{', '.join(per_item)}: not with --pairs (regions go in the CSV's columns)")
    try:
        Gate(min_mean=opts["min_mean"], min_p5=opts["min_p5"])
    except ValueError as exc:
        raise QAUsageError(str(exc)) from None
    options = ScoreOptions(auto_region=opts["auto_region"], scale=_scale(opts["scale_text"]),
                           max_offset=opts["max_offset"], offset=opts["offset"], min_mean=opts["min_mean"],
                           min_p5=opts["min_p5"], worst=opts["worst"], workers=opts["workers"])
    pairs = read_pairs(pairs_csv)
    if options.auto_region and any(p.mask or p.box for p in pairs):
        raise QAUsageError(f"{pairs_csv}: --auto-region, but rows give a mask or box; use one or the other")
    task = functools.partial(score_item, options=options, outcome=item_outcome)
    run_batch_command(PROG, pairs, task, key_of=attrgetter("key"), **batch)


def _one_region_kind(*options: tuple[str, object]) -> None:
    """Refuse more than one region kind among ``(option name, value)`` pairs."""
    kinds = [name for name, value in options if value]
    if len(kinds) > 1:
        raise QAUsageError(f"give one region kind, not {' and '.join(kinds)}")


def _region(mask_image: str | None, mask_video: str | None, mask_dir: str | None, boxes: tuple[str, ...],
            auto_region: bool) -> Region | None:
    """The region the options name (at most one kind)."""
    _one_region_kind(("--mask", mask_image), ("--mask-video", mask_video), ("--mask-dir", mask_dir),
                     ("--box", boxes), ("--auto-region", auto_region))
    return make_region(image=mask_image, video=mask_video, folder=mask_dir, boxes=boxes)


def _heatmap_dir(heatmap_dir: str | None, *, worst: int, inputs: list, input_dirs: list, force: bool) -> bool:
    """Validate ``--heatmaps`` before any decoding (removing an earlier run's maps with --force).

    Returns whether maps are drawn (``--worst 0`` draws nothing: no folder either).
    """
    heatmaps = bool(heatmap_dir) and worst > 0  # --worst 0 draws nothing: no folder either
    if heatmap_dir:
        hd = Path(heatmap_dir)
        if hd.exists() and not hd.is_dir():
            raise QAUsageError(f"--heatmaps {heatmap_dir}: exists and is not a directory")
        if not hd.parent.is_dir():
            raise QAUsageError(f"--heatmaps {heatmap_dir}: parent directory does not exist")
        refuse_inputs(hd, inputs, input_dirs=input_dirs)
        old = sorted(hd.glob(HEATMAP_GLOB)) if hd.is_dir() else []
        for f in old:
            refuse_inputs(f, inputs)
        if old and not force:
            raise OutputError(f"{heatmap_dir}: holds heat maps of an earlier run (--force replaces them)")
        if heatmaps:
            for f in old:  # stale maps of other frames would read as this run's
                f.unlink()
    return heatmaps


@cli.command(name="anchors", epilog=QA_EXIT_CODES_HELP)
@click.argument("manifest", type=click.Path())
@click.argument("edited_dir", type=click.Path())
@click.option("--mask", "mask_image", type=click.Path(), help="Mask image, white = edited (segment size).")
@click.option("--box", "boxes", multiple=True, metavar="x,y,w,h", help="Edit rectangle (repeatable).")
@click.option("--auto-region", is_flag=True,
              help="Region = where the anchor image differs from the source frame (the default).")
@click.option("--max-delta-e", type=float, default=None, metavar="X",
              help="Gate: largest mean CIEDE2000 inside the region (default 5.0).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (schema qa.anchors/1) instead of the table.")
@click.option("--quiet", "-q", is_flag=True, help="No warnings.")
@handle_errors(PROG)
def anchors_cmd(manifest: str, edited_dir: str, mask_image: str | None, boxes: tuple[str, ...],
                auto_region: bool, max_delta_e: float | None, as_json: bool, quiet: bool) -> None:
    """Check that the edited segments in EDITED_DIR match MANIFEST's anchor images at their times.

    Inside the region: CIEDE2000 mean and 95th percentile and SSIM against the anchor image;
    outside: SSIM against the source segment, as `qa score`. Gate: mean CIEDE2000 <= 5.0
    (--max-delta-e) and SSIM outside >= 0.90 for every anchor; exit 0 pass, 1 fail.
    """
    from .anchors import DEFAULT_MAX_DELTA_E, format_anchors, score_anchors

    _one_region_kind(("--mask", mask_image), ("--box", boxes), ("--auto-region", auto_region))
    result = score_anchors(
        manifest, edited_dir, mask=mask_image, boxes=[parse_box(b) for b in boxes],
        max_delta_e=DEFAULT_MAX_DELTA_E if max_delta_e is None else max_delta_e,
        on_warning=lambda m: warn(PROG, m, quiet=quiet),
    )
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(format_anchors(result))
    click.get_current_context().exit(EXIT_PASS if result.passed else EXIT_FAIL)


def main() -> None:
    """Entry point of the ``qa`` console script."""
    from preflight.media.outputs import sigterm_as_exit

    with sigterm_as_exit():  # SIGTERM cleans up like Ctrl-C: no half-written outputs
        cli(prog_name=PROG)


if __name__ == "__main__":
    main()
