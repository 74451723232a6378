"""Shots found in someone else's decode: the one way ``fix`` and ``qa`` get shots.

``fix`` (single pass) and ``qa score`` decode the source at full resolution for their own work;
:class:`ShotTracker` takes those frames in decode order, makes the analysis-size luma batches
``check`` uses (:class:`~preflight.media.decode.LumaBatcher`) and runs the same transition
detector on them, so the source is decoded once.
"""

from __future__ import annotations

import av

from ..media.decode import DEFAULT_BATCH, AnalysisGeometry, LumaBatcher
from ..media.probe import Probe
from .analyzers.transitions import TransitionDetector
from .shots import Shot, Transition, shots_from_transitions


class ShotTracker:
    """Feed decoded source frames in decode order; :meth:`finish` returns the transitions.

    Memory: one batch of analysis frames (``batch_size`` x ~320x180 bytes) plus the detector's
    per-frame signals.

    Parameters
    ----------
    probe : Probe
        The source's probe (for the analysis geometry: rotation, aspect).
    batch_size : int
        Frames per detector batch.
    """

    method = "transitions"

    def __init__(self, probe: Probe, *, batch_size: int = DEFAULT_BATCH) -> None:
        self._batcher = LumaBatcher(AnalysisGeometry.for_probe(probe), batch_size=batch_size)
        self._detector = TransitionDetector()
        self._detector.start(self._batcher.geometry)
        self.transitions: tuple[Transition, ...] = ()

    @property
    def count(self) -> int:
        """Frames taken so far."""
        return self._batcher.count

    def add(self, frame: av.VideoFrame, pts: int | None = None) -> None:
        """Take the next source frame (full resolution, as decoded; ``pts`` fills a missing one)."""
        batch = self._batcher.add(frame, pts)
        if batch is not None:
            self._detector.process(batch)

    def finish(self) -> tuple[Transition, ...]:
        """The transitions over every frame taken (source numbering); call once, at the end."""
        batch = self._batcher.flush()
        if batch is not None:
            self._detector.process(batch)
        self._detector.finish()
        self.transitions = tuple(self._detector.transitions())
        return self.transitions

    def shots(self) -> list[Shot]:
        """The shots between the transitions :meth:`finish` found."""
        return shots_from_transitions(list(self.transitions), self._batcher.count)
