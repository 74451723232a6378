"""PySceneDetect's detectors fed from our own decode loop, for comparison with ours.

:class:`SceneDetectAnalyzer` wraps one of PySceneDetect 0.7's detector objects
(``AdaptiveDetector``, ``ContentDetector``, ``HistogramDetector``, ``HashDetector``) as an
:class:`~preflight.analyzers.base.Analyzer`: the clip is decoded once and the same frames go to
every analyzer, instead of PySceneDetect opening and decoding the file again.

Faithfulness to ``scenedetect.detect()`` (checked in ``tests/test_transitions.py``):

* Frames are the colour analysis frames of the batch (``FrameBatch.bgr``, BGR ``uint8``, which
  the decode produces only when asked with ``color=True``; :attr:`needs_color` asks for it),
  resized like PySceneDetect's ``SceneManager`` does before detection: to a width of
  ``DEFAULT_MIN_WIDTH`` (256 px) with its default linear interpolation, when wider.
* Each frame is passed with a :class:`scenedetect.FrameTimecode` built exactly as
  PySceneDetect's PyAV backend builds its ``position``: a ``Timecode(pts, time_base)`` with the
  PTS relative to the first frame, and the stream's nominal frame rate (estimated here from the
  median PTS step, since an analyzer never opens the file). ``post_process`` is called after
  the last frame, as ``SceneManager`` does.
* Cuts come back as timecodes; they are mapped to our 0-based decode-order frame indices by PTS
  (so VFR clips, where PySceneDetect's frame numbers follow the nominal timeline, map right).
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch
from ..shots import Transition

KINDS = ("adaptive", "content", "hist", "hash")


def _make_detector(kind: str) -> object:
    # Imported here, not at module import: PySceneDetect is only needed when asked for.
    from scenedetect.detectors import AdaptiveDetector, ContentDetector, HashDetector, HistogramDetector

    return {
        "adaptive": AdaptiveDetector,
        "content": ContentDetector,
        "hist": HistogramDetector,
        "hash": HashDetector,
    }[kind]()


class SceneDetectAnalyzer:
    """One PySceneDetect detector (default parameters) run inside our single decode loop.

    Parameters
    ----------
    kind : {"adaptive", "content", "hist", "hash"}
        ``AdaptiveDetector``, ``ContentDetector``, ``HistogramDetector`` or ``HashDetector``.
    fps : Fraction or float, optional
        Nominal frame rate given to PySceneDetect's timecodes (its ``min_scene_len`` is counted
        in frames of this rate). Default: estimated from the median PTS step of the first batch.

    Attributes
    ----------
    needs_color : bool
        Always True: PySceneDetect's detectors take BGR frames, so the controller must decode
        with ``color=True``.
    """

    needs_color = True

    def __init__(self, kind: str, *, fps: Fraction | float | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown PySceneDetect detector {kind!r}: use one of {', '.join(KINDS)}")
        if fps is not None and not float(fps) > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.kind = kind
        self.name = f"scenedetect_{kind}"
        self._fps_arg = None if fps is None else Fraction(fps).limit_denominator(1001)
        self._detector: object | None = None
        self._finished = False

    def start(self, geometry: AnalysisGeometry) -> None:
        """Create a fresh detector for a clip analysed at ``geometry``."""
        from scenedetect.scene_manager import compute_downscale_factor

        self._detector = _make_detector(self.kind)
        factor = compute_downscale_factor(geometry.width)
        if factor > 1.0:
            self._size: tuple[int, int] | None = (
                max(1, round(geometry.width / factor)),
                max(1, round(geometry.height / factor)),
            )
        else:
            self._size = None
        self._fps = self._fps_arg
        self._pts0: int | None = None
        self._time_base: Fraction | None = None
        self._pts_chunks: list[np.ndarray] = []
        self._cuts: list[object] = []
        self._last_tc: object | None = None
        self._finished = False
        self._transitions: list[Transition] = []

    def process(self, batch: FrameBatch) -> None:
        """Feed every frame of the batch to the detector, in order."""
        from scenedetect import FrameTimecode
        from scenedetect.common import Timecode

        if self._detector is None:
            raise RuntimeError("call start(geometry) before process()")
        if len(batch) == 0:
            return
        if batch.bgr is None:
            raise ValueError(
                f"{self.name} needs colour frames: decode with iter_luma_batches(..., color=True) "
                "(the controller does so when an analyzer has needs_color = True)"
            )
        pts = np.asarray(batch.pts, np.int64)
        if self._pts0 is None:
            self._pts0 = int(pts[0])
            self._time_base = Fraction(batch.time_base)
            if self._fps is None:
                self._fps = _estimate_fps(pts, self._time_base)
        self._pts_chunks.append(pts.copy())
        detector = self._detector
        for j in range(len(batch)):
            frame = batch.bgr[j]
            if self._size is not None:
                frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_LINEAR)
            position = Timecode(pts=int(pts[j]) - self._pts0, time_base=self._time_base)
            tc = FrameTimecode(position, fps=self._fps)
            self._cuts.extend(detector.process_frame(tc, np.ascontiguousarray(frame)))  # type: ignore[attr-defined]
            self._last_tc = tc

    def finish(self) -> None:
        """Flush the detector and map its cuts to frame indices."""
        if self._detector is None:
            raise RuntimeError("call start(geometry) before finish()")
        if self._last_tc is not None:
            self._cuts.extend(self._detector.post_process(self._last_tc))  # type: ignore[attr-defined]
        pts = np.concatenate(self._pts_chunks) if self._pts_chunks else np.zeros(0, np.int64)
        self._transitions = []
        if pts.size:
            rel = pts - pts[0]
            tb = self._time_base or Fraction(1, 1)
            seen: set[int] = set()
            for tc in self._cuts:
                i = _frame_index(tc, rel, tb)
                if i <= 0 or i in seen:
                    continue  # a "cut" at the first frame is no boundary
                seen.add(i)
                t = float(rel[i] * tb)
                self._transitions.append(Transition("cut", i, i, t, t, 1.0))
            self._transitions.sort(key=lambda t: t.start_frame)
        self._finished = True

    def transitions(self) -> list[Transition]:
        """The detector's cuts as ``Transition(type="cut")`` (after :meth:`finish`).

        PySceneDetect reports no confidence; it is 1.0.
        """
        if not self._finished:
            raise RuntimeError("transitions() is available after finish()")
        return list(self._transitions)

    def frame_signals(self) -> dict[str, np.ndarray]:
        """None: PySceneDetect keeps its metrics in its own StatsManager."""
        return {}


def _estimate_fps(pts: np.ndarray, time_base: Fraction) -> Fraction:
    """Nominal rate from the median PTS step (robust to dropped frames of a VFR clip)."""
    steps = np.diff(pts)
    steps = steps[steps > 0]
    if steps.size == 0 or time_base <= 0:
        return Fraction(30)
    step = int(np.median(steps))
    return (1 / (step * time_base)).limit_denominator(1001)


def _frame_index(tc: object, rel_pts: np.ndarray, time_base: Fraction) -> int:
    """Decode-order index of the frame at timecode ``tc`` (its PTS when exact, else seconds)."""
    pts = getattr(tc, "pts", None)
    if getattr(tc, "time_base", None) == time_base and pts is not None:
        i = int(np.searchsorted(rel_pts, int(pts)))
        if i < rel_pts.size and rel_pts[i] == int(pts):
            return i
    seconds = float(tc.seconds)  # type: ignore[attr-defined]
    target = seconds / float(time_base)
    return int(np.argmin(np.abs(rel_pts - target)))
