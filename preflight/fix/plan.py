"""The plan of ``preflight fix``: what will be done to a clip, and why. Pure: no I/O.

From a :class:`~preflight.probe.Probe`, the clip's transitions and a
:class:`~preflight.profile.Profile` this module decides

* the **frame rate** (keep / conform by retiming / decimate / repeat / resample by time),
* the **size** (short side into the profile's range, displayed aspect kept, square pixels,
  rotation applied, even dimensions) and the **aspect** policy (report, or ``pad``/``crop`` to
  the nearest conventional ratio),
* the **encoder** settings (H.264 High, yuv420p, CRF, preset, faststart; audio copy or AAC),
* the **segments**: an exact optimum over every possible split (see :func:`solve_segments`).

Every limit comes from the profile. Two timelines exist: the *source* timeline (decode-order
frames of the input) and the *output* timeline (frames at the planned rate, numbered from 0).
Segments are planned on the output timeline, where durations are what the editor will see.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..check.shots import Transition
from ..errors import FailedError, InputError, UsageError, preview
from ..media.probe import Probe
from ..media.tonemap import HLG_PEAK_NITS, PQ_SOURCE_PEAK_NITS, SDR_PEAK_NITS
from ..profile import Profile

# NTSC rates are integer rates slowed by 1000/1001 (23.976 = 24 * 1000/1001). Speeding such a
# clip up by 1001/1000 ("conforming", as film transfers do the other way round) lands on the
# integer rate without dropping or repeating any frame; it is a convention, not a limit.
CONFORM_RATIO = Fraction(1001, 1000)
# Relative slack when comparing a measured rate with a declared one or with a profile bound:
# measured rates carry rounding from integer PTS.
RATE_TOLERANCE = 5e-3
RANGE_EPS = 1e-6

X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
)
DEFAULT_CRF = 18
DEFAULT_PRESET = "medium"
AUDIO_BITRATE_PER_CHANNEL = 96_000
# Longest run between keyframes. Besides seeking, it bounds what the single-pass executor must
# re-encode when a segment boundary falls between two keyframes (one interval per boundary).
KEYFRAME_INTERVAL_S = 2.0
ASPECT_MODES = ("pad", "crop")

RATE_MODES = ("keep", "conform", "decimate", "repeat", "resample")
MAX_RATE_STEP = 1000
"""Largest frame-rate divisor (decimation) or multiple (repetition) the planner tries."""


class NoPlanError(FailedError, ValueError):
    """No segmentation satisfies the profile (the message says why): the clip cannot be fixed."""


# --------------------------------------------------------------------------- frame rate


@dataclass(frozen=True)
class RatePlan:
    """How source frames become output frames.

    ``mode``:

    * ``keep``     output frame ``k`` is source frame ``k``;
    * ``conform``  the same frames, played ``retime`` times faster (23.976 -> 24);
    * ``decimate`` output frame ``k`` is source frame ``k * step`` (60 -> 30 keeps every 2nd);
    * ``repeat``   output frame ``k`` is source frame ``k // step`` (15 -> 30 shows each twice);
    * ``resample`` output frame ``k`` is the last source frame whose time is before
      ``(k + 1/2) / fps`` (VFR sources, and rates with no integer relation to the range).

    ``retime`` is output speed / source speed (1 except for ``conform``).
    """

    source_fps: Fraction
    fps: Fraction
    mode: str
    step: int
    retime: Fraction
    source_frames: int
    frame_count: int
    reason: str

    def source_index(self, k: int) -> int:
        """Source frame shown at output frame ``k`` (index modes only)."""
        if self.mode == "decimate":
            return k * self.step
        if self.mode == "repeat":
            return k // self.step
        if self.mode in ("keep", "conform"):
            return k
        raise ValueError("resample mode maps frames by time; use output_frame_at_time")

    def output_frame_of_source(self, index: int, seconds: float) -> int:
        """First output frame showing source frame ``index`` (at ``seconds`` from the first frame)
        or a later one: where a transition starting at that source frame appears."""
        if self.mode == "decimate":
            return -(-index // self.step)
        if self.mode == "repeat":
            return index * self.step
        if self.mode in ("keep", "conform"):
            return index
        return output_frame_at_time(seconds, self.fps)

    def output_seconds(self, k: int) -> float:
        return float(Fraction(k) / self.fps)

    def source_seconds(self, k: int) -> float:
        """Source time (from the first frame) of output frame ``k``'s start."""
        return float(Fraction(k) / self.fps * self.retime)

    def to_dict(self) -> dict[str, object]:
        return {
            "source_fps": _frac_str(self.source_fps),
            "fps": _frac_str(self.fps),
            "fps_float": round(float(self.fps), 6),
            "mode": self.mode,
            "step": self.step,
            "retime": _frac_str(self.retime),
            "source_frames": self.source_frames,
            "frame_count": self.frame_count,
            "reason": self.reason,
        }


