"""The controller of ``preflight check``: probe, one decode pass feeding every analyzer, verdict.

Data flow::

    probe ──> AnalysisGeometry ──> iter_luma_batches ──┬─> TransitionDetector
                                   (decode thread)     ├─> ShakeAnalyzer
                                                       ├─> ExposureAnalyzer
                                                       ├─> SharpnessAnalyzer
                                                       └─> SceneDetectAnalyzer* (optional)
    transitions ──> shots ──> per-shot shake / exposure / sharpness ──> spec.evaluate ──> findings

Decoding runs in a producer thread and the analyzers in the caller's thread, with a two-batch
queue between them: PyAV, swscale and OpenCV release the GIL, so the two overlap on two cores
while memory stays bounded at a few batches whatever the clip length.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np

from ..errors import InputError
from ..media.decode import (
    DEFAULT_ANALYSIS_SIZE,
    DEFAULT_BATCH,
    AnalysisGeometry,
    iter_luma_batches,
)
from ..media.prefetch import prefetch
from ..media.probe import Probe, probe
from ..profile import Profile, load_profile
from ..sinks import ProgressSink, WarningSink
from .analyzers.base import Analyzer
from .analyzers.exposure import ExposureAnalyzer, ExposureResult
from .analyzers.shake import ShakeAnalyzer, ShakeResult
from .analyzers.sharpness import SharpnessAnalyzer, SharpnessResult
from .analyzers.transitions import TransitionDetector
from .shots import Shot, Transition, shots_from_transitions

SCENEDETECT_KINDS = ("adaptive", "content", "hist", "hash")


@dataclass(frozen=True)
class ShotReport:
    """Per-shot measurements (frames inclusive)."""

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    shake: ShakeResult
    shake_class: str
    exposure: ExposureResult
    sharpness: SharpnessResult

    def to_dict(self) -> dict[str, object]:
        return {
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "shake": {
                "score_pct": round(self.shake.score_pct, 4),
                "class": self.shake_class,
                "jitter_rms_px": round(self.shake.jitter_rms_px, 3),
                "pan_speed_pct": round(self.shake.pan_speed_pct, 3),
                "reliable_share": round(self.shake.reliable_share, 3),
            },
            "exposure": {
                "mean_luma": round(self.exposure.mean_luma, 4),
                "dark_pct": round(self.exposure.dark_pct, 3),
                "bright_pct": round(self.exposure.bright_pct, 3),
                "contrast": round(self.exposure.contrast, 4),
                "flicker": round(self.exposure.flicker, 5),
                "flags": list(self.exposure.flags),
            },
            # NaN = no textured frame in the shot: it cannot be judged, so JSON says null.
            "sharpness": None if np.isnan(self.sharpness.value) else round(self.sharpness.value, 4),
        }


@dataclass(frozen=True)
class Analysis:
    """Everything the single decode pass measured.

    ``pts`` has one entry per decoded frame (int64, ``time_base`` units); ``signals`` maps a
    column name to a per-frame array of the same length (the ``--csv`` export).
    """

    probe: Probe
    geometry: AnalysisGeometry
    frame_count: int
    pts: np.ndarray
    time_base: Fraction
    transitions: tuple[Transition, ...]
    shots: tuple[ShotReport, ...]
    signals: dict[str, np.ndarray] = field(repr=False)
    comparisons: dict[str, tuple[Transition, ...]]
    warnings: tuple[str, ...]

    @property
    def seconds(self) -> np.ndarray:
        """Per-frame time in seconds from the first frame."""
        if self.pts.size == 0:
            return np.zeros(0)
        return (self.pts - self.pts[0]).astype(np.float64) * float(self.time_base)

    @property
    def frame_step_s(self) -> float:
        """One frame in seconds: the median interval between decoded presentation times."""
        steps = np.diff(np.sort(self.pts))
        steps = steps[steps > 0]
        return float(np.median(steps)) * float(self.time_base) if steps.size else 0.0

    @property
    def decoded_duration_s(self) -> float:
        """From the first decoded frame's start to the last one's end (one frame after its PTS):
        the truth a container's declared duration must match."""
        if self.pts.size == 0:
            return 0.0
        span = int(self.pts.max()) - int(self.pts.min())
        return span * float(self.time_base) + self.frame_step_s


def make_scenedetect_analyzer(kind: str) -> Analyzer:
    """A PySceneDetect detector wrapped to run inside our decode loop."""
    if kind not in SCENEDETECT_KINDS:
        raise ValueError(f"unknown detector {kind!r}: use one of {', '.join(SCENEDETECT_KINDS)}")
    from .analyzers.scenedetect_bridge import SceneDetectAnalyzer

    return SceneDetectAnalyzer(kind)


