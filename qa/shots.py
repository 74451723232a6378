"""Shots of the source for per-shot pooling, found in the scoring pass itself.

``preflight``'s transition detector (:mod:`preflight.analyzers.transitions`) runs on the source's
analysis-size luma, made from the full-resolution frames the scorer decodes anyway, so the source
is decoded once.
"""

from __future__ import annotations

import av

from preflight.check.analyzers.transitions import TransitionDetector
from preflight.check.shots import Shot, Transition, shots_from_transitions
from preflight.media.decode import DEFAULT_BATCH, AnalysisGeometry, LumaBatcher
from preflight.media.probe import Probe


class SourceShots:
    """Feed source frames in decode order; :meth:`finish` returns the shots.

    Memory: one batch of analysis frames (``DEFAULT_BATCH`` x ~320x180 bytes) plus the detector's
    per-frame signals.
    """

    method = "transitions"

    def __init__(self, probe: Probe, *, batch_size: int = DEFAULT_BATCH) -> None:
        self._batcher = LumaBatcher(AnalysisGeometry.for_probe(probe), batch_size=batch_size)
        self.detector = TransitionDetector()
        self.detector.start(self._batcher.geometry)
        self.transitions: list[Transition] = []

    def add(self, frame: av.VideoFrame) -> None:
        """Take the next source frame (full resolution, as decoded)."""
        batch = self._batcher.add(frame)
        if batch is not None:
            self.detector.process(batch)

    def finish(self) -> list[Shot]:
        """Shots over the frames seen (inclusive ranges, source numbering)."""
        batch = self._batcher.flush()
        if batch is not None:
            self.detector.process(batch)
        self.detector.finish()
        self.transitions = list(self.detector.transitions())
        return shots_from_transitions(self.transitions, self._batcher.count)