def output_frame_at_time(seconds: float | Fraction, fps: Fraction) -> int:
    """Index of the first output frame of a ``resample`` plan that shows a source frame starting at
    ``seconds``: the smallest ``k`` with ``(k + 1/2) / fps > seconds``."""
    return max(0, math.floor(Fraction(seconds) * fps - Fraction(1, 2)) + 1)


def source_rate(probe: Probe) -> Fraction:
    """The source frame rate as an exact fraction.

    The declared rate is exact (30000/1001) but may be wrong; the measured one is right but
    inexact. The declared one wins when both agree within :data:`RATE_TOLERANCE`.
    """
    declared = Fraction(probe.fps_declared) if probe.fps_declared else None
    measured = probe.fps_measured
    if declared and measured and abs(float(declared) / measured - 1.0) < RATE_TOLERANCE:
        return declared
    if measured:
        return Fraction(measured).limit_denominator(1001)
    if declared:
        return declared
    raise InputError(probe.path, "frame rate unknown (no timestamps, no declared rate)")


def _in_range(rate: Fraction, profile: Profile) -> bool:
    r = float(rate)
    return profile.min_fps - RANGE_EPS <= r <= profile.max_fps + RANGE_EPS


def plan_rate(
    probe: Probe, profile: Profile, *, frame_count: int | None = None
) -> tuple[RatePlan, list[str]]:
    """Frame-rate policy.

    Keep a rate inside ``[min_fps, max_fps]``; otherwise the in-range rate keeping the most source
    frames intact: integer divisors first (60 -> 30, 50 -> 25, 48 -> 24, 120 -> 30, 100 -> 25), an
    NTSC rate conformed by retiming (23.976 -> 24, audio retimed too: no frame duplicated), an
    integer multiple (15 -> 30, each frame repeated: warned), else the nearest in-range rate
    resampled by time (warned). VFR becomes CFR at the whole rate nearest its mean rate.

    Returns
    -------
    (RatePlan, warnings)
    """
    n_src = probe.frame_count if frame_count is None else frame_count
    if n_src < 1:
        raise ValueError("frame_count must be >= 1")
    warnings: list[str] = []
    if probe.vfr:
        mean = Fraction(probe.fps).limit_denominator(1001)
        fps = _nearest_whole_rate(float(mean), profile)
        n_out = max(1, round(probe.duration_s * float(fps)))
        reason = (
            f"variable frame rate (mean {float(mean):.3f} fps) made constant at {_fps_str(fps)} fps by "
            "timestamp: each output frame shows the source frame on screen at that time"
        )
        if float(mean) < float(fps) * (1 - RATE_TOLERANCE):
            warnings.append(
                f"variable frame rate averaging {float(mean):.2f} fps resampled to {_fps_str(fps)} fps: "
                "some frames are shown twice"
            )
        return RatePlan(mean, fps, "resample", 1, Fraction(1), n_src, n_out, reason), warnings

    src = source_rate(probe)
    if _in_range(src, profile):
        reason = f"{_fps_str(src)} fps is within {profile.min_fps:g}-{profile.max_fps:g} fps: kept"
        return RatePlan(src, src, "keep", 1, Fraction(1), n_src, n_src, reason), warnings

    best = _integer_candidate(src, profile)
    if best is not None:
        mode, step, retime = best
        if mode in ("keep", "conform"):
            fps = src * retime
            reason = (
                f"{_fps_str(src)} fps conformed to {_fps_str(fps)} fps by retiming: every frame kept, "
                f"played {float(retime):.4f}x faster (audio retimed with it to stay in sync); "
                "no frame duplicated"
            )
            return RatePlan(src, fps, "conform", 1, retime, n_src, n_src, reason), warnings
        if mode == "decimate":
            fps = src / step * retime
            n_out = -(-n_src // step)
            reason = (
                f"{_fps_str(src)} fps is above {profile.max_fps:g}: every {_ordinal(step)} frame kept "
                f"-> {_fps_str(fps)} fps (integer divisor: motion cadence stays regular)"
            )
            if retime != 1:
                reason += f", then conformed by retiming x{float(retime):.4f}"
            return RatePlan(src, fps, "decimate", step, retime, n_src, n_out, reason), warnings
        fps = src * step * retime
        reason = (
            f"{_fps_str(src)} fps is below {profile.min_fps:g}: each frame shown {step} times "
            f"-> {_fps_str(fps)} fps"
        )
        warnings.append(
            f"{_fps_str(src)} fps raised to {_fps_str(fps)} fps by repeating each frame {step}x: "
            f"motion stays at {_fps_str(src)} fps"
        )
        return RatePlan(src, fps, "repeat", step, retime, n_src, n_src * step, reason), warnings

    fps = _nearest_rate(src, profile)
    n_out = max(1, round(n_src * fps / src))
    verb = "dropped" if fps < src else "repeated"
    reason = (
        f"{_fps_str(src)} fps has no integer relation to {profile.min_fps:g}-{profile.max_fps:g} fps: "
        f"resampled by time to the nearest in-range rate {_fps_str(fps)} fps"
    )
    warnings.append(
        f"{_fps_str(src)} fps resampled to {_fps_str(fps)} fps: some frames {verb} at irregular intervals"
    )
    return RatePlan(src, fps, "resample", 1, Fraction(1), n_src, n_out, reason), warnings


def _integer_candidate(src: Fraction, profile: Profile) -> tuple[str, int, Fraction] | None:
    """Best (mode, step, retime) among decimation by n, repetition by m and NTSC conforming.

    Ordered by frames kept intact: dividing by a smaller n keeps more source frames; all
    multiples keep every frame, a smaller m repeats fewer; retiming is preferred to nothing but
    a plain integer relation is preferred to retiming.
    """
    # Bounded whatever the profile says: no useful divisor or multiple exceeds MAX_RATE_STEP.
    n_max = min(max(1, math.ceil(float(src) / max(profile.min_fps, 1e-9))) + 1, MAX_RATE_STEP)
    for n in range(1, n_max + 1):
        for retime in (Fraction(1), CONFORM_RATIO):
            if n == 1 and retime == 1:
                continue  # already out of range
            if _in_range(src / n * retime, profile):
                return ("decimate" if n > 1 else "conform", n, retime)
    m_max = min(max(2, math.ceil(profile.max_fps / float(src))) + 1, MAX_RATE_STEP)
    for m in range(2, m_max + 1):
        for retime in (Fraction(1), CONFORM_RATIO):
            if _in_range(src * m * retime, profile):
                return ("repeat", m, retime)
    return None


def _nearest_rate(src: Fraction, profile: Profile) -> Fraction:
    lo = Fraction(profile.min_fps).limit_denominator(1001)
    hi = Fraction(profile.max_fps).limit_denominator(1001)
    return min(max(src, lo), hi)


def _nearest_whole_rate(mean: float, profile: Profile) -> Fraction:
    """The whole-number rate inside the profile's range nearest to ``mean`` (a CFR grid for VFR)."""
    lo, hi = math.ceil(profile.min_fps - RANGE_EPS), math.floor(profile.max_fps + RANGE_EPS)
    if lo > hi:  # no whole rate in range: the clamped value
        return Fraction(min(max(mean, profile.min_fps), profile.max_fps)).limit_denominator(1001)
    return Fraction(min(max(round(mean), lo), hi))


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
            "sar": _frac_str(self.sar, ":"),
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
            f"SAR {_frac_str(probe.sar, ':')} made square "
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


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Span:
    """A transition on the output timeline: frames ``[start, end]`` inclusive (``start == end``
    for a cut, whose frame is the first of the new shot)."""

    kind: str
    start: int
    end: int

    @property
    def is_cut(self) -> bool:
        return self.kind == "cut"


def count_inside(spans: Sequence[Span], start: int, end: int) -> int:
    """Transitions inside the segment of output frames ``[start, end)``.

    A cut counts when its first frame is inside and is not the segment's first frame (a cut at
    the first frame is the segment boundary itself); a gradual transition counts when any of its
    frames is inside (a partial dissolve at an edge is still a visible scene change).
    """
    n = 0
    for s in spans:
        if s.is_cut:
            n += start < s.start <= end - 1
        else:
            n += s.start <= end - 1 and s.end >= start
    return n


def shot_boundary_flags(spans: Sequence[Span], frame_count: int) -> np.ndarray:
    """``flags[p]`` is True when starting a segment at output frame ``p`` cuts between shots: at a
    cut, or just before / just after a gradual transition, and not inside one."""
    flags = np.zeros(frame_count + 1, dtype=bool)
    flags[0] = flags[frame_count] = True
    for s in spans:
        if s.is_cut:
            if 0 < s.start < frame_count:
                flags[s.start] = True
        else:
            for p in (s.start, s.end + 1):
                if 0 < p < frame_count:
                    flags[p] = True
    for s in spans:
        if not s.is_cut and s.end > s.start:
            flags[s.start + 1 : min(s.end + 1, frame_count) + 1] = False
    return flags


def frame_limits(fps: Fraction, profile: Profile) -> tuple[int, int]:
    """Segment length bounds in output frames: ``ceil(min_s * fps)``, ``floor(max_s * fps)``."""
    lo = Fraction(profile.min_duration_s).limit_denominator(10**6) * fps
    hi = Fraction(profile.max_duration_s).limit_denominator(10**6) * fps
    return max(1, math.ceil(lo)), math.floor(hi)


@dataclass(frozen=True)
class SegmentCost:
    """Lexicographic cost of a segmentation: in-shot splits, then segments, then imbalance
    (sum of squared segment lengths in frames: for a fixed count and total, smallest when even)."""

    in_shot_splits: int
    segments: int
    sum_sq: int

    def key(self) -> tuple[int, int, int]:
        return (self.in_shot_splits, self.segments, self.sum_sq)


def segmentation_cost(bounds: Sequence[int], flags: np.ndarray) -> SegmentCost:
    """Cost of segment boundaries ``bounds`` = [0, b1, ..., N]."""
    inner = bounds[1:-1]
    return SegmentCost(
        in_shot_splits=int(sum(1 for b in inner if not flags[b])),
        segments=len(bounds) - 1,
        sum_sq=int(sum((b - a) ** 2 for a, b in itertools.pairwise(bounds))),
    )


def segmentation_problems(
    bounds: Sequence[int], spans: Sequence[Span], *, min_frames: int, max_frames: int, max_cuts: int
) -> list[str]:
    """Rule violations of a segmentation (empty when valid)."""
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        if not min_frames <= b - a <= max_frames:
            out.append(f"segment {i}: {b - a} frames outside [{min_frames}, {max_frames}]")
        c = count_inside(spans, a, b)
        if c > max_cuts:
            out.append(f"segment {i}: {c} transitions > {max_cuts}")
    return out


def solve_segments(
    frame_count: int,
    spans: Sequence[Span],
    *,
    min_frames: int,
    max_frames: int,
    max_cuts: int,
) -> tuple[int, ...]:
    """Optimal segment boundaries ``(0, b1, ..., frame_count)``.

    Every segment holds ``[min_frames, max_frames]`` frames and at most ``max_cuts`` transitions
    (:func:`count_inside`). Among valid segmentations the result minimises, lexicographically,
    (splits inside a shot, number of segments, sum of squared lengths): shot boundaries first
    (an editor renders each segment independently, so a seam inside a continuous shot shows as
    a jump, while a seam at a cut is invisible), then the fewest generations, then the most even
    lengths (no 2 s tail when an even split exists).

    The candidate set is *every* frame, so the optimum is exact (tests compare with brute force):
    dynamic programming over boundary positions, ``best[p] = min_q best[q] + cost(q, p)``. All
    three cost terms add over segments and lexicographic order is compatible with addition, so
    Bellman's principle holds. Positions are solved in blocks of ``min_frames``: a boundary
    depends only on boundaries at least ``min_frames`` earlier, so a whole block is one
    vectorised (block x window) numpy step. Time O(N * max_frames), memory O(N + block * window).

    Raises
    ------
    NoPlanError
        No valid segmentation exists; the message says why.
    """
    n = frame_count
    if min_frames < 1 or max_frames < min_frames:
        raise ValueError(f"need 1 <= min_frames <= max_frames, got {min_frames}, {max_frames}")
    if n < min_frames:
        raise NoPlanError(f"the clip has {n} frames, fewer than the {min_frames}-frame minimum segment")
    flags = shot_boundary_flags(spans, n)
    in_shot = (~flags).astype(np.int64)
    in_shot[0] = 0
    # count(q, p) = #{a <= p-1} - #{x <= q}; x = frame of a cut, end+1 of a gradual transition.
    a_pos = np.array(sorted(s.start for s in spans), dtype=np.int64)
    x_pos = np.array(sorted(s.start if s.is_cut else s.end + 1 for s in spans), dtype=np.int64)
    positions = np.arange(n + 1, dtype=np.int64)
    upto_a = np.searchsorted(a_pos, positions - 1, side="right")  # index p -> #{a <= p-1}
    upto_x = np.searchsorted(x_pos, positions, side="right")  # index q -> #{x <= q}

    big = np.iinfo(np.int64).max // 4
    cost_a = np.full(n + 1, big, dtype=np.int64)
    cost_b = np.full(n + 1, big, dtype=np.int64)
    cost_c = np.full(n + 1, big, dtype=np.int64)
    prev = np.full(n + 1, -1, dtype=np.int64)
    cost_a[0] = cost_b[0] = cost_c[0] = 0
    for p0 in range(min_frames, n + 1, min_frames):
        p1 = min(p0 + min_frames, n + 1)
        ps = positions[p0:p1]
        q_lo, q_hi = max(0, p0 - max_frames), p1 - 1 - min_frames
        qs = positions[q_lo : q_hi + 1]
        length = ps[:, None] - qs[None, :]
        ok = (length >= min_frames) & (length <= max_frames) & (cost_a[qs] < big)[None, :]
        ok &= (upto_a[ps][:, None] - upto_x[qs][None, :]) <= max_cuts
        if not ok.any():
            continue
        ca = np.where(ok, (cost_a[qs] + in_shot[qs])[None, :], big)
        best_a = ca.min(axis=1, keepdims=True)
        ok &= ca == best_a
        cb = np.where(ok, (cost_b[qs] + 1)[None, :], big)
        best_b = cb.min(axis=1, keepdims=True)
        ok &= cb == best_b
        cc = np.where(ok, cost_c[qs][None, :] + length * length, big)
        arg = cc.argmin(axis=1)
        rows = np.arange(len(ps))
        found = ok[rows, arg]
        idx = ps[found]
        cost_a[idx] = ca[rows, arg][found]
        cost_b[idx] = cb[rows, arg][found]
        cost_c[idx] = cc[rows, arg][found]
        prev[idx] = qs[arg[found]]
    if cost_a[n] >= big:
        raise NoPlanError(_why_no_plan(n, spans, min_frames, max_frames, max_cuts, upto_a, upto_x))
    bounds = [n]
    while bounds[-1] > 0:
        bounds.append(int(prev[bounds[-1]]))
    return tuple(reversed(bounds))


def _why_no_plan(
    n: int,
    spans: Sequence[Span],
    min_f: int,
    max_f: int,
    max_cuts: int,
    upto_a: np.ndarray,
    upto_x: np.ndarray,
) -> str:
    q = np.arange(0, n - min_f + 1)
    dens = upto_a[q + min_f] - upto_x[q]
    worst = int(dens.max()) if dens.size else 0
    if worst > max_cuts:
        at = int(q[int(dens.argmax())])
        return (
            f"{worst} transitions fall within {min_f} frames starting at frame {at}: every segment "
            f"must be at least {min_f} frames long and hold at most {max_cuts}, so no split works"
        )
    return (
        f"no combination of segment lengths in [{min_f}, {max_f}] frames with at most {max_cuts} "
        f"transitions each covers the {n} frames"
    )


@dataclass(frozen=True)
class PlannedTransition:
    """A transition inside a segment.

    ``at`` is the detected transition re-timed to the segment: frames and seconds count from the
    segment's first output frame. ``source_start_frame``/``source_end_frame`` are where it was
    found in the source.
    """

    at: Transition
    source_start_frame: int
    source_end_frame: int

    def to_dict(self) -> dict[str, object]:
        return {
            **self.at.to_dict(),
            "source_start_frame": self.source_start_frame,
            "source_end_frame": self.source_end_frame,
        }


@dataclass(frozen=True)
class SegmentPlan:
    """One output segment: output frames ``[start_frame, end_frame)``.

    ``source_start_s``/``source_end_s`` are source seconds from the first frame (they differ
    from output seconds when conforming); ``boundary`` says why the segment starts where it does.
    """

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    source_start_s: float
    source_end_s: float
    transitions: tuple[PlannedTransition, ...]
    boundary: str
    in_shot: bool

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "frame_count": self.frame_count,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "duration_s": round(self.duration_s, 4),
            "source_start_s": round(self.source_start_s, 4),
            "source_end_s": round(self.source_end_s, 4),
            "transitions": [t.to_dict() for t in self.transitions],
            "boundary": self.boundary,
            "in_shot": self.in_shot,
        }


