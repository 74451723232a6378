"""The output frame rate: keep, conform by retiming, decimate, repeat, or resample by time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ...errors import InputError
from ...media.probe import Probe
from ...profile import Profile
from .common import (
    CONFORM_RATIO,
    MAX_RATE_STEP,
    RANGE_EPS,
    RATE_TOLERANCE,
    RateMode,
    fps_str,
    frac_str,
    ordinal,
)

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
    mode: RateMode
    step: int
    retime: Fraction
    source_frames: int
    frame_count: int
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RateMode(self.mode))  # a plain string is accepted

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
            "source_fps": frac_str(self.source_fps),
            "fps": frac_str(self.fps),
            "fps_float": round(float(self.fps), 6),
            "mode": self.mode,
            "step": self.step,
            "retime": frac_str(self.retime),
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
            f"variable frame rate (mean {float(mean):.3f} fps) made constant at {fps_str(fps)} fps by "
            "timestamp: each output frame shows the source frame on screen at that time"
        )
        if float(mean) < float(fps) * (1 - RATE_TOLERANCE):
            warnings.append(
                f"variable frame rate averaging {float(mean):.2f} fps resampled to {fps_str(fps)} fps: "
                "some frames are shown twice"
            )
        return RatePlan(mean, fps, "resample", 1, Fraction(1), n_src, n_out, reason), warnings

    src = source_rate(probe)
    if _in_range(src, profile):
        reason = f"{fps_str(src)} fps is within {profile.min_fps:g}-{profile.max_fps:g} fps: kept"
        return RatePlan(src, src, "keep", 1, Fraction(1), n_src, n_src, reason), warnings

    best = _integer_candidate(src, profile)
    if best is not None:
        mode, step, retime = best
        if mode in ("keep", "conform"):
            fps = src * retime
            reason = (
                f"{fps_str(src)} fps conformed to {fps_str(fps)} fps by retiming: every frame kept, "
                f"played {float(retime):.4f}x faster (audio retimed with it to stay in sync); "
                "no frame duplicated"
            )
            return RatePlan(src, fps, "conform", 1, retime, n_src, n_src, reason), warnings
        if mode == "decimate":
            fps = src / step * retime
            n_out = -(-n_src // step)
            reason = (
                f"{fps_str(src)} fps is above {profile.max_fps:g}: every {ordinal(step)} frame kept "
                f"-> {fps_str(fps)} fps (integer divisor: motion cadence stays regular)"
            )
            if retime != 1:
                reason += f", then conformed by retiming x{float(retime):.4f}"
            return RatePlan(src, fps, "decimate", step, retime, n_src, n_out, reason), warnings
        fps = src * step * retime
        reason = (
            f"{fps_str(src)} fps is below {profile.min_fps:g}: each frame shown {step} times "
            f"-> {fps_str(fps)} fps"
        )
        warnings.append(
            f"{fps_str(src)} fps raised to {fps_str(fps)} fps by repeating each frame {step}x: "
            f"motion stays at {fps_str(src)} fps"
        )
        return RatePlan(src, fps, "repeat", step, retime, n_src, n_src * step, reason), warnings

    fps = _nearest_rate(src, profile)
    n_out = max(1, round(n_src * fps / src))
    verb = "dropped" if fps < src else "repeated"
    reason = (
        f"{fps_str(src)} fps has no integer relation to {profile.min_fps:g}-{profile.max_fps:g} fps: "
        f"resampled by time to the nearest in-range rate {fps_str(fps)} fps"
    )
    warnings.append(
        f"{fps_str(src)} fps resampled to {fps_str(fps)} fps: some frames {verb} at irregular intervals"
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


