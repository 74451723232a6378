"""Shots of the source for per-shot pooling, found in the scoring pass itself.

``preflight``'s transition detector (:mod:`preflight.analyzers.transitions`) runs on the source's
analysis-size luma, made from the full-resolution frames the scorer decodes anyway, so the source
is decoded once. When that analyzer is unavailable the whole clip counts as one shot (and the
result says so).
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from preflight.decode import DEFAULT_BATCH, AnalysisGeometry, FrameBatch, analysis_luma
from preflight.probe import Probe
from preflight.shots import Shot, Transition, shots_from_transitions


def _make_detector():
    """A TransitionDetector, or None if ``preflight.analyzers.transitions`` is not installed."""
    try:
        from preflight.analyzers.transitions import TransitionDetector
    except ImportError:
        return None
    return TransitionDetector()


class SourceShots:
    """Feed source frames in decode order; :meth:`finish` returns the shots.

    Memory: one batch of analysis frames (``DEFAULT_BATCH`` x ~320x180 bytes) plus the detector's
    per-frame signals.
    """

    def __init__(self, probe: Probe, *, batch_size: int = DEFAULT_BATCH, detector=None):
        self.geometry = AnalysisGeometry.for_probe(probe)
        self.detector = detector if detector is not None else _make_detector()
        self.method = "transitions" if self.detector is not None else "single"
        self._batch_size = batch_size
        self._buf = np.empty((batch_size, self.geometry.height, self.geometry.width), np.uint8)
        self._pts = np.empty(batch_size, np.int64)
        self._n = 0
        self._start = 0
        self._time_base: Fraction | None = None
        self._count = 0
        self._last_pts = -1
        self.transitions: list[Transition] = []
        if self.detector is not None:
            self.detector.start(self.geometry)

    def add(self, frame: av.VideoFrame) -> None:
        """Take the next source frame (full resolution, as decoded)."""
        self._count += 1
        if self.detector is None:
            return
        if self._time_base is None:
            self._time_base = Fraction(frame.time_base) if frame.time_base else Fraction(1, 1)
        pts = frame.pts if frame.pts is not None else self._last_pts + 1
        self._last_pts = pts
        self._buf[self._n] = analysis_luma(frame, self.geometry)
        self._pts[self._n] = pts
        self._n += 1
        if self._n == self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._n:
            return
        assert self._time_base is not None
        batch = FrameBatch(
            start=self._start,
            pts=self._pts[: self._n].copy(),
            luma=self._buf[: self._n].copy(),
            time_base=self._time_base,
        )
        self.detector.process(batch)
        self._start += self._n
        self._n = 0

    def finish(self) -> list[Shot]:
        """Shots over the frames seen (inclusive ranges, source numbering)."""
        if self.detector is None:
            return [Shot(0, self._count - 1)] if self._count else []
        self._flush()
        self.detector.finish()
        self.transitions = list(self.detector.transitions())
        return shots_from_transitions(self.transitions, self._count)