# --------------------------------------------------------------------------- encoder


@dataclass(frozen=True)
class EncoderPlan:
    """Encoder settings shared by ``fix``, ``join`` and the benchmark baseline."""

    codec: str = "libx264"
    profile: str = "High"
    pix_fmt: str = "yuv420p"
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    movflags: str = "+faststart"
    gop: int | None = None
    audio: str = "none"
    audio_codec: str | None = None
    audio_bitrate: int | None = None
    audio_reason: str = ""
    reason: str = ""
    deinterlace: str | None = None
    """Field dominance ("tff"/"bff") when the source is interlaced: frames go through bwdif."""
    tonemap: str | None = None
    """"pq" or "hlg" when the source is HDR: tone-mapped to SDR BT.709 (preflight.tonemap)."""

    def x264_options(self) -> dict[str, str]:
        opts = {"crf": str(self.crf), "preset": self.preset}
        if self.gop:
            opts["g"] = str(self.gop)
        if self.preset == "ultrafast":
            # ultrafast turns the 8x8 transform off, which makes x264 write Constrained Baseline;
            # the transform is cheap and keeps the stream High profile as the plan promises.
            opts["x264-params"] = "8x8dct=1"
        return opts

    def to_dict(self) -> dict[str, object]:
        return {
            "codec": self.codec,
            "profile": self.profile,
            "pix_fmt": self.pix_fmt,
            "crf": self.crf,
            "preset": self.preset,
            "movflags": self.movflags,
            "gop": self.gop,
            "audio": self.audio,
            "audio_codec": self.audio_codec,
            "audio_bitrate": self.audio_bitrate,
            "audio_reason": self.audio_reason,
            "reason": self.reason,
            "deinterlace": self.deinterlace,
            "tonemap": self.tonemap,
        }


