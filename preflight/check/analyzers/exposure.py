"""Exposure: per-frame brightness statistics on range-normalised luma; per-shot means.

Per frame (one 256-bin histogram each, ``cv2.calcHist``; every statistic is then a dot product
of the ``(N, 256)`` histogram matrix with a 256-entry table, so a batch costs ~0.03 ms per
320 px frame, five times less than reducing the ``(N, H, W)`` array with numpy):

* ``mean``: mean luma normalised to 0-1 *range-aware*: limited ("TV", ITU-R BT.601/709) range
  maps code 16 to 0 and 235 to 1, codes outside clip; full range maps 0-255 to 0-1.
* ``dark_pct`` / ``bright_pct``: % of pixels within ``BLACK_LEVEL`` (3%) of black / of white
  after normalisation (limited range: codes <= 22 / >= 229; full range: <= 7 / >= 248). The
  3% band absorbs the +-1..3 code noise and ringing a codec leaves on a black or white plateau,
  so a crushed or clipped area counts whole, while it stays well below any graded shadow or
  highlight detail.
* ``contrast``: standard deviation of normalised luma (RMS contrast, Peli 1990 [1]_).

Per shot (:meth:`ExposureAnalyzer.shot_exposure`): frame means of the above, and ``flicker``:
the RMS of the frame-mean-luma series after removing its Savitzky-Golay trend (local cubic over
~1 s, the same low-pass as :mod:`.shake`): fades, exposure ramps and pans into a bright area are
smooth and stay in the trend, periodic or erratic frame-to-frame swings (mains lights beating
with the frame rate, auto-exposure hunting) above ~1.3 Hz remain. A sinusoidal flicker of
amplitude ``A`` (0-1 units) reads ``A / sqrt(2)``.

This module only measures: it knows no editor profile. The under/over/flicker flags come from
:func:`preflight.check.verdict.exposure_flags`, which compares a shot's
:attr:`ExposureResult.outside_holds` and ``flicker`` with the profile's thresholds.

References
----------
.. [1] E. Peli, "Contrast in complex images", JOSA A 7(10), 1990.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch
from ..shots import Shot, Transition
from .shake import check_shot, fps_from_pts, odd_window, savgol_lowpass

BLACK_LEVEL = 0.03
WHITE_LEVEL = 0.97
FLICKER_WINDOW_S = 1.0
# A frame "holds" a fade's black (white) when this % of its pixels are at that level. Real
# black holds measure 98.1-98.8 % (compression noise lifts a few pixels: psd_testvideo.mp4); a
# dark but graded shot stays far below (tests/test_papercuts.py).
HOLD_FLAT_PCT = 95.0
# Shots shorter than this many frames have no meaningful high-passed series: flicker 0.
_MIN_FLICKER_FRAMES = 8


@dataclass(frozen=True)
class LumaLevels:
    """Mean normalised luma (0-1) and mean % of crushed / clipped pixels (0-100) over some frames."""

    mean_luma: float
    dark_pct: float
    bright_pct: float


@dataclass(frozen=True)
class ExposureResult:
    """Exposure of one shot (luma normalised to 0-1, see the module docstring).

    Attributes
    ----------
    mean_luma : float
        Mean normalised luma over the shot's frames, 0-1.
    dark_pct, bright_pct : float
        Mean % of pixels crushed to black / clipped to white, 0-100.
    contrast : float
        Mean per-frame standard deviation of normalised luma, 0-0.5.
    flicker : float
        RMS of the high-passed frame-mean-luma series, 0-1 units.
    frames : int
        Frames in the shot.
    outside_holds : LumaLevels or None
        The same means over the frames that do not hold a fade's flat black or white
        (:func:`fade_hold`): what the shot's exposure is judged on. None when every frame of
        the shot holds a fade.
    """

    mean_luma: float
    dark_pct: float
    bright_pct: float
    contrast: float
    flicker: float
    frames: int
    outside_holds: LumaLevels | None


def fade_hold(
    shot: Shot, dark_pct: np.ndarray, bright_pct: np.ndarray, transitions: Sequence[Transition]
) -> np.ndarray:
    """Mask of ``shot``'s frames that hold a fade's flat black or white.

    A run of flat frames (at least ``HOLD_FLAT_PCT`` % of pixels at the fade's level) counts when
    it starts right after a ``fade_out`` through that level, or ends right before a ``fade_in``
    through it: the black between a fade out and a fade in, or before a fade in at the start
    of the clip, or after a fade out at its end. ``dark_pct``/``bright_pct`` are the shot's
    per-frame values.
    """
    n = shot.frame_count
    hold = np.zeros(n, dtype=bool)
    level = {"black": dark_pct, "white": bright_pct}
    for t in transitions:
        flat = level.get(t.via or "")
        if flat is None:
            continue
        if t.type == "fade_out" and t.end_frame == shot.start_frame - 1:
            run = _run_length(flat >= HOLD_FLAT_PCT)
            hold[:run] = True
        elif t.type == "fade_in" and t.start_frame == shot.end_frame + 1:
            run = _run_length((flat >= HOLD_FLAT_PCT)[::-1])
            hold[n - run :] = True
    return hold


def _run_length(flags: np.ndarray) -> int:
    """Length of the leading run of True in ``flags``."""
    off = np.flatnonzero(~flags)
    return int(off[0]) if off.size else int(flags.size)


class ExposureAnalyzer:
    """Per-frame mean luma, crushed/clipped share and contrast; per-shot means and flicker.

    Parameters
    ----------
    flicker_window_s : float
        Length (s, > 0) of the trend window: swings slower than ~1.3 / this many seconds are
        not flicker.
    """

    name = "exposure"

    def __init__(self, *, flicker_window_s: float = FLICKER_WINDOW_S) -> None:
        if not flicker_window_s > 0:
            raise ValueError(f"flicker_window_s must be > 0 seconds, got {flicker_window_s}")
        self.flicker_window_s = flicker_window_s
        self._geometry: AnalysisGeometry | None = None
        self._chunks: list[np.ndarray] = []
        self._pts_chunks: list[np.ndarray] = []
        self._time_base = Fraction(1, 1)
        self._table: np.ndarray | None = None

    def start(self, geometry: AnalysisGeometry) -> None:
        """Build the code -> statistic tables for the stream's luma range."""
        self._geometry = geometry
        self._chunks = []
        self._pts_chunks = []
        codes = np.arange(256, dtype=np.float64)
        norm = codes / 255.0 if geometry.full_range else np.clip((codes - 16.0) / 219.0, 0.0, 1.0)
        black = (norm <= BLACK_LEVEL).astype(np.float64)
        white = (norm >= WHITE_LEVEL).astype(np.float64)
        # Columns: value, value^2, is-black, is-white; one matrix product does all four.
        self._table = np.stack([norm, norm**2, black, white], axis=1)

    def process(self, batch: FrameBatch) -> None:
        """Histogram each frame of ``batch`` and reduce it to the four statistics."""
        if self._table is None:
            raise RuntimeError("ExposureAnalyzer.process called before start(geometry)")
        n = len(batch)
        if n == 0:
            return
        hist = np.empty((n, 256), dtype=np.float32)
        for i in range(n):  # one C call per frame; the pixels never touch Python
            hist[i] = cv2.calcHist([batch.luma[i]], [0], None, [256], [0, 256]).ravel()
        shares = hist.astype(np.float64) / float(batch.luma.shape[1] * batch.luma.shape[2])
        moments = shares @ self._table  # (N, 4)
        stats = np.empty((n, 4), dtype=np.float32)
        stats[:, 0] = moments[:, 0]
        stats[:, 1] = np.sqrt(np.maximum(moments[:, 1] - moments[:, 0] ** 2, 0.0))
        stats[:, 2] = moments[:, 2] * 100.0
        stats[:, 3] = moments[:, 3] * 100.0
        self._chunks.append(stats)
        self._pts_chunks.append(np.asarray(batch.pts, dtype=np.int64).copy())
        self._time_base = batch.time_base

    def finish(self) -> None:
        """Nothing to flush: statistics are final per frame."""
        self._collect()

    def frame_signals(self) -> dict[str, np.ndarray]:
        """``mean_luma`` (0-1), ``dark_pct``, ``bright_pct`` (0-100), ``contrast`` (0-0.5) per frame."""
        stats, _ = self._collect()
        return {
            "mean_luma": stats[:, 0].astype(np.float64),
            "contrast": stats[:, 1].astype(np.float64),
            "dark_pct": stats[:, 2].astype(np.float64),
            "bright_pct": stats[:, 3].astype(np.float64),
        }

    def shot_exposure(self, shot: Shot, *, transitions: Sequence[Transition] = ()) -> ExposureResult:
        """Aggregate the frames of ``shot``.

        The flat black (white) frames a fade through black (white) holds at the shot's edge
        (:func:`fade_hold`, from ``transitions``) are part of that transition: they count in the
        reported means but not in :attr:`ExposureResult.outside_holds`, so a verdict on those
        does not call a fade's black "underexposed".

        Raises
        ------
        ValueError
            ``shot`` lies outside the frames processed.
        """
        stats, pts = self._collect()
        check_shot(shot, len(stats), "ExposureAnalyzer")
        s = stats[shot.start_frame : shot.end_frame + 1].astype(np.float64)
        mean_luma, contrast, dark, bright = (float(v) for v in s.mean(axis=0)[[0, 1, 2, 3]])
        flicker = self._flicker(s[:, 0], pts[shot.start_frame : shot.end_frame + 1])
        kept = s[~fade_hold(shot, s[:, 2], s[:, 3], transitions)]
        outside_holds = None
        if kept.size:
            k_mean, _, k_dark, k_bright = (float(v) for v in kept.mean(axis=0))
            outside_holds = LumaLevels(mean_luma=k_mean, dark_pct=k_dark, bright_pct=k_bright)
        return ExposureResult(
            mean_luma=mean_luma,
            dark_pct=dark,
            bright_pct=bright,
            contrast=contrast,
            flicker=flicker,
            frames=shot.frame_count,
            outside_holds=outside_holds,
        )

    def _flicker(self, means: np.ndarray, pts: np.ndarray) -> float:
        if means.size < _MIN_FLICKER_FRAMES:
            return 0.0
        window = odd_window(self.flicker_window_s * fps_from_pts(pts, self._time_base))
        residual = means - savgol_lowpass(means, window=window, order=3)
        return math.sqrt(float(np.mean(residual**2)))

    def _collect(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self._chunks) != 1:
            stats = np.concatenate(self._chunks) if self._chunks else np.zeros((0, 4), np.float32)
            pts = np.concatenate(self._pts_chunks) if self._pts_chunks else np.zeros(0, np.int64)
            self._chunks, self._pts_chunks = [stats], [pts]
        return self._chunks[0], self._pts_chunks[0]
