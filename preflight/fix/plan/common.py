"""Constants, the planner's error and text helpers shared by every part of the plan."""

from __future__ import annotations

from fractions import Fraction

from ...enums import TextEnum
from ...errors import FailedError

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



class RateMode(TextEnum):
    """How source frames become output frames (see :class:`~preflight.fix.plan.RatePlan`)."""

    KEEP = "keep"
    CONFORM = "conform"
    DECIMATE = "decimate"
    REPEAT = "repeat"
    RESAMPLE = "resample"


class AudioMode(TextEnum):
    """What happens to the source's audio: none, stream copy, or AAC re-encode."""

    NONE = "none"
    COPY = "copy"
    AAC = "aac"


class ToneMap(TextEnum):
    """HDR transfer tone-mapped to SDR BT.709."""

    PQ = "pq"
    HLG = "hlg"


class FieldOrder(TextEnum):
    """Field parity deinterlaced from: top or bottom field first."""

    TFF = "tff"
    BFF = "bff"


RATE_MODES = tuple(m.value for m in RateMode)
MAX_RATE_STEP = 1000
"""Largest frame-rate divisor (decimation) or multiple (repetition) the planner tries."""


class NoPlanError(FailedError, ValueError):
    """No segmentation satisfies the profile (the message says why): the clip cannot be fixed."""


# --------------------------------------------------------------------------- helpers


def frac_str(f: Fraction, sep: str = "/") -> str:
    f = Fraction(f)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}{sep}{f.denominator}"


def fps_str(f: Fraction | float) -> str:
    v = float(f)
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.3f}"


def ordinal(n: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(n, f"{n}th")