def validate_encoder_options(*, crf: int, preset: str) -> None:
    """Raise :class:`~preflight.errors.UsageError` (saying how to fix) for an invalid CRF or preset."""
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise UsageError(
            "--crf must be an integer 0-51 (lower = better quality; 18 is near-transparent), "
            f"got {preview(crf)}"
        )
    if preset not in X264_PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(X264_PRESETS)} (got {preview(preset)})")


_TONEMAP_BY_TRANSFER = {"smpte2084": "pq", "arib-std-b67": "hlg"}
"""FFmpeg's names of the HDR transfers (what :attr:`Probe.color_transfer` holds) -> tone map."""


def plan_encoder(
    probe: Probe, rate: RatePlan, *, crf: int, preset: str, segments: int
) -> tuple[EncoderPlan, list[str]]:
    """H.264 High yuv420p 8-bit; audio copied when it is AAC and not retimed, else AAC."""
    validate_encoder_options(crf=crf, preset=preset)
    warnings: list[str] = []
    gop = max(1, round(float(rate.fps) * KEYFRAME_INTERVAL_S))
    notes = [
        f"H.264 High, yuv420p 8-bit, CRF {crf}, preset {preset}, keyframe at least every {gop} frames "
        "and at scene cuts, MP4 with faststart"
    ]
    if probe.bit_depth > 8:
        warnings.append(
            f"{probe.bit_depth}-bit input ({probe.pix_fmt}) converted to 8-bit yuv420p (dithered)"
        )
        notes.append(f"{probe.bit_depth}-bit -> 8-bit")
    tonemap = _TONEMAP_BY_TRANSFER.get(probe.color_transfer) if probe.hdr else None
    if tonemap:
        peak = HLG_PEAK_NITS if tonemap == "hlg" else PQ_SOURCE_PEAK_NITS
        notes.append(
            f"HDR ({probe.hdr}) tone-mapped to SDR BT.709: BT.2390 roll-off from {peak:g} to "
            f"{SDR_PEAK_NITS:g} cd/m^2, BT.2020 -> BT.709 gamut"
        )
        warnings.append(
            f"HDR input ({probe.hdr}) tone-mapped to SDR BT.709 (the editor works in SDR): highlights "
            "above ~35 cd/m^2 are compressed"
        )
    deinterlace = None
    if probe.interlaced:
        deinterlace = "bff" if probe.field_order in ("bb", "bt") else "tff"
        notes.append(f"interlaced ({probe.field_order}): deinterlaced with bwdif, one frame per frame")
    if not probe.audio:
        return EncoderPlan(
            crf=crf, preset=preset, gop=gop, reason="; ".join(notes), audio_reason="no audio",
            deinterlace=deinterlace, tonemap=tonemap,
        ), warnings
    a = probe.audio[0]
    if len(probe.audio) > 1:
        warnings.append(f"{len(probe.audio)} audio streams: only the first (#{a.index}) is kept")
    covered = a.duration_s is None or abs(a.duration_s - probe.duration_s) <= 0.5 / max(float(rate.fps), 1.0)
    if a.codec == "aac" and rate.retime == 1 and covered:
        how = "whole" if segments == 1 else "cut at the AAC packet nearest each segment boundary"
        return EncoderPlan(
            crf=crf, preset=preset, gop=gop, audio="copy", audio_codec="aac", reason="; ".join(notes),
            audio_reason=f"AAC audio copied without re-encoding ({how})", deinterlace=deinterlace,
            tonemap=tonemap,
        ), warnings
    if rate.retime != 1:
        why = f"retimed x{float(rate.retime):.4f} with the video (atempo: pitch kept)"
    elif a.codec != "aac":
        why = f"{a.codec} is not AAC"
    else:
        why = "audio does not span the video: re-encoded to pad/trim it to the exact length"
    bitrate = AUDIO_BITRATE_PER_CHANNEL * max(1, min(a.channels or 2, 8))
    return EncoderPlan(
        crf=crf, preset=preset, gop=gop, audio="aac", audio_codec="aac", audio_bitrate=bitrate,
        reason="; ".join(notes), audio_reason=f"re-encoded to AAC {bitrate // 1000} kb/s: {why}",
        deinterlace=deinterlace, tonemap=tonemap,
    ), warnings


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """Everything ``preflight fix`` will do. ``segments`` is empty when ``problem`` says why no
    valid plan exists."""

    source: str
    profile: str
    rate: RatePlan
    aspect: AspectPlan
    size: SizePlan
    encoder: EncoderPlan
    segments: tuple[SegmentPlan, ...]
    split_reason: str
    transitions: tuple[Transition, ...]
    warnings: tuple[str, ...]
    problem: str | None = None
    spans: tuple[Span, ...] = field(default=(), repr=False)

    @property
    def frame_count(self) -> int:
        return self.rate.frame_count

    @property
    def fps(self) -> Fraction:
        return self.rate.fps

    @property
    def duration_s(self) -> float:
        return float(Fraction(self.frame_count) / self.rate.fps)

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.segments)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "profile": self.profile,
            "frame_count": self.frame_count,
            "duration_s": round(self.duration_s, 4),
            "rate": self.rate.to_dict(),
            "aspect": self.aspect.to_dict(),
            "size": self.size.to_dict(),
            "encoder": self.encoder.to_dict(),
            "split_reason": self.split_reason,
            "segments": [s.to_dict() for s in self.segments],
            "warnings": list(self.warnings),
            "problem": self.problem,
        }


