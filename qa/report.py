"""Human table, per-frame CSV, heat-map PNGs and region mask PNG for :class:`qa.result.ScoreResult`.

Heat maps are drawn from :class:`Capture` panels that the scoring pass takes of its worst frames
(:func:`make_capture`); this module imports nothing from :mod:`qa.score`.

Every file is written to a temporary name beside its target and renamed on success
(:func:`preflight.outputs.atomic_path`), so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from preflight.media.outputs import atomic_path, write_text_atomic

if TYPE_CHECKING:
    from .result import ScoreResult

PANEL_MAX_WIDTH = 960
"""Heat-map panels are downscaled to at most this width."""


@dataclass(frozen=True)
class Capture:
    """Panel-size images of one scored frame for its heat map.

    ``x``/``y``: 8-bit source and edited luma; ``smap``: float SSIM map; ``region``: bool mask of
    the edit region or None.
    """

    x: np.ndarray
    y: np.ndarray
    smap: np.ndarray
    region: np.ndarray | None


def make_capture(x: np.ndarray, y: np.ndarray, smap: np.ndarray, region: np.ndarray | None,
                 data_range: float) -> Capture:
    """Panel-size copies for a heat map (8-bit luma, float SSIM map, region mask)."""
    h, w = smap.shape
    pw = min(w, PANEL_MAX_WIDTH)
    ph = max(1, round(h * pw / w))
    size = (pw, ph)

    def to8(a: np.ndarray) -> np.ndarray:
        if a.dtype == np.uint8:
            a8 = a
        else:
            a8 = np.clip(a.astype(np.float32) * (255.0 / data_range), 0, 255).astype(np.uint8)
        return cv2.resize(a8, size, interpolation=cv2.INTER_AREA)

    reg = None
    if region is not None:
        reg = cv2.resize(region * np.uint8(255), size, interpolation=cv2.INTER_AREA) > 0
    return Capture(x=to8(x), y=to8(y), smap=cv2.resize(smap, size, interpolation=cv2.INTER_AREA), region=reg)


def _f(v: float | None, digits: int = 4) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.{digits}f}"


def format_table(result: ScoreResult) -> str:
    """The human-readable report: verdict, pooled numbers, shots, worst frames, notes."""
    r = result
    lines = [
        f"qa score: {'PASS' if r.passed else 'FAIL'}",
        f"  source  {r.source}",
        f"  edited  {r.edited}",
        f"  frames compared {r.frames_compared}, offset {r.offset.frames:+d} frame(s) ({r.offset.method}), "
        f"grid {r.grid_size[0]}x{r.grid_size[1]}"
        + (f" (1/{r.scale_factor} scale)" if r.scale_factor > 1 else ""),
        f"  region  {r.region.get('kind', 'none')}",
        "",
        f"  {'':24s}{'mean':>10s}{'min':>10s}{'p5':>10s}",
        f"  {'SSIM outside region':24s}{_f(r.ssim_outside.mean):>10s}{_f(r.ssim_outside.min):>10s}"
        f"{_f(r.ssim_outside.p5):>10s}",
        f"  {'PSNR outside (dB)':24s}{_f(r.psnr_outside.mean, 2):>10s}{_f(r.psnr_outside.min, 2):>10s}"
        f"{_f(r.psnr_outside.p5, 2):>10s}",
    ]
    if r.inside_change is not None:
        lines.append(
            f"  {'change inside (1-SSIM)':24s}{_f(r.inside_change.mean):>10s}{_f(r.inside_change.min):>10s}"
            f"{'':>10s}"
        )
    lines.append(
        f"  {'SSIM whole frame':24s}{_f(r.ssim_full.mean):>10s}{_f(r.ssim_full.min):>10s}"
        f"{_f(r.ssim_full.p5):>10s}"
    )
    lines.append(f"  gate: mean >= {r.gate.min_mean:.4f}, p5 >= {r.gate.min_p5:.4f}")
    for f in r.failures:
        lines.append(f"  FAIL: {f}")
    if len(r.per_shot) > 1:
        lines += ["", f"  {'shot':>6s}{'frames':>14s}{'mean':>10s}{'min':>10s}{'p5':>10s}"]
        for k, s in enumerate(r.per_shot, start=1):
            lines.append(
                f"  {k:>6d}{f'{s.start_frame}-{s.end_frame}':>14s}{_f(s.ssim_outside.mean):>10s}"
                f"{_f(s.ssim_outside.min):>10s}{_f(s.ssim_outside.p5):>10s}"
            )
    if r.worst:
        lines += ["", "  worst frames (source frame: SSIM outside)"]
        for w in r.worst:
            extra = f"  {w.heatmap}" if w.heatmap else ""
            lines.append(f"    {w.frame:>6d} @ {w.time_s:8.3f} s: {w.ssim_outside:.4f}{extra}")
    if r.region_boxes:
        lines += ["", "  auto region (x, y, w, h on the source grid; frames active)"]
        for b in r.region_boxes[:10]:
            lines.append(
                f"    {b.x},{b.y},{b.w},{b.h}  frames {b.first_frame}-{b.last_frame}  {b.area_pct:.2f}%"
            )
    if r.notes:
        lines += [""] + [f"  note: {n}" for n in r.notes]
    return "\n".join(lines)


def write_csv(path: str | os.PathLike[str], result: ScoreResult) -> None:
    """One row per scored frame pair (columns: :attr:`qa.result.FrameTable.COLUMNS`)."""
    t = result.frames
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(t.COLUMNS)
    cols = [getattr(t, c) for c in t.COLUMNS]
    for row in zip(*cols, strict=True):
        out = []
        for c, v in zip(t.COLUMNS, row, strict=True):
            if c in ("source_frame", "edited_frame"):
                out.append(str(int(v)))
            elif not math.isfinite(v):
                out.append("")
            else:
                out.append(f"{float(v):.6f}" if c != "psnr_outside" else f"{float(v):.3f}")
        w.writerow(out)
    write_text_atomic(path, buf.getvalue())


def _write_png(path: str | os.PathLike[str], img: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 images
        raise OSError(f"{path}: PNG encoding failed")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())


def write_region_png(path: str | os.PathLike[str], mask: np.ndarray) -> None:
    """A region mask as a PNG (white = edited), usable as ``--mask`` input."""
    _write_png(path, (mask != 0).astype(np.uint8) * np.uint8(255))


def _label(img: np.ndarray, text: str) -> None:
    scale = max(0.4, img.shape[1] / 1400)
    th = max(1, round(scale * 2))
    org = (8, int(24 * scale) + 6)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, text, org, font, scale, (0, 0, 0), th + 2, cv2.LINE_AA)  # dark halo: legible anywhere
    cv2.putText(img, text, org, font, scale, (255, 255, 255), th, cv2.LINE_AA)


def write_heatmap(path: str | os.PathLike[str], cap: Capture, *, frame: int, ssim_value: float) -> None:
    """Side-by-side PNG: source luma | edited luma | SSIM map, with the region outlined.

    The map is coloured by ``1 - SSIM`` (clipped to 0-1) with OpenCV's *inferno* colormap, so
    black means preserved and bright means changed; the edit region's outline is drawn in cyan.
    """
    src = cv2.cvtColor(cap.x, cv2.COLOR_GRAY2BGR)
    edt = cv2.cvtColor(cap.y, cv2.COLOR_GRAY2BGR)
    change = np.clip(1.0 - cap.smap, 0.0, 1.0)
    heat = cv2.applyColorMap((change * 255.0 + 0.5).astype(np.uint8), cv2.COLORMAP_INFERNO)
    if cap.region is not None and cap.region.any():
        contours, _ = cv2.findContours(
            cap.region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        for img in (src, edt, heat):
            cv2.drawContours(img, contours, -1, (255, 255, 0), max(1, img.shape[1] // 480))
    _label(src, f"source frame {frame}")
    _label(edt, "edited")
    _label(heat, f"1 - SSIM (outside mean {ssim_value:.4f})")
    gap = np.full((src.shape[0], 4, 3), 255, np.uint8)
    _write_png(path, np.hstack([src, gap, edt, gap, heat]))
