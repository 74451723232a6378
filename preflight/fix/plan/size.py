"""The output size and aspect: short side into the profile's range, square pixels, rotation, pad or crop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ...errors import UsageError
from ...media.probe import Probe
from ...profile import Profile
from .common import ASPECT_MODES, frac_str

# --------------------------------------------------------------------------- size and aspect


@dataclass(frozen=True)
class SizePlan:
    """Output geometry.

    The decoded picture is rotated (``rotation`` clockwise), scaled to ``scaled_width`` x
    ``scaled_height`` square pixels, then cropped (``crop`` = x, y of the kept window) or padded
    (``pad`` = x, y of the picture on the canvas) to ``width`` x ``height``.
    """

    display_width: int
    display_height: int
    rotation: int
    sar: Fraction
    scaled_width: int
    scaled_height: int
    width: int
    height: int
    crop: tuple[int, int] | None
    pad: tuple[int, int] | None
    reason: str

    @property
    def identity(self) -> bool:
        """True when the decoded frame needs no geometric change."""
        return (
            self.rotation == 0
            and self.sar == 1
            and self.crop is None
            and self.pad is None
            and (self.scaled_width, self.scaled_height) == (self.display_width, self.display_height)
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "display_width": self.display_width,
            "display_height": self.display_height,
            "rotation": self.rotation,
            "sar": frac_str(self.sar, ":"),
            "scaled_width": self.scaled_width,
            "scaled_height": self.scaled_height,
            "width": self.width,
            "height": self.height,
            "crop": list(self.crop) if self.crop else None,
            "pad": list(self.pad) if self.pad else None,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AspectPlan:
    """The displayed aspect ratio against the profile's conventional ones."""

    ratio: float
    conventional: bool
    nearest: str
    error: float
    mode: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "ratio": round(self.ratio, 5),
            "conventional": self.conventional,
            "nearest": self.nearest,
            "relative_error": round(self.error, 5),
            "mode": self.mode,
            "reason": self.reason,
        }


def _even(x: float) -> int:
    return max(2, round(x / 2.0) * 2)


def _even_ceil(x: float) -> int:
    return max(2, math.ceil(x / 2.0 - 1e-9) * 2)


def plan_aspect(probe: Probe, profile: Profile, *, mode: str | None = None) -> tuple[AspectPlan, list[str]]:
    """Report a non-conventional displayed aspect; with ``mode`` pad/crop to the nearest ratio."""
    if mode is not None and mode not in ASPECT_MODES:
        raise ValueError(f"aspect mode must be one of {', '.join(ASPECT_MODES)} (got {mode!r})")
    ratio = probe.display_width / probe.display_height
    name, _frac, err = profile.nearest_aspect(ratio)
    warnings: list[str] = []
    if err <= profile.aspect_tolerance:
        reason = f"{ratio:.3f}:1 is {name} (conventional): kept"
        return AspectPlan(ratio, True, name, err, None, reason), warnings
    if mode is None and profile.output_sizes:
        # The editor renders fixed sizes only: the output is conformed anyway, and padding keeps
        # all of the picture.
        reason = (
            f"{ratio:.3f}:1 is not conventional: padded to the nearest conventional ratio {name} "
            f"({profile.name} renders fixed sizes; --aspect crop to crop instead)"
        )
        return AspectPlan(ratio, False, name, err, "pad", reason), warnings
    if mode is None:
        reason = (
            f"{ratio:.3f}:1 is not a conventional ratio (nearest {name}, {err:.1%} off): kept; "
            f"use --aspect pad or --aspect crop to conform to {name}"
        )
        warnings.append(
            f"aspect ratio {ratio:.3f}:1 is not conventional (nearest {name}, {err:.1%} off): the editor "
            "will reject the output; add --aspect pad or --aspect crop"
        )
        return AspectPlan(ratio, False, name, err, None, reason), warnings
    how = "padded with black bars" if mode == "pad" else "centre-cropped"
    reason = f"{ratio:.3f}:1 is not conventional: {how} to the nearest conventional ratio {name}"
    return AspectPlan(ratio, False, name, err, mode, reason), warnings


