"""The plan of ``preflight fix``: what will be done to a clip, and why. Pure: no I/O.

One module per decision: :mod:`.rate`, :mod:`.size`, :mod:`.encoder`, :mod:`.segments`;
:mod:`.make` combines them (:func:`make_plan`); :mod:`.common` holds shared constants. The
package exports the plan's types, :func:`make_plan` and what callers of the plan need; the
steps themselves (``plan_rate``, ``solve_segments``, ...) are imported from their module.

From a :class:`~preflight.media.probe.Probe`, the clip's transitions and a
:class:`~preflight.profile.Profile` this module decides

* the **frame rate** (keep / conform by retiming / decimate / repeat / resample by time),
* the **size** (short side into the profile's range, displayed aspect kept, square pixels,
  rotation applied, even dimensions) and the **aspect** policy (report, or ``pad``/``crop`` to
  the nearest conventional ratio),
* the **encoder** settings (H.264 High, yuv420p, CRF, preset, faststart; audio copy or AAC),
* the **segments**: an exact optimum over every possible split (see :func:`.segments.solve_segments`).

Every limit comes from the profile. Two timelines exist: the *source* timeline (decode-order
frames of the input) and the *output* timeline (frames at the planned rate, numbered from 0).
Segments are planned on the output timeline, where durations are what the editor will see.
"""

from .common import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    X264_PRESETS,
    AudioMode,
    FieldOrder,
    NoPlanError,
    RateMode,
    ToneMap,
)
from .encoder import EncoderPlan, validate_encoder_options
from .make import Plan, make_plan
from .rate import RatePlan, source_rate
from .segments import PlannedTransition, SegmentPlan
from .size import AspectPlan, SizePlan

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "X264_PRESETS",
    "AspectPlan",
    "AudioMode",
    "EncoderPlan",
    "FieldOrder",
    "NoPlanError",
    "Plan",
    "PlannedTransition",
    "RateMode",
    "RatePlan",
    "SegmentPlan",
    "SizePlan",
    "ToneMap",
    "make_plan",
    "source_rate",
    "validate_encoder_options",
]
