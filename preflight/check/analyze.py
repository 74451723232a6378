"""The measuring half of ``preflight check``: probe, one decode pass feeding every analyzer.

Data flow::

    probe ──> AnalysisGeometry ──> iter_luma_batches ──┬─> TransitionDetector
                                   (decode thread)     ├─> ShakeAnalyzer
                                                       ├─> ExposureAnalyzer
                                                       ├─> SharpnessAnalyzer
                                                       └─> SceneDetectAnalyzer* (optional)
    transitions ──> shots ──> per-shot shake / exposure / sharpness ──> Analysis (measurements)

Nothing here knows an editor profile: the analyzers take only measurement parameters, so one
:class:`Analysis` serves any profile. :mod:`.verdict` turns measurements x profile into shake
classes, exposure flags and findings.

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
from ..sinks import ProgressSink, WarningLog, WarningSink
from .analyzers.base import Analyzer
from .analyzers.exposure import ExposureAnalyzer, ExposureResult
from .analyzers.shake import ShakeAnalyzer, ShakeResult
from .analyzers.sharpness import SharpnessAnalyzer, SharpnessResult
from .analyzers.transitions import TransitionDetector
from .shots import Transition, shots_from_transitions

SCENEDETECT_KINDS = ("adaptive", "content", "hist", "hash")


@dataclass(frozen=True)
class ShotMeasurement:
    """What the analyzers measured over one shot (frames inclusive), judged by no profile yet."""

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    shake: ShakeResult
    exposure: ExposureResult
    sharpness: SharpnessResult


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
    shots: tuple[ShotMeasurement, ...]
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
    _check_detector(kind)
    from .analyzers.scenedetect_bridge import SceneDetectAnalyzer

    return SceneDetectAnalyzer(kind)


def _check_detector(kind: str) -> None:
    if kind not in SCENEDETECT_KINDS:
        raise ValueError(f"unknown detector {kind!r}: use one of {', '.join(SCENEDETECT_KINDS)}")


@dataclass(frozen=True)
class _Analyzers:
    """The analyzers one pass feeds: the four ``check`` needs and the optional comparisons."""

    transitions: TransitionDetector
    shake: ShakeAnalyzer
    exposure: ExposureAnalyzer
    sharpness: SharpnessAnalyzer
    extra: dict[str, Analyzer]

    @classmethod
    def create(cls, detectors: Sequence[str]) -> _Analyzers:
        return cls(
            transitions=TransitionDetector(),
            shake=ShakeAnalyzer(),
            exposure=ExposureAnalyzer(),
            sharpness=SharpnessAnalyzer(),
            extra={kind: make_scenedetect_analyzer(kind) for kind in detectors},
        )

    @property
    def all(self) -> list[Analyzer]:
        return [self.transitions, self.shake, self.exposure, self.sharpness, *self.extra.values()]


def analyze(
    path: str | os.PathLike[str],
    *,
    detectors: Sequence[str] = (),
    analysis_size: int = DEFAULT_ANALYSIS_SIZE,
    batch_size: int = DEFAULT_BATCH,
    fast_decode: bool = True,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
    probe_result: Probe | None = None,
) -> Analysis:
    """Probe ``path`` and run every analyzer over one streaming decode: measurements only.

    Parameters
    ----------
    path : path-like
        The clip.
    detectors : sequence of str
        Extra PySceneDetect detectors (``adaptive``, ``content``, ``hist``, ``hash``) fed the
        same frames; their cuts land in :attr:`Analysis.comparisons`.
    analysis_size : int
        Long side of the analysis frames in pixels (>= 16).
    batch_size : int
        Frames per decoded batch.
    fast_decode : bool
        Skip the H.264/HEVC loop filter (invisible at analysis size, ~20% faster decode).
    progress : callable, optional
        Called with the number of frames just processed.
    on_warning : callable, optional
        Called with one line per decode problem (damaged packets, truncation).
    probe_result : Probe, optional
        A probe of ``path`` the caller already made.

    Raises
    ------
    InputError
        Unreadable, non-video or undecodable input.
    ValueError
        Invalid options.
    """
    for kind in detectors:
        _check_detector(kind)
    info = probe_result or probe(path)
    geometry = AnalysisGeometry.for_probe(info, size=analysis_size)
    warn = WarningLog(on_warning)
    analyzers = _Analyzers.create(detectors)
    pts, time_base = _decode_pass(
        info, geometry, analyzers.all, batch_size=batch_size, fast_decode=fast_decode,
        progress=progress, on_warning=warn,
    )
    frame_count = int(pts.size)
    if frame_count < 2:
        raise InputError(info.path, f"only {frame_count} decodable frame(s): not a clip")
    if frame_count < info.frame_count:
        warn(
            f"{info.path}: decoded {frame_count} of {info.frame_count} frames "
            "(damaged or truncated stream)"
        )
    found = tuple(analyzers.transitions.transitions())
    seconds = (pts - pts[0]).astype(np.float64) * float(time_base)
    return Analysis(
        probe=info,
        geometry=geometry,
        frame_count=frame_count,
        pts=pts,
        time_base=time_base,
        transitions=found,
        shots=_measure_shots(analyzers, found, seconds),
        signals=_frame_signals(analyzers.all),
        comparisons={kind: tuple(a.transitions()) for kind, a in analyzers.extra.items()},  # type: ignore[attr-defined]
        warnings=warn.messages,
    )


def _decode_pass(
    info: Probe,
    geometry: AnalysisGeometry,
    analyzers: Sequence[Analyzer],
    *,
    batch_size: int,
    fast_decode: bool,
    progress: ProgressSink | None,
    on_warning: WarningSink,
) -> tuple[np.ndarray, Fraction]:
    """Decode ``info.path`` once, feeding every batch to every analyzer (start ... finish).

    Returns the PTS of every decoded frame (int64) and their time base.
    """
    color = any(getattr(a, "needs_color", False) for a in analyzers)
    for a in analyzers:
        a.start(geometry)
    pts_chunks: list[np.ndarray] = []
    time_base = info.time_base
    batches = iter_luma_batches(
        info.path, geometry, batch_size=batch_size, fast=fast_decode, color=color,
        on_warning=on_warning,
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
    return pts, Fraction(time_base)


def _measure_shots(
    analyzers: _Analyzers, transitions: tuple[Transition, ...], seconds: np.ndarray
) -> tuple[ShotMeasurement, ...]:
    """Shake, exposure and sharpness of every shot between ``transitions``."""
    frame_step = float(np.median(np.diff(seconds))) if seconds.size > 1 else 0.0
    return tuple(
        ShotMeasurement(
            start_frame=shot.start_frame,
            end_frame=shot.end_frame,
            start_s=float(seconds[shot.start_frame]),
            end_s=float(seconds[shot.end_frame]) + frame_step,
            shake=analyzers.shake.shot_shake(shot),
            exposure=analyzers.exposure.shot_exposure(shot, transitions=transitions),
            sharpness=analyzers.sharpness.shot_sharpness(shot),
        )
        for shot in shots_from_transitions(list(transitions), seconds.size)
    )


def _frame_signals(analyzers: Sequence[Analyzer]) -> dict[str, np.ndarray]:
    """Every analyzer's per-frame signals, named ``analyzer.signal`` (the ``--csv`` columns)."""
    signals: dict[str, np.ndarray] = {}
    for a in analyzers:
        for name, values in a.frame_signals().items():
            signals[f"{a.name}.{name}" if not name.startswith(a.name) else name] = values
    return signals
