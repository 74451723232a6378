"""The one small interface every analyzer implements.

Like PySceneDetect's detectors, analyzers are fed by a single decode loop
(:func:`preflight.check.analyze.analyze`); none of them opens the file itself, and none knows
an editor profile (they take measurement parameters only; :mod:`preflight.check.verdict`
judges). Each keeps only compact per-frame signals (a few floats per frame), never frames, so
memory stays flat in clip length apart from those signals (~100 bytes per frame).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch


@runtime_checkable
class Analyzer(Protocol):
    """A consumer of analysis batches.

    Lifecycle: ``start(geometry)`` once, ``process(batch)`` for every batch in order,
    ``finish()`` once after the last batch. Batches are consecutive, so an analyzer that needs
    the previous frame keeps it itself.
    """

    name: str

    def start(self, geometry: AnalysisGeometry) -> None: ...

    def process(self, batch: FrameBatch) -> None: ...

    def finish(self) -> None: ...

    def frame_signals(self) -> dict[str, np.ndarray]:
        """Per-frame signals, each of shape (frame_count,), for the CSV export."""
        ...