def plan_size(probe: Probe, profile: Profile, aspect: AspectPlan) -> tuple[SizePlan, list[str]]:
    """Size policy: displayed aspect kept (SAR and rotation applied, square pixels out), short side
    brought into ``[min_short_side, max_short_side]``, even dimensions. Upscaling is warned.

    A profile with fixed ``output_sizes`` gets one of them instead (:func:`_nearest_output_size`):
    scaled to it when the shapes agree within the aspect tolerance, else fitted and padded, or
    covered and cropped with ``--aspect crop``."""
    dw, dh = probe.display_width, probe.display_height
    warnings: list[str] = []
    # The canvas (in displayed-pixel units) the picture must fill: itself, or the conformed ratio.
    cw, ch = float(dw), float(dh)
    if aspect.mode is not None:
        target = float(dict(profile.aspect_ratios)[aspect.nearest])
        wider = dw / dh > target
        if aspect.mode == "pad":  # grow the short way: bars above/below or left/right
            cw, ch = (float(dw), dw / target) if wider else (dh * target, float(dh))
        else:  # crop: shrink the long way
            cw, ch = (dh * target, float(dh)) if wider else (float(dw), dw / target)
    short = min(cw, ch)
    fixed = (
        _nearest_output_size(cw, ch, profile.output_sizes, profile.aspect_tolerance)
        if profile.output_sizes
        else None
    )
    if fixed is not None:
        # The editor renders only these sizes: fill the one nearest in shape. Within the aspect
        # tolerance the picture is scaled to it outright (the stretch is below what the profile
        # calls the same ratio); otherwise it is fitted and padded, or covered and cropped.
        width, height = fixed
        if aspect.mode is None and abs(math.log((cw / ch) / (width / height))) <= profile.aspect_tolerance:
            scale = min(width / cw, height / ch)
            return _size_plan(probe, profile, width, height, width, height, None, None, scale, aspect,
                              warnings)
        mode = aspect.mode or "pad"
        scale = (min if mode == "pad" else max)(width / dw, height / dh)
        return _conformed(probe, profile, width, height, scale, mode, aspect, warnings)
    lo = math.ceil(profile.min_short_side / 2) * 2
    hi = math.floor(profile.max_short_side / 2) * 2
    if lo > hi:
        raise UsageError(f"profile {profile.name}: resolution range holds no even short side")
    target_short = min(max(_even(short) if lo <= short <= hi else short, lo), hi)
    scale = target_short / short
    if cw <= ch:
        width, height = int(target_short), _even(ch * scale)
    else:
        width, height = _even(cw * scale), int(target_short)
    if aspect.mode is None:
        return _size_plan(probe, profile, width, height, width, height, None, None, scale, aspect, warnings)
    return _conformed(probe, profile, width, height, scale, aspect.mode, aspect, warnings)


def _nearest_output_size(
    width: float, height: float, sizes: Sequence[tuple[int, int]], tolerance: float
) -> tuple[int, int]:
    """The output size for a ``width`` x ``height`` canvas: nearest in shape, then in area.

    Shapes are compared as log aspect ratios; every size within ``tolerance`` of the best shape
    counts as the same shape (e.g. 640x480 and 1104x832 for 4:3), and among those the one
    nearest the canvas in area (log terms) wins: the least resampling either way.
    """
    def shape_err(s: tuple[int, int]) -> float:
        return abs(math.log(width * s[1] / (height * s[0])))

    best = min(shape_err(s) for s in sizes)
    same = [s for s in sizes if shape_err(s) <= max(best, tolerance) + 1e-12]
    return min(same, key=lambda s: (abs(math.log(s[0] * s[1] / (width * height))), -s[0] * s[1]))


def _conformed(
    probe: Probe,
    profile: Profile,
    width: int,
    height: int,
    scale: float,
    mode: str,
    aspect: AspectPlan,
    warnings: list[str],
) -> tuple[SizePlan, list[str]]:
    """The picture scaled by ``scale`` and padded or centre-cropped to ``width`` x ``height``."""
    dw, dh = probe.display_width, probe.display_height
    crop = pad = None
    if mode == "pad":
        sw, sh = min(_even(dw * scale), width), min(_even(dh * scale), height)
        pad = (((width - sw) // 4) * 2, ((height - sh) // 4) * 2)
    else:
        sw, sh = max(_even_ceil(dw * scale), width), max(_even_ceil(dh * scale), height)
        crop = (((sw - width) // 4) * 2, ((sh - height) // 4) * 2)
    return _size_plan(probe, profile, width, height, sw, sh, crop, pad, scale, aspect, warnings, mode=mode)


def _size_plan(
    probe: Probe,
    profile: Profile,
    width: int,
    height: int,
    sw: int,
    sh: int,
    crop: tuple[int, int] | None,
    pad: tuple[int, int] | None,
    scale: float,
    aspect: AspectPlan,
    warnings: list[str],
    *,
    mode: str | None = None,
) -> tuple[SizePlan, list[str]]:
    """Assemble the :class:`SizePlan` and say why (rotation, SAR, scaling, conforming)."""
    dw, dh = probe.display_width, probe.display_height
    parts: list[str] = []
    if probe.rotation:
        parts.append(f"rotation {probe.rotation} deg applied to the pixels")
    if probe.sar != 1:
        parts.append(
            f"SAR {frac_str(probe.sar, ':')} made square "
            f"({probe.width}x{probe.height} displays as {dw}x{dh})"
        )
    src_short = min(dw, dh)
    fixed = bool(profile.output_sizes)
    if scale * src_short > src_short + 0.5:
        why = f"to fit {width}x{height}" if fixed else f"to the {profile.min_short_side} px minimum"
        parts.append(f"upscaled: short side {src_short} px raised {why}")
        warnings.append(
            f"short side {src_short} px is below what the profile needs: "
            f"upscaled to {width}x{height} (softer than native footage)"
        )
    elif scale * src_short < src_short - 0.5:
        why = f"to fit {width}x{height}" if fixed else f"to the {profile.max_short_side} px maximum"
        parts.append(f"downscaled: short side {src_short} px {why}")
    if fixed:
        parts.append(f"{profile.name} renders only fixed sizes: {width}x{height} is the nearest in shape")
    if mode is not None:
        parts.append(f"{mode} to {aspect.nearest if aspect.mode else f'{width}x{height}'}")
    if (width, height) == (dw, dh) and not parts:
        parts.append(f"{dw}x{dh} is within the profile: kept")
    else:
        parts.append(f"-> {width}x{height}")
    size = SizePlan(dw, dh, probe.rotation, probe.sar, sw, sh, width, height, crop, pad, "; ".join(parts))
    return size, warnings


