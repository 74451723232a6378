"""The plan of ``preflight fix``: what will be done to a clip, and why. Pure: no I/O.

One module per decision: :mod:`.rate`, :mod:`.size`, :mod:`.encoder`, :mod:`.segments`;
:mod:`.make` combines them (:func:`make_plan`); :mod:`.common` holds shared constants.

From a :class:`~preflight.media.probe.Probe`, the clip's transitions and a
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

from .common import (
    ASPECT_MODES,
    AUDIO_BITRATE_PER_CHANNEL,
    CONFORM_RATIO,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    KEYFRAME_INTERVAL_S,
    MAX_RATE_STEP,
    RANGE_EPS,
    RATE_MODES,
    RATE_TOLERANCE,
    X264_PRESETS,
    AudioMode,
    FieldOrder,
    NoPlanError,
    RateMode,
    ToneMap,
    fps_str,
    frac_str,
    ordinal,
)
from .encoder import (
    EncoderPlan,
    plan_encoder,
    validate_encoder_options,
)
from .make import (
    Plan,
    make_plan,
)
from .rate import (
    RatePlan,
    output_frame_at_time,
    plan_rate,
    source_rate,
)
from .segments import (
    PlannedTransition,
    SegmentCost,
    SegmentPlan,
    Span,
    build_segments,
    burst_hint,
    count_inside,
    frame_limits,
    map_transitions,
    merged_out,
    segmentation_cost,
    segmentation_problems,
    shot_boundary_flags,
    solve_segments,
)
from .size import (
    AspectPlan,
    SizePlan,
    plan_aspect,
    plan_size,
)

__all__ = [
    "ASPECT_MODES",
    "AUDIO_BITRATE_PER_CHANNEL",
    "CONFORM_RATIO",
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "KEYFRAME_INTERVAL_S",
    "MAX_RATE_STEP",
    "RANGE_EPS",
    "RATE_MODES",
    "RATE_TOLERANCE",
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
    "SegmentCost",
    "SegmentPlan",
    "SizePlan",
    "Span",
    "ToneMap",
    "build_segments",
    "burst_hint",
    "count_inside",
    "fps_str",
    "frac_str",
    "frame_limits",
    "make_plan",
    "map_transitions",
    "merged_out",
    "ordinal",
    "output_frame_at_time",
    "plan_aspect",
    "plan_encoder",
    "plan_rate",
    "plan_size",
    "segmentation_cost",
    "segmentation_problems",
    "shot_boundary_flags",
    "solve_segments",
    "source_rate",
    "validate_encoder_options",
]
