"""``qa`` console script: ``qa score SOURCE EDITED [region] [gate options]``."""

from __future__ import annotations

from pathlib import Path

import click

from preflight.cliutil import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    EXIT_PASS,
    debug_option,
    emit_json,
    handle_errors,
    progress_bar,
    warn,
)
from preflight.errors import OutputError
from preflight.outputs import check_output_path

from .align import DEFAULT_MAX_OFFSET
from .errors import QAUsageError
from .gate import DEFAULT_MIN_MEAN, DEFAULT_MIN_P5, DEFAULT_WORST, Gate
from .mask import BoxRegion, MaskDir, MaskVideo, Region, StaticMask, parse_box

PROG = "qa"

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
paired by timestamp; a constant offset up to --max-offset frames is detected from the first
frames and reported; durations must agree within --max-offset + 1 frames.

Gate (defaults, see qa/gate.py for the rationale): mean outside SSIM >= {DEFAULT_MIN_MEAN} and 5th
percentile >= {DEFAULT_MIN_P5}; exit 1 when either fails.

{EXIT_CODES_HELP}
"""


@click.group(name="qa", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
@click.argument("source", type=click.Path(dir_okay=True))
@click.argument("edited", type=click.Path(dir_okay=True))
@click.option("--mask", "mask_image", type=click.Path(), help="Mask image, white = edited.")
@click.option("--mask-video", type=click.Path(), help="Video of per-frame masks.")
@click.option("--mask-dir", type=click.Path(), help="Folder of per-frame mask images.")
@click.option("--box", "boxes", multiple=True, metavar="x,y,w,h[@t0-t1]", help="Edit rectangle (repeatable).")
@click.option("--auto-region", is_flag=True, help="Estimate the edit region from the difference.")
@click.option("--save-region", type=click.Path(), help="Write the region used (union over time) as a PNG.")
@click.option("--scale", "scale_text", default="full", show_default=True,
              help="full, auto (Wang 2009: factor max(1, round(min(H,W)/256))) or an integer factor.")
@click.option("--max-offset", type=click.IntRange(min=0), default=DEFAULT_MAX_OFFSET, show_default=True,
              help="Largest frame offset searched for.")
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
    source: str,
    edited: str,
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

    kinds = [k for k, v in (("--mask", mask_image), ("--mask-video", mask_video), ("--mask-dir", mask_dir),
                            ("--box", boxes), ("--auto-region", auto_region)) if v]
    if len(kinds) > 1:
        raise QAUsageError(f"give one region kind, not {' and '.join(kinds)}")
    region: Region | None = None
    if mask_image:
        region = StaticMask(mask_image)
    elif mask_video:
        region = MaskVideo(mask_video)
    elif mask_dir:
        region = MaskDir(mask_dir)
    elif boxes:
        region = BoxRegion([parse_box(b) for b in boxes])
    scale = _scale(scale_text)
    try:
        gate = Gate(min_mean=min_mean, min_p5=min_p5)
    except ValueError as exc:
        raise QAUsageError(str(exc)) from None
    # Outputs are validated before any decoding, so a refused path costs nothing.
    inputs = [source, edited]
    if csv_path:
        check_output_path(csv_path, inputs=inputs, force=force)
    if save_region:
        check_output_path(save_region, inputs=inputs, force=force)
        if not (auto_region or mask_image or boxes):
            raise QAUsageError("--save-region needs --auto-region, --mask or --box")
    if heatmap_dir:
        hd = Path(heatmap_dir)
        if hd.exists() and not hd.is_dir():
            raise QAUsageError(f"--heatmaps {heatmap_dir}: exists and is not a directory")
        if not hd.parent.is_dir():
            raise QAUsageError(f"--heatmaps {heatmap_dir}: parent directory does not exist")
        old = sorted(hd.glob("worst_*_frame_*.png")) if hd.is_dir() else []
        if old and not force:
            raise OutputError(f"{heatmap_dir}: holds heat maps of an earlier run (--force replaces them)")
        hd.mkdir(exist_ok=True)
        for f in old:  # stale maps of other frames would read as this run's
            f.unlink()

    bar = progress_bar(None, desc="qa score", quiet=quiet)
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
            heatmap_dir=heatmap_dir,
            workers=workers,
            on_warning=lambda m: warn(PROG, m, quiet=quiet),
            on_progress=bar.update,
            total_hint=lambda n: setattr(bar, "total", n),
        )
    finally:
        bar.close()

    if csv_path:
        write_csv(csv_path, result)
    if save_region:
        mask = result.auto_region_union
        if mask is None and region is not None:
            mask = _static_union(region)
        if mask is not None:
            write_region_png(save_region, mask)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(format_table(result))
    click.get_current_context().exit(EXIT_PASS if result.passed else EXIT_FAIL)


def _static_union(region: Region):
    """Union of a static mask or of all boxes (ignoring time ranges) on the source grid."""
    import numpy as np

    if isinstance(region, StaticMask):
        return region.mask_at(0, 0.0)
    if isinstance(region, BoxRegion):
        g = region.grid
        m = np.zeros((g.height, g.width), np.uint8)
        for b in region.boxes:
            x0, y0, x1, y1 = b.pixel_rect(g)
            m[y0:y1, x0:x1] = 1
        return m
    return None


def main() -> None:
    """Entry point of the ``qa`` console script."""
    cli(prog_name=PROG)


if __name__ == "__main__":
    main()
