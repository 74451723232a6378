"""``qa anchors``: does the edited clip match the anchor images where it was asked to?

For every anchor with an image in a ``preflight fix`` manifest, the edited segment's frame at the
anchor's time (the frame nearest to it, picked as ``preflight anchors`` picks it) is compared with
the anchor image:

* inside the edit region: colour difference CIEDE2000 (``skimage.color.deltaE_ciede2000`` on
  CIELAB from sRGB, D65), its mean and 95th percentile over the region's pixels, and luma SSIM
  (``1 - inside change`` of :func:`qa.ssim.ssim`);
* outside the region: luma SSIM of the edited frame against the source segment's frame, the
  number ``qa score`` reports (:func:`qa.ssim.ssim`, region dilated by the window radius).

Luma here is ``cv2``'s BT.601 gray of the 8-bit RGB frames, the same for all three images.

Region: ``--mask`` / ``--box`` as in ``qa score``; by default (``--auto-region``) the pixels where
the anchor image differs from the source frame by more than :data:`AUTO_DELTA_E` (CIEDE2000, the
usual just-noticeable difference), opened with a 3x3 kernel to drop isolated pixels: an anchor PNG
exported by ``preflight anchors`` and painted on differs from the source exactly where painted.

Gate (defaults): mean CIEDE2000 inside <= :data:`DEFAULT_MAX_DELTA_E` = 5.0 (a difference of
about 2 is visible side by side to a trained eye and 5 at a glance; H.264 re-encoding of a flat
region stays near 1) and SSIM outside >= ``qa score``'s default mean gate 0.90. Exit 0 when every
anchor passes, 1 otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from preflight.anchors.export import AnchorTarget, frames_at
from preflight.fix.join import find_edited
from preflight.fix.manifest import load_manifest
from preflight.sinks import WarningLog, WarningSink

from .errors import QAInputError, QAUsageError
from .gate import DEFAULT_MIN_MEAN
from .mask import Box, Grid, fit_mask, read_mask_image, threshold_mask
from .ssim import ssim

SCHEMA = "qa.anchors/1"
DEFAULT_MAX_DELTA_E = 5.0
AUTO_DELTA_E = 2.3


@dataclass(frozen=True)
class AnchorScore:
    """Adherence of one anchor."""

    segment: int
    file: str
    at: str
    time_s: float
    image: str
    frame_time_s: float
    region_pixels: int
    delta_e_mean: float
    delta_e_p95: float
    ssim_inside: float
    ssim_outside: float | None
    passed: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "file": self.file,
            "at": self.at,
            "time_s": self.time_s,
            "image": self.image,
            "frame_time_s": round(self.frame_time_s, 6),
            "region_pixels": self.region_pixels,
            "delta_e_mean": round(self.delta_e_mean, 4),
            "delta_e_p95": round(self.delta_e_p95, 4),
            "ssim_inside": round(self.ssim_inside, 4),
            "ssim_outside": None if self.ssim_outside is None else round(self.ssim_outside, 4),
            "passed": self.passed,
        }


@dataclass(frozen=True)
class AnchorsResult:
    """All anchors of a manifest against an edited directory."""

    manifest: str
    edited_dir: str
    region: str
    max_delta_e: float
    min_ssim_outside: float
    anchors: tuple[AnchorScore, ...]
    warnings: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.anchors)

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "manifest": self.manifest,
            "edited_dir": self.edited_dir,
            "region": self.region,
            "gate": {"max_delta_e": self.max_delta_e, "min_ssim_outside": self.min_ssim_outside},
            "passed": self.passed,
            "anchors": [a.to_dict() for a in self.anchors],
            "warnings": list(self.warnings),
        }


def delta_e_2000(rgb_a: np.ndarray, rgb_b: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 between two 8-bit sRGB images (scikit-image)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    return deltaE_ciede2000(
        rgb2lab(rgb_a.astype(np.float64) / 255.0), rgb2lab(rgb_b.astype(np.float64) / 255.0)
    )


def auto_region(source: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Pixels (``uint8`` 0/1) where ``anchor`` differs visibly from ``source`` (see the module doc)."""
    diff = (delta_e_2000(source, anchor) > AUTO_DELTA_E).astype(np.uint8)
    return cv2.morphologyEx(diff, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def score_anchor(
    source: np.ndarray, edited: np.ndarray, anchor: np.ndarray, region: np.ndarray
) -> tuple[int, float, float, float, float | None]:
    """(region pixels, mean and p95 CIEDE2000 inside, SSIM inside, SSIM outside) of one frame.

    All images RGB uint8 of one size; ``region`` nonzero = edited.
    """
    inside = region.astype(bool)
    n = int(inside.sum())
    if n == 0:
        raise QAUsageError("the edit region is empty at this anchor; give --mask or --box")
    de = delta_e_2000(anchor, edited)[inside]
    ins = ssim(_gray(anchor), _gray(edited), data_range=255.0, region=region)
    out = ssim(_gray(source), _gray(edited), data_range=255.0, region=region)
    ssim_in = 1.0 - ins.inside_change if ins.inside_change is not None else float("nan")
    ssim_out = None if np.isnan(out.ssim_outside) else float(out.ssim_outside)
    return n, float(de.mean()), float(np.percentile(de, 95)), float(ssim_in), ssim_out


def _read_rgb(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise QAInputError(path, "not a readable image (PNG or JPEG expected)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _region_for(
    kind: str,
    mask_path: str | None,
    boxes: Sequence[Box],
    source: np.ndarray,
    anchor: np.ndarray,
    warn: WarningSink,
) -> np.ndarray:
    h, w = source.shape[:2]
    grid = Grid(width=w, height=h, display_width=w, display_height=h)
    if kind == "mask" and mask_path:
        return fit_mask(threshold_mask(read_mask_image(mask_path)), grid, name=mask_path, warn=warn)
    if kind == "box":
        m = np.zeros((h, w), np.uint8)
        for b in boxes:
            x0, y0, x1, y1 = b.pixel_rect(grid)
            m[y0:y1, x0:x1] = 1
        return m
    return auto_region(source, anchor)


def score_anchors(
    manifest_path: str | os.PathLike[str],
    edited_dir: str | os.PathLike[str],
    *,
    mask: str | None = None,
    boxes: Sequence[Box] = (),
    max_delta_e: float = DEFAULT_MAX_DELTA_E,
    min_ssim_outside: float = DEFAULT_MIN_MEAN,
    on_warning: WarningSink | None = None,
) -> AnchorsResult:
    """Score every anchor image of the manifest against the edited segments.

    Raises
    ------
    QAUsageError
        Both a mask and boxes, a negative threshold, or no anchor with an image.
    QAInputError / preflight.errors.InputError
        Invalid manifest, missing edited segment, unreadable or mis-sized anchor image.
    """
    if mask and boxes:
        raise QAUsageError("give one region kind, not --mask and --box")
    if not max_delta_e >= 0:
        raise QAUsageError(f"--max-delta-e {max_delta_e}: must be >= 0")
    warn = WarningLog(on_warning)

    kind = "mask" if mask else "box" if boxes else "auto"
    man = load_manifest(manifest_path)
    doc = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    edited = find_edited(man, edited_dir)
    folder = Path(manifest_path).parent
    scores = []
    for seg, edited_path in zip(doc["segments"], edited, strict=True):
        anchors = [a for a in seg.get("anchors", ()) if a.get("image")]
        for a in seg.get("anchors", ()):
            if not a.get("image"):
                warn(f"segment {seg['index']}: anchor {a['at']} {a['time_s']:.2f} s has no image; skipped")
        if not anchors:
            continue
        targets = [
            AnchorTarget(folder / seg["file"], a["at"], float(a["time_s"]), a["image"]) for a in anchors
        ]
        src_frames = frames_at(targets[0].video, targets)
        edt_frames = frames_at(
            edited_path, [AnchorTarget(edited_path, t.at, t.time_s, t.label) for t in targets]
        )
        for a, (_, _, src), (_, t_edit, edt) in zip(anchors, src_frames, edt_frames, strict=True):
            img = _read_rgb(a["image"])
            if img.shape != src.shape:
                raise QAInputError(
                    a["image"],
                    f"anchor image is {img.shape[1]}x{img.shape[0]}, the segment "
                    f"{src.shape[1]}x{src.shape[0]}; export it with `preflight anchors`",
                )
            if edt.shape != src.shape:
                warn(
                    f"{Path(edited_path).name} is {edt.shape[1]}x{edt.shape[0]}: "
                    "resampled to the segment size"
                )
                edt = cv2.resize(edt, (src.shape[1], src.shape[0]), interpolation=cv2.INTER_AREA)
            region = _region_for(kind, mask, boxes, src, img, warn)
            n, de_mean, de_p95, s_in, s_out = score_anchor(src, edt, img, region)
            ok = de_mean <= max_delta_e and (s_out is None or s_out >= min_ssim_outside)
            scores.append(
                AnchorScore(
                    segment=seg["index"],
                    file=Path(edited_path).name,
                    at=a["at"],
                    time_s=float(a["time_s"]),
                    image=a["image"],
                    frame_time_s=t_edit,
                    region_pixels=n,
                    delta_e_mean=de_mean,
                    delta_e_p95=de_p95,
                    ssim_inside=s_in,
                    ssim_outside=s_out,
                    passed=ok,
                )
            )
    if not scores:
        raise QAUsageError(f"{manifest_path}: no anchor with an image to check (fix --anchor TIME=IMAGE)")
    return AnchorsResult(
        manifest=str(manifest_path),
        edited_dir=str(edited_dir),
        region=kind,
        max_delta_e=max_delta_e,
        min_ssim_outside=min_ssim_outside,
        anchors=tuple(scores),
        warnings=warn.messages,
    )


def format_anchors(result: AnchorsResult) -> str:
    """The result as a table."""
    lines = [
        f"anchor adherence ({result.region} region; gate: mean dE00 <= {result.max_delta_e:g}, "
        f"SSIM outside >= {result.min_ssim_outside:g})",
        f"  {'seg':>3}  {'time s':>7}  {'dE mean':>7}  {'dE p95':>7}  {'SSIM in':>7}  {'SSIM out':>8}  "
        f"{'pixels':>8}  verdict  image",
    ]
    for a in result.anchors:
        out = "-" if a.ssim_outside is None else f"{a.ssim_outside:.4f}"
        lines.append(
            f"  {a.segment:>3}  {a.time_s:>7.2f}  {a.delta_e_mean:>7.2f}  {a.delta_e_p95:>7.2f}  "
            f"{a.ssim_inside:>7.4f}  {out:>8}  {a.region_pixels:>8}  {'pass' if a.passed else 'FAIL':7s}  "
            f"{Path(a.image).name}"
        )
    lines.append(
        f"{'PASS' if result.passed else 'FAIL'}: {sum(a.passed for a in result.anchors)} of "
        f"{len(result.anchors)} anchor(s) pass"
    )
    return "\n".join(lines)