def map_transitions(transitions: Sequence[Transition], rate: RatePlan) -> list[Span]:
    """Transitions (source frames) on the output timeline."""
    out: list[Span] = []
    last = rate.frame_count - 1
    for t in sorted(transitions, key=lambda t: t.start_frame):
        a = rate.output_frame_of_source(t.start_frame, t.start_s)
        if t.type == "cut":
            b = a
        else:
            b = rate.output_frame_of_source(t.end_frame + 1, t.end_s) - 1
            b = max(a, b)
        if a > last:
            continue
        out.append(Span(t.type, a, min(b, last)))
    return out


def make_plan(
    probe: Probe,
    transitions: Sequence[Transition],
    profile: Profile,
    *,
    frame_count: int | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    aspect: str | None = None,
    merge_ranges: Sequence[tuple[float, float]] = (),
) -> Plan:
    """The full plan for one clip.

    Parameters
    ----------
    probe : Probe
        The source's probe.
    transitions : sequence of Transition
        Cuts and gradual transitions, frames 0-based in source decode order.
    profile : Profile
        Every limit.
    frame_count : int, optional
        Frames actually decodable (from the analysis pass); default ``probe.frame_count``.
    crf, preset : int, str
        x264 quality and speed.
    aspect : {"pad", "crop"}, optional
        Conform a non-conventional aspect ratio to the nearest conventional one.
    merge_ranges : sequence of (float, float)
        Source time ranges (seconds from the first frame) each planned as one shot: the
        transitions that lie inside one (a strobe, a flash-cut montage) are ignored by the
        segmentation; the plan still lists every transition.
    """
    validate_encoder_options(crf=crf, preset=preset)
    planned = merged_out(transitions, merge_ranges)
    warnings: list[str] = []
    rate, w = plan_rate(probe, profile, frame_count=frame_count)
    warnings += w
    aspect_plan, w = plan_aspect(probe, profile, mode=aspect)
    warnings += w
    size, w = plan_size(probe, profile, aspect_plan)
    warnings += w

    spans = map_transitions(planned, rate)
    n = rate.frame_count
    min_f, max_f = frame_limits(rate.fps, profile)
    total_cuts = count_inside(spans, 0, n)
    duration = float(Fraction(n) / rate.fps)
    problem = None
    bounds: tuple[int, ...] = ()
    reasons = []
    if duration > profile.max_duration_s + RANGE_EPS or n > max_f:
        reasons.append(f"{duration:.2f} s exceeds the {profile.max_duration_s:g} s maximum")
    if total_cuts > profile.max_cuts:
        reasons.append(f"{total_cuts} transitions exceed the maximum of {profile.max_cuts}")
    try:
        if n < min_f:
            raise NoPlanError(
                f"the clip lasts {duration:.2f} s, shorter than the profile minimum "
                f"{profile.min_duration_s:g} s: a clip cannot be lengthened by splitting "
                "(record or loop a longer take)"
            )
        if not reasons:
            bounds = (0, n)
        else:
            bounds = solve_segments(n, spans, min_frames=min_f, max_frames=max_f, max_cuts=profile.max_cuts)
    except NoPlanError as exc:
        problem = f"no valid plan: {exc}{_burst_hint(spans, rate, min_f, profile.max_cuts)}"
    segments = _segments(bounds, spans, rate, planned) if bounds else ()
    if problem:
        split_reason = problem
    elif len(segments) == 1:
        split_reason = (
            f"no split: {duration:.2f} s and {total_cuts} transition(s) are within the profile "
            f"({profile.min_duration_s:g}-{profile.max_duration_s:g} s, <= {profile.max_cuts})"
        )
    else:
        in_shot = sum(s.in_shot for s in segments)
        split_reason = f"split into {len(segments)} segments: " + " and ".join(reasons)
        split_reason += (
            f"; {len(segments) - 1 - in_shot} split(s) at shot boundaries, {in_shot} inside a shot"
            " (optimal: fewest in-shot splits, then fewest segments, then most even lengths)"
        )
    encoder, w = plan_encoder(probe, rate, crf=crf, preset=preset, segments=max(1, len(segments)))
    warnings += w
    return Plan(
        source=probe.path,
        profile=profile.name,
        rate=rate,
        aspect=aspect_plan,
        size=size,
        encoder=encoder,
        segments=segments,
        split_reason=split_reason,
        transitions=tuple(transitions),
        warnings=tuple(warnings),
        problem=problem,
        spans=tuple(spans),
    )