def analyze(
    path: str | os.PathLike[str],
    *,
    profile: Profile | None = None,
    detectors: Sequence[str] = (),
    analysis_size: int = DEFAULT_ANALYSIS_SIZE,
    batch_size: int = DEFAULT_BATCH,
    fast_decode: bool = True,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
    probe_result: Probe | None = None,
) -> Analysis:
    """Probe ``path`` and run every analyzer over one streaming decode.

    Parameters
    ----------
    path : path-like
        The clip.
    profile : Profile, optional
        Thresholds for shake classes and exposure flags (default: ``aleph-2``).
    detectors : sequence of str
        Extra PySceneDetect detectors (``adaptive``, ``content``, ``hist``, ``hash``) fed the
        same frames; their cuts land in :attr:`Analysis.comparisons`.
    analysis_size : int
        Long side of the analysis frames in pixels (>= 16).
    fast_decode : bool
        Skip the H.264/HEVC loop filter (invisible at analysis size, ~20% faster decode).
    progress : callable, optional
        Called with the number of frames just processed.
    on_warning : callable, optional
        Called with one line per decode problem (damaged packets, truncation).

    Raises
    ------
    InputError
        Unreadable, non-video or undecodable input.
    ValueError
        Invalid options.
    """
    profile = profile or load_profile()
    for kind in detectors:
        if kind not in SCENEDETECT_KINDS:
            raise ValueError(f"unknown detector {kind!r}: use one of {', '.join(SCENEDETECT_KINDS)}")
    info = probe_result or probe(path)
    geometry = AnalysisGeometry.for_probe(info, size=analysis_size)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    transitions = TransitionDetector()
    shake = ShakeAnalyzer()
    exposure = ExposureAnalyzer()
    sharpness = SharpnessAnalyzer()
    extra = {kind: make_scenedetect_analyzer(kind) for kind in detectors}
    analyzers: list[Analyzer] = [transitions, shake, exposure, sharpness, *extra.values()]
    color = any(getattr(a, "needs_color", False) for a in analyzers)

    for a in analyzers:
        a.start(geometry)
    pts_chunks: list[np.ndarray] = []
    time_base = info.time_base
    batches = iter_luma_batches(
        info.path, geometry, batch_size=batch_size, fast=fast_decode, color=color, on_warning=warn
    )
    # The decoder's frame threads already keep both cores busy; OpenCV's own thread pool on
    # these tiny frames only adds contention (optical flow measured 1.38 -> 1.94 ms/frame).
    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for batch in prefetch(batches):
            time_base = batch.time_base
            pts_chunks.append(batch.pts)
            for a in analyzers:
                a.process(batch)
            if progress is not None:
                progress(len(batch))
        for a in analyzers:
            a.finish()
    finally:
        cv2.setNumThreads(cv_threads)

    pts = np.concatenate(pts_chunks) if pts_chunks else np.zeros(0, dtype=np.int64)
    frame_count = int(pts.size)
    if frame_count < 2:
        raise InputError(info.path, f"only {frame_count} decodable frame(s): not a clip")
    if frame_count < info.frame_count:
        warn(
            f"{info.path}: decoded {frame_count} of {info.frame_count} frames "
            "(damaged or truncated stream)"
        )

    found = tuple(transitions.transitions())
    seconds = (pts - pts[0]).astype(np.float64) * float(time_base)
    shot_reports = tuple(
        _shot_report(s, seconds, shake, exposure, sharpness, profile, found)
        for s in shots_from_transitions(list(found), frame_count)
    )
    signals: dict[str, np.ndarray] = {}
    for a in analyzers:
        for name, values in a.frame_signals().items():
            signals[f"{a.name}.{name}" if not name.startswith(a.name) else name] = values
    return Analysis(
        probe=info,
        geometry=geometry,
        frame_count=frame_count,
        pts=pts,
        time_base=Fraction(time_base),
        transitions=found,
        shots=shot_reports,
        signals=signals,
        comparisons={kind: tuple(a.transitions()) for kind, a in extra.items()},  # type: ignore[attr-defined]
        warnings=tuple(warnings),
    )


def _shot_report(
    shot: Shot,
    seconds: np.ndarray,
    shake: ShakeAnalyzer,
    exposure: ExposureAnalyzer,
    sharpness: SharpnessAnalyzer,
    profile: Profile,
    transitions: Sequence[Transition] = (),
) -> ShotReport:
    shake_result = shake.shot_shake(shot)
    frame_step = float(np.median(np.diff(seconds))) if seconds.size > 1 else 0.0
    return ShotReport(
        start_frame=shot.start_frame,
        end_frame=shot.end_frame,
        start_s=float(seconds[shot.start_frame]),
        end_s=float(seconds[shot.end_frame]) + frame_step,
        shake=shake_result,
        shake_class=profile.shake_class(shake_result.score_pct),
        exposure=exposure.shot_exposure(shot, profile=profile, transitions=transitions),
        sharpness=sharpness.shot_sharpness(shot),
    )
