"""The transition analyzer: :class:`TransitionDetector` (streaming in :mod:`.signals`, decision
in :mod:`.decision`; method in the package docstring)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ....media.decode import AnalysisGeometry, FrameBatch
from ...shots import Transition
from .decision import Decider
from .params import TransitionParams
from .signals import Series, SignalStream


class TransitionDetector:
    """Finds hard cuts and gradual transitions in a stream of analysis-size luma batches.

    Implements the :class:`~preflight.analyzers.base.Analyzer` protocol; after ``finish()``,
    :meth:`transitions` lists the transitions in frame order. Method and references: package
    docstring. All thresholds are in range-normalised luma units (0-1) or frames.

    Parameters
    ----------
    params : TransitionParams, optional
        The tunables (keyword-only); the defaults when omitted.
    """

    name = "transitions"

    def __init__(self, *, params: TransitionParams | None = None) -> None:
        if params is not None and not isinstance(params, TransitionParams):
            raise TypeError(f"params must be a TransitionParams, got {type(params).__name__}")
        self.params = params if params is not None else TransitionParams()
        self._finished = False
        self._transitions: list[Transition] = []
        self._signals: dict[str, np.ndarray] = {}
        self._stream: SignalStream | None = None
        self._series = Series()

    # ------------------------------------------------------------------ streaming
    def start(self, geometry: AnalysisGeometry) -> None:
        """Reset state for a new clip analysed at ``geometry``."""
        self._stream = SignalStream(geometry, self.params)
        self._series = self._stream.series
        self._finished = False
        self._transitions = []
        self._signals = {}

    def process(self, batch: FrameBatch) -> None:
        """Reduce one batch to per-frame signals."""
        if self._stream is None:
            raise RuntimeError("call start(geometry) before process()")
        self._stream.process(batch)

    # ------------------------------------------------------------------ decision
    def finish(self) -> None:
        """Decide the transitions from the per-frame signals."""
        if self._stream is None:
            raise RuntimeError("call start(geometry) before finish()")
        sig, lin, bridge = self._stream.collect()
        decider = Decider(self._stream.params, sig, lin, bridge)
        found = decider.run()
        tb = self._stream.time_base or Fraction(1, 1)
        pts = sig["pts"]

        def sec(i: int) -> float:
            return float((int(pts[i]) - int(pts[0])) * tb)

        self._transitions = [
            Transition(
                type=kind,
                start_frame=int(a),
                end_frame=int(b),
                start_s=sec(a),
                end_s=sec(b),
                confidence=float(np.clip(conf, 0.0, 1.0)),
                via=via,
            )
            for kind, a, b, conf, via in found
        ]
        self._signals = {
            "diff": sig["diff"],
            "struct": sig["struct"],
            "hist": sig["hist"],
            "mean_luma": sig["mean"],
            "std_luma": sig["std"],
            "detail": sig["detail"],
            "cut_score": decider.cut_score.astype(np.float32),
            "dissolve_resid": decider.dissolve_resid.astype(np.float32),
        }
        self._finished = True

    def transitions(self) -> list[Transition]:
        """Transitions in frame order (available after :meth:`finish`)."""
        if not self._finished:
            raise RuntimeError("transitions() is available after finish()")
        return list(self._transitions)

    def frame_signals(self) -> dict[str, np.ndarray]:
        """Per-frame signals, each of shape (frame_count,), float32.

        ``diff`` (mean absolute luma difference to the previous frame, 0-1), ``struct``
        (motion-compensated 1 - NCC to the previous frame, 0-2, NaN next to flat frames),
        ``hist`` (histogram distance, 0-1), ``mean_luma``/``std_luma`` (range-normalised, 0-1),
        ``detail`` (RMS Laplacian), ``cut_score`` (the weaker of the diff and struct ratios to
        their local level; >= ``cut_ratio`` at a cut) and ``dissolve_resid`` (smallest
        linear-mix residual ``R`` of a window centred on the frame; NaN when no window there
        spans a change).
        """
        return dict(self._signals)