def merged_out(
    transitions: Sequence[Transition], merge_ranges: Sequence[tuple[float, float]]
) -> list[Transition]:
    """``transitions`` without those lying wholly inside one of ``merge_ranges`` (source
    seconds from the first frame, inclusive).

    Raises
    ------
    ValueError
        A range that is empty or negative.
    """
    for lo, hi in merge_ranges:
        if not 0 <= lo < hi:
            raise ValueError(f"merge range {lo:g}-{hi:g} s: need 0 <= start < end (seconds)")
    return [
        t for t in transitions
        if not any(lo <= t.start_s and t.end_s <= hi for lo, hi in merge_ranges)
    ]


def _burst_hint(spans: Sequence[Span], rate: RatePlan, window: int, max_cuts: int) -> str:
    """Where the densest run of transitions is (more than ``max_cuts`` starting within
    ``window`` output frames), in source seconds, and how to plan through it; empty when no
    window is that dense."""
    starts = np.array(sorted(s.start for s in spans), dtype=np.int64)
    ends = np.array(sorted(s.end for s in spans), dtype=np.int64)
    if starts.size <= max_cuts:
        return ""
    # Windows of max_cuts + 1 consecutive transitions; the tightest one is the burst.
    k = max_cuts
    width = starts[k:] - starts[: starts.size - k]
    i = int(np.argmin(width))
    if width[i] >= window:
        return ""
    # Extend over the transitions that keep the run dense, both ways.
    while i > 0 and starts[i - 1 + k] - starts[i - 1] < window:
        i -= 1
    lo = rate.source_seconds(int(starts[i]))
    j = i + k
    while j + 1 < starts.size and starts[j + 1] - starts[j + 1 - k] < window:
        j += 1
    hi = rate.source_seconds(int(max(ends[j], starts[j]) + 1))
    lo_s, hi_s = np.floor(lo * 100) / 100, np.ceil(hi * 100) / 100
    return (
        f"; the burst of transitions is at {lo_s:.2f}-{hi_s:.2f} s of the source: to plan it as one "
        f"shot, pass that range as a merge range (preflight fix --merge-range {lo_s:.2f}-{hi_s:.2f})"
    )


def _segments(
    bounds: Sequence[int], spans: Sequence[Span], rate: RatePlan, transitions: Sequence[Transition]
) -> tuple[SegmentPlan, ...]:
    ordered = sorted(transitions, key=lambda t: t.start_frame)
    by_span = list(zip(spans, ordered, strict=False))
    flags = shot_boundary_flags(spans, rate.frame_count)
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        inside = []
        for span, t in by_span:
            hit = (a < span.start <= b - 1) if span.is_cut else (span.start <= b - 1 and span.end >= a)
            if hit:
                at = Transition(
                    type=span.kind,
                    start_frame=span.start - a,
                    end_frame=span.end - a,
                    start_s=rate.output_seconds(span.start - a),
                    end_s=rate.output_seconds(span.end + 1 - a),
                    confidence=t.confidence,
                    via=t.via,
                )
                inside.append(PlannedTransition(at, t.start_frame, t.end_frame))
        out.append(
            SegmentPlan(
                index=i,
                start_frame=a,
                end_frame=b,
                start_s=rate.output_seconds(a),
                end_s=rate.output_seconds(b),
                source_start_s=rate.source_seconds(a),
                source_end_s=rate.source_seconds(b),
                transitions=tuple(inside),
                boundary=_boundary_reason(a, spans, rate, flags),
                in_shot=bool(a > 0 and not flags[a]),
            )
        )
    return tuple(out)


def _boundary_reason(p: int, spans: Sequence[Span], rate: RatePlan, flags: np.ndarray) -> str:
    if p == 0:
        return "start of the clip"
    t = rate.output_seconds(p)
    for s in spans:
        if s.is_cut and s.start == p:
            return f"at the cut at {t:.2f} s"
        if not s.is_cut and s.start == p:
            return f"just before the {s.kind.replace('_', ' ')} at {t:.2f} s"
        if not s.is_cut and s.end + 1 == p:
            return f"just after the {s.kind.replace('_', ' ')} ending at {t:.2f} s"
    if not flags[p]:
        return f"inside a shot at {t:.2f} s (no shot boundary gives valid segments here)"
    return f"at {t:.2f} s"


# --------------------------------------------------------------------------- helpers


def _frac_str(f: Fraction, sep: str = "/") -> str:
    f = Fraction(f)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}{sep}{f.denominator}"


def _fps_str(f: Fraction | float) -> str:
    v = float(f)
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.3f}"


def _ordinal(n: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(n, f"{n}th")
