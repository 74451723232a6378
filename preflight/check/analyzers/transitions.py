"""Shot-transition detection: hard cuts, dissolves, fades (via black or white) and wipes.

The detector works in two stages, like PySceneDetect's two-pass ``AdaptiveDetector`` [1]_:

1. **Streaming** (:meth:`TransitionDetector.process`): each analysis frame is reduced to two tiny
   thumbnails (64 and 32 px on the long side, area-averaged, so sensor noise and codec blocking
   vanish) and a few dozen floats of per-frame signals. Besides those signals only a ring of the
   last ``max(gradual_windows)`` 32 px thumbnails (~2 KB each) is kept, so memory is flat in
   clip length apart from the signals.
2. **Decision** (:meth:`TransitionDetector.finish`): cuts, fades, dissolves and wipes are
   decided on the per-frame signal series, so every test can look both ways in time.

Per-frame signals (luma normalised to 0-1, range-aware: limited-range code 16 -> 0, 235 -> 1):

``diff``
    Mean absolute difference of consecutive 64 px thumbnails (the classic pixel difference,
    PySceneDetect's ``delta_lum`` at a coarser scale).
``struct``
    Motion-compensated *structural* difference ``1 - max NCC`` of consecutive 32 px thumbnails
    over shifts of up to +-2 px (+-6% of the frame per frame: handheld shake, most pans). The
    normalised cross-correlation ignores gain and offset, so a flash, an exposure change or a
    fade hardly moves it, while a cut (two unrelated images) sends it to ~1. NaN when a
    thumbnail is flat (NCC undefined there).
``hist``
    Half the L1 distance of consecutive 32-bin luma histograms (0-1).
``hist`` is computed on the quarter-size frame.
``mean``, ``std``, ``detail``, ``dark``, ``bright``
    Mean and standard deviation of luma, RMS of the Laplacian of the half-size frame (fine
    detail; its energy dips in the middle of a dissolve, the variance "parabola" of Alattar
    [2]_), and the share of thumbnail pixels below 0.1 / above 0.9.
``blocks``
    Mean luma of a 4 x 3 grid of blocks (3 x 4 for portrait), a 12-value layout descriptor in
    the spirit of MPEG-7's colour layout. Mixing is linear in it, so the progress of a dissolve,
    a fade or a wipe through any window can be measured after the fact.
Window signals, for each length ``L`` in ``gradual_windows`` with frame ``i`` as the window's
end, on 32 px thumbnails ``a = T[i - L]``, ``m = T[i - L // 2]``, ``e = T[i]``:
    ``D`` = mean ``|e - a|``; ``R`` = mean ``|m - (a + e) / 2|`` / ``D``: a linear mix (a
    dissolve) leaves only in-shot motion (``R`` ~ 0-0.25), a cut, a wipe or a passing object
    inside the window gives ~0.5; a per-block fit ``m - a = alpha_b (e - a)`` gives the
    block-fit residual ``Rb``, how binary the ``alpha_b`` are (a wipe: each block is either
    still A or already B), the share of blocks that changed and of those already switched;
    ``C`` = ``1 - max NCC(a, e)`` (whether the ends are different images; computed only for
    windows that could be a dissolve or wipe); ``P`` = mean ``|m - (a + e) / 2|`` over the
    smaller of mean ``|m - a|`` and mean ``|m - e|``: a linear mix is predicted by the mean of
    its ends far better than by either end (``P`` ~ 0-0.3), a moving shot is not (computed
    only for windows that could be a dissolve). For lags ``k`` = 2-4 the 32 px thumbnails of
    frames ``i - k`` and ``i`` are compared too, to recognise the end of a flash.

Decisions:

* **Cut** at frame ``c`` (the first frame of the new shot) when ``diff`` *and* ``struct`` at ``c``
  exceed ``cut_ratio`` times their local level (the larger of the medians over ``window``
  frames on each side: fast motion on either side raises the bar), above absolute floors.
  Requiring both rejects flashes (``struct`` stays low) and objects sweeping past the lens
  (``diff`` rises over several frames, not in one). Two more ways in: a *jump cut* (one scene
  re-framed, or a time skip) changes structure less but stands out ``jump_cut_ratio`` times
  from both sides; a cut into or out of fast motion, where ``struct``'s level is high, is
  confirmed by a jump of the histogram distance. Next to a flat (black/white) frame NCC is
  undefined and ``diff`` with the histogram distance decide. No cut within one frame of the
  clip's ends (one side of the comparison missing); of two adjacent candidates the stronger.
* **Repeated frames** (24-30 fps material shown at 48-60 fps: 2:2, 3:2, irregular): a frame
  whose difference is coding noise, well below the changes around it, repeats the previous
  one. Local levels are medians over *distinct* frames only (a repeat's zero would make every
  change of the source a spike), and spans in frames (the return test below) stretch by the
  local number of frames per distinct frame.
* **Motion**: a cut is an isolated structural change; the fastest frame of a whip pan or of
  an object crossing the lens sits between frames that change too, as the motion speeds up
  and slows down. A candidate is dropped when the larger ``struct`` of the two distinct frames
  on each side is at least ``_MOTION_SHARE`` of its own, or half that when it is no peak or
  the two sides together reach 2.5 times that share; or, for a change below a hard cut's floor,
  when the three distinct frames on one side ramp up to it (a move speeding up, where a
  dropped source frame doubles one step); or when a neighbour changes more and the other side
  at least a tenth as much (the flank of a larger change).
* **Flash**: a candidate is dropped when two frames at most ``max_flash_frames + 1`` apart,
  one before it and one at or after it, look alike (the picture before the flash comes back:
  the flashlight test of Heng and Ngan [3]_), within a tolerance that grows with the shot's
  own motion; or when the picture from before it returns within ``return_span`` frames (an
  occluder passing the lens), comparing only frames away from any spike, within a tolerance
  bounded by the shot's own motion. In a converted clip the span follows the clip's cadence
  even inside a still shot (which shows none); beyond the local span only the same picture,
  after frames that kept changing (an object moves; a montage holds each shot), from the shot
  just before the candidate counts. Cuts between a black or white frame and a picture are
  exempt (a montage cut to black and back).
* **Fades**: runs of flat frames (at least 90% of the pixels within 0.1 of black or white,
  which a caption on black does not spoil) bound fades. The RMS distance of each frame to the
  flat level shrinks linearly during a fade-out (a gain ramp, Lienhart [4]_); a
  piecewise-linear ramp fitted to it gives the extent, a fade-in mirrors it. A flat run must be
  entered by a fade-out, a cut or the clip's start and left by a fade-in, a cut or the end.
* **Dissolves**: windows whose middle frame is the average of its ends (``R`` small: the
  linear mixing model of Alattar [2]_ and Lienhart [4]_) and predicted by that average far
  better than by either end (``P``: motion is not), whose ends are different images (``C``),
  with a fine-detail dip in the middle, no cut or flat frame inside and new content that stays
  (the accumulated change of twin comparison, Zhang et al. [5]_).
* **Wipes**: windows whose middle frame is, block by block, either the first or the last image
  (``Rb`` small, ``alpha_b`` binary, ``R`` ~ 0.5), in which every block changes and the new
  content stays.
* **Extent** of a dissolve or wipe: the progress of every frame is the projection of its block
  descriptor on the window's change direction; a ramp fitted by least squares over every
  (start, end) pair, jointly to that progress and to the luma std curve (a quadratic in the
  mixing weight: Alattar's "parabola", blind to motion), gives the first and last frame. The
  fit's R^2 enters the confidence.

Memory: the per-frame signals take ~260 bytes per frame (the window signals included); the
thumbnail ring is fixed. Cost: ~0.15 ms of CPU per 320 px analysis frame (see
``benchmarks/bench_cut_accuracy.py``).

References
----------
.. [1] B. Castellano, PySceneDetect, ``AdaptiveDetector`` (ratio of the content score to its
   rolling average), https://scenedetect.com.
.. [2] A. M. Alattar, "Detecting and compressing dissolve regions in video sequences with a DVI
   multimedia image compression algorithm", ISCAS 1993.
.. [3] W. J. Heng, K. N. Ngan, "Post shot boundary detection technique: flashlight scene
   determination", ISSPA 1999.
.. [4] R. Lienhart, "Comparison of automatic shot boundary detection algorithms", SPIE Storage
   and Retrieval for Image and Video Databases VII, 1999; R. Lienhart, "Reliable dissolve
   detection", SPIE Storage and Retrieval for Media Databases, 2001.
.. [5] H. J. Zhang, A. Kankanhalli, S. W. Smoliar, "Automatic partitioning of full-motion
   video", Multimedia Systems 1(1), 1993 (gradual transitions as accumulated change).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from fractions import Fraction

import cv2
import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch
from ..shots import Transition

# Thumbnail sizes (long side, px) and the NCC search margin (px at 32 px): +-2 px is +-6% of the
# frame per frame of motion.
_THUMB = 64
# Timestamps that set a clip's frame rate (TransitionParams.for_rate): fewer than the longest
# default window, so the windows added for a high rate have no value yet when they are added.
_RATE_FRAMES = 16
_SMALL = 32
_SMALL_MARGIN = 2
_HIST_BINS = 32
# Lags compared for the flash test: frame c - 1 against frame c + k - 1.
_BRIDGE_LAGS = (2, 3, 4)
# A thumbnail with luma std below this (0-1 units) is too flat for NCC.
_NCC_MIN_STD = 0.015
# A repeated frame (cadence conversion): mean absolute difference of the 64 px thumbnails up to
# this, coding noise (repeats measure < 0.0012 after H.264 at CRF 20; real motion > 0.003).
_DUP_DIFF = 0.003
# Runs of repeated frames in a row that make a cadence (see _Decider._distinct).
_CADENCE_RUNS = 4
# A candidate cut is motion when both distinct neighbours change at least this share of its
# structural change (see _Decider._in_motion).
_MOTION_SHARE = 0.3
# Smallest tolerance of the return test (mean absolute difference, 0-1) whatever the motion.
_RETURN_MIN_TOL = 0.08
# The same picture again after an occluder (mean absolute difference, 0-1; coding noise and a
# still shot's drift stay below it).
_SAME_PICTURE = 0.02
# A flat frame: this share of its pixels within 0.1 of black (or white).
_FLAT_SHARE = 0.9
# Window signals, in this order along the last axis of the stored array.
_LIN_FIELDS = ("D", "R", "Rb", "bin", "C", "changed", "switched", "P")
_D, _R, _RB, _BIN, _C, _CHANGED, _SWITCHED, _P = range(len(_LIN_FIELDS))
# Largest error of the ends' mean as a predictor of a dissolve window's middle frame, relative
# to the nearer end's (field ``P``): a linear mix is predicted by the mean far better than by
# either end; motion is not.
_DISSOLVE_MAX_PRED = 0.6
# Wipe thresholds (see the module docstring): mid frame not a mix but blockwise A or B.
_WIPE_MIN_R = 0.4
_WIPE_MAX_RB = 0.16
_WIPE_MAX_BIN = 0.08
# Weight of the std (variance-curve) residual against the progress residual in _fit_mix,
# chosen on generated edits (fixtures.transitions.montage seeds 0-39): the std curve also
# moves with in-shot content.
_STD_WEIGHT = 0.5


@dataclass(frozen=True, kw_only=True)
class TransitionParams:
    """Tunables of :class:`TransitionDetector`: the one place they are declared.

    Build with keywords, e.g. ``TransitionParams(cut_ratio=2.5)``; invalid values raise
    ``ValueError`` on construction. All thresholds are in range-normalised luma units (0-1) or
    frames.

    Parameters
    ----------
    cut_ratio : float, default 2.0
        A cut's ``diff`` and ``struct`` must both exceed this multiple of their local level.
    cut_min_diff : float, default 0.025
        Absolute floor of ``diff`` (mean absolute luma difference) at a cut.
    cut_min_struct : float, default 0.3
        Absolute floor of ``struct`` (1 - NCC) at a cut: the two frames are unrelated images
        (frames of one shot, even in fast motion, stay below ~0.25 after the motion search).
    jump_cut_ratio : float, default 5.0
        A smaller structural change (a jump cut: the same scene re-framed, or a time skip inside
        one shot) is a cut when ``diff`` and ``struct`` exceed this multiple of their local
        level...
    jump_cut_min_struct : float, default 0.15
        ...and ``struct`` is at least this. This floor also applies to the histogram-confirmed
        cut below.
    hist_cut_min : float, default 0.3
        A cut into or out of fast motion (where ``struct``'s local level is high and its ratio
        weak) counts when ``diff`` exceeds ``cut_ratio`` times its level and the histogram
        distance is at least this and 1.5 ``cut_ratio`` times its own level (``struct`` must
        still exceed 0.75 ``cut_ratio`` times its level: a flash in a moving shot leaves the
        structure alone and only moves luminance and histogram).
    flat_cut_min_diff : float, default 0.06
        ``diff`` floor of a cut to or from a flat (black/white) frame, where NCC is undefined.
    window : int, default 6
        Frames on each side of a candidate whose median is its local level.
    max_flash_frames : int, default 3
        Longest flash recognised by the picture before it coming back after it.
    return_span : int, default 12
        Drop a cut candidate whose previous picture returns within this many frames (an object
        sweeping past the lens); 0 disables. Must not exceed the shortest real shot you expect.
    flat_max_std : float, default 0.08
        Largest luma std of a flat (black/white) frame; besides, 90% of its pixels must be
        within 0.1 of black or white (a caption on black stays flat).
    min_fade_frames : int, default 3
        Shorter ramps to or from black/white are left to the cut test.
    max_fade_frames : int, default 90
        Longest fade searched for, in frames at ``reference_fps`` (stretched at higher rates).
    gradual_windows : tuple of int, default (8, 12, 18, 26, 36)
        Window lengths (frames at ``reference_fps``) over which dissolves and wipes are
        modelled; the longest is the number of 32 px thumbnails kept in memory. At a higher
        frame rate the windows scaled by ``fps / reference_fps`` that are longer than these
        are appended, so the longest window spans the same time (60 fps: ... 36, 52, 72).
    reference_fps : float, default 30.0
        Frame rate at which the frame counts above apply (the rate of a clip is taken from the
        timestamps of its first batch); 0 disables the stretching.
    dissolve_max_resid : float, default 0.3
        Largest ``R`` (linear-mix residual over end-to-end difference) of a dissolve.
    dissolve_min_struct : float, default 0.35
        Smallest ``C`` (1 - NCC of the window's ends) of a dissolve: the ends are different shots.
    dissolve_min_diff : float, default 0.04
        Smallest end-to-end mean absolute difference of a dissolve.
    dissolve_max_dip : float, default 0.9
        Largest ratio of the middle frame's detail energy to the mean of the ends'.
    detect_wipes : bool, default True
        Also look for wipes.
    """

    cut_ratio: float = 2.0
    cut_min_diff: float = 0.025
    cut_min_struct: float = 0.3
    jump_cut_ratio: float = 5.0
    jump_cut_min_struct: float = 0.15
    hist_cut_min: float = 0.3
    flat_cut_min_diff: float = 0.06
    window: int = 6
    max_flash_frames: int = 3
    return_span: int = 12
    flat_max_std: float = 0.08
    min_fade_frames: int = 3
    max_fade_frames: int = 90
    gradual_windows: tuple[int, ...] = (8, 12, 18, 26, 36)
    reference_fps: float = 30.0
    dissolve_max_resid: float = 0.3
    dissolve_min_struct: float = 0.35
    dissolve_min_diff: float = 0.04
    dissolve_max_dip: float = 0.9
    detect_wipes: bool = True

    def __post_init__(self) -> None:
        if not self.jump_cut_ratio >= self.cut_ratio:
            raise ValueError(
                f"jump_cut_ratio ({self.jump_cut_ratio}) must be >= cut_ratio ({self.cut_ratio})"
            )
        if not self.cut_ratio > 1.0:
            raise ValueError(
                f"cut_ratio must be > 1 (a cut stands out from its neighbours), got {self.cut_ratio}"
            )
        for name in ("cut_min_diff", "cut_min_struct", "jump_cut_min_struct", "hist_cut_min",
                     "flat_cut_min_diff", "flat_max_std",
                     "dissolve_min_diff", "dissolve_min_struct"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is in 0-1 luma units, got {value}")
        if self.window < 2:
            raise ValueError(f"window must be >= 2 frames, got {self.window}")
        if not 0 <= self.max_flash_frames <= 3:
            raise ValueError(
                f"max_flash_frames must be 0-3 (frames compared across a flash), got {self.max_flash_frames}"
            )
        if self.return_span < 0:
            raise ValueError(f"return_span must be >= 0 frames (0 disables), got {self.return_span}")
        if not 2 <= self.min_fade_frames <= self.max_fade_frames:
            raise ValueError("need 2 <= min_fade_frames <= max_fade_frames")
        wins = self.gradual_windows
        if not wins or any(int(w) != w or w < 4 for w in wins) or list(wins) != sorted(set(wins)):
            raise ValueError(f"gradual_windows must be increasing distinct integers >= 4, got {wins}")
        object.__setattr__(self, "gradual_windows", tuple(int(w) for w in wins))
        if not self.reference_fps >= 0.0:
            raise ValueError(f"reference_fps must be >= 0 (0 disables), got {self.reference_fps}")
        if not 0.0 < self.dissolve_max_resid < 0.5:
            raise ValueError(f"dissolve_max_resid must be in (0, 0.5), got {self.dissolve_max_resid}")
        if not 0.0 < self.dissolve_max_dip <= 1.5:
            raise ValueError(f"dissolve_max_dip must be in (0, 1.5], got {self.dissolve_max_dip}")

    def for_rate(self, fps: float) -> TransitionParams:
        """These parameters with the frame spans stretched to a clip at ``fps`` (see
        ``gradual_windows``); unchanged at or below ``reference_fps``."""
        factor = fps / self.reference_fps if self.reference_fps > 0 and fps > 0 else 1.0
        if factor <= 1.05:
            return self
        longest = max(self.gradual_windows)
        longer = sorted({round(w * factor) for w in self.gradual_windows} - set(range(longest + 1)))
        return replace(
            self,
            gradual_windows=(*self.gradual_windows, *longer),
            max_fade_frames=round(self.max_fade_frames * factor),
        )


class _Series:
    """Append-only per-frame columns, one chunk per batch, concatenated on demand."""

    def __init__(self) -> None:
        self._chunks: dict[str, list[np.ndarray]] = {}

    def append(self, name: str, values: np.ndarray) -> None:
        self._chunks.setdefault(name, []).append(values)

    def pad(self, name: str, extra: int) -> None:
        """Add ``extra`` NaN columns on axis 1 of every chunk of ``name``."""
        self._chunks[name] = [
            np.concatenate([c, np.full((c.shape[0], extra, *c.shape[2:]), np.nan, c.dtype)], axis=1)
            for c in self._chunks.get(name, [])
        ]

    def get(self, name: str, empty_shape: tuple[int, ...] = (0,)) -> np.ndarray:
        chunks = self._chunks.get(name, [])
        return np.concatenate(chunks) if chunks else np.zeros(empty_shape, np.float32)


class TransitionDetector:
    """Finds hard cuts and gradual transitions in a stream of analysis-size luma batches.

    Implements the :class:`~preflight.analyzers.base.Analyzer` protocol; after ``finish()``,
    :meth:`transitions` lists the transitions in frame order. Method and references: module
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
        self._geometry: AnalysisGeometry | None = None
        self._finished = False
        self._transitions: list[Transition] = []
        self._signals: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ streaming
    def start(self, geometry: AnalysisGeometry) -> None:
        """Reset state for a new clip analysed at ``geometry``."""
        self._geometry = geometry
        self._p = self.params  # stretched to the clip's frame rate once _RATE_FRAMES are seen
        self._rate_pts: np.ndarray | None = np.zeros(0, np.int64)  # None once the rate is set
        w, h = geometry.width, geometry.height
        self._half = (max(2, w // 2), max(2, h // 2))
        self._quarter = (max(2, self._half[0] // 2), max(2, self._half[1] // 2))
        self._thumb = _fit_long_side(w, h, _THUMB)
        self._small = _fit_long_side(self._thumb[0], self._thumb[1], _SMALL)
        # Range normalisation of coded luma to 0-1 (limited range: 16 -> 0, 235 -> 1).
        self._black, self._scale = (0.0, 255.0) if geometry.full_range else (16.0, 219.0)
        sw, sh = self._small
        self._grid = (4, 3) if sw >= sh else (3, 4)
        self._series = _Series()
        self._count = 0
        self._time_base: Fraction | None = None
        self._prev_thumb: np.ndarray | None = None
        self._prev_small: np.ndarray | None = None
        self._prev_std = 0.0
        self._prev_hist: np.ndarray | None = None
        self._ring = np.zeros((0, sh * sw), np.float32)
        self._ring_std = np.zeros(0, np.float32)
        self._ring_energy = np.zeros(0, np.float32)
        self._diff_tail = np.zeros(0, np.float32)
        self._finished = False
        self._transitions = []
        self._signals = {}

    def process(self, batch: FrameBatch) -> None:
        """Reduce one batch to per-frame signals."""
        if self._geometry is None:
            raise RuntimeError("call start(geometry) before process()")
        n = len(batch)
        if n == 0:
            return
        if batch.start != self._count:
            raise ValueError(f"batches must be consecutive: expected start {self._count}, got {batch.start}")
        if self._time_base is None:
            self._time_base = Fraction(batch.time_base)
        if self._rate_pts is not None:
            self._rate_pts = np.concatenate([self._rate_pts, np.asarray(batch.pts, np.int64)])[:_RATE_FRAMES]
            if self._rate_pts.size == _RATE_FRAMES:
                self._set_rate(_pts_fps(self._rate_pts, self._time_base))
        thumbs, small, hists, detail = self._reduce(batch.luma)
        means = thumbs.mean(axis=(1, 2))
        stds = thumbs.std(axis=(1, 2))
        dark = (thumbs < 0.1).mean(axis=(1, 2))
        bright = (thumbs > 0.9).mean(axis=(1, 2))

        first = self._prev_thumb is None
        prev = thumbs[0] if first else self._prev_thumb
        seq = np.concatenate([prev[None], thumbs])
        diff = np.abs(seq[1:] - seq[:-1]).mean(axis=(1, 2))
        seq_std = np.concatenate([[stds[0] if first else self._prev_std], stds])
        # NCC on the 32 px thumbnails: as discriminating as 64 px on every test clip (same
        # decisions on 260 generated edits) at 1/8 of the cost.
        struct = np.full(n, np.nan, np.float32)
        sseq = np.concatenate([(small[0] if first else self._prev_small)[None], small])
        for j in range(n):
            if seq_std[j] >= _NCC_MIN_STD and seq_std[j + 1] >= _NCC_MIN_STD:
                struct[j] = _ncc_distance(sseq[j], sseq[j + 1], _SMALL_MARGIN)
        if first:
            struct[0] = 0.0
        prev_hist = hists[0] if self._prev_hist is None else self._prev_hist
        hseq = np.concatenate([prev_hist[None], hists])
        hist = 0.5 * np.abs(hseq[1:] - hseq[:-1]).sum(axis=1)

        self._long_range(small, stds.astype(np.float32), diff.astype(np.float32), detail)

        gx, gy = self._grid
        sh, sw = small.shape[1:]
        bh, bw = sh // gy, sw // gx
        blocks = small[:, : gy * bh, : gx * bw].reshape(n, gy, bh, gx, bw).mean(axis=(2, 4))

        s = self._series
        s.append("pts", np.asarray(batch.pts, np.int64).copy())
        s.append("mean", means.astype(np.float32))
        s.append("std", stds.astype(np.float32))
        s.append("dark", dark.astype(np.float32))
        s.append("bright", bright.astype(np.float32))
        s.append("detail", detail)
        s.append("diff", diff.astype(np.float32))
        s.append("struct", struct)
        s.append("hist", hist.astype(np.float32))
        s.append("blocks", blocks.reshape(n, gx * gy).astype(np.float32))
        self._prev_thumb = thumbs[-1].copy()
        self._prev_small = small[-1].copy()
        self._prev_std = float(stds[-1])
        self._prev_hist = hists[-1].copy()
        self._count += n

    def _set_rate(self, fps: float) -> None:
        """Stretch the frame spans to ``fps``. Called before frame ``_RATE_FRAMES`` is
        processed, so the windows appended (all longer than that) hold no value yet: the window
        signals computed so far get NaN columns for them."""
        self._rate_pts = None
        p = self.params.for_rate(fps)
        extra = len(p.gradual_windows) - len(self._p.gradual_windows)
        self._p = p
        self._series.pad("lin", extra)

    def _reduce(self, luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per frame: 64 px and 32 px thumbnails (0-1 float32), histogram, detail (RMS Laplacian).

        The pyramid halves twice with ``INTER_AREA`` (OpenCV's fast 2x path, ~3 us) and reaches
        the 64 px thumbnail with a bilinear step of less than 2x (a non-integer area resize
        costs 3x more for no visible difference at this size).
        """
        n = luma.shape[0]
        tw, th = self._thumb
        sw, sh = self._small
        thumbs = np.empty((n, th, tw), np.float32)
        small = np.empty((n, sh, sw), np.float32)
        hists = np.empty((n, _HIST_BINS), np.float32)
        detail = np.empty(n, np.float32)
        use_quarter = max(self._quarter) >= max(self._thumb)
        qw, qh = self._quarter
        for j in range(n):
            half = cv2.resize(luma[j], self._half, interpolation=cv2.INTER_AREA)
            # Crop an odd row/column so the second halving is an exact 2x as well.
            src = half
            if use_quarter:
                src = cv2.resize(half[: 2 * qh, : 2 * qw], (qw, qh), interpolation=cv2.INTER_AREA)
            t = cv2.resize(src, (tw, th), interpolation=cv2.INTER_LINEAR)
            thumbs[j] = t
            small[j] = cv2.resize(t, (sw, sh), interpolation=cv2.INTER_AREA)
            # Histogram on the quarter frame: same decisions as on the half frame, half the cost.
            hists[j] = cv2.calcHist([src], [0], None, [_HIST_BINS], [0, 256]).ravel()
            lap = cv2.Laplacian(half, cv2.CV_16S, ksize=1)
            detail[j] = cv2.norm(lap, cv2.NORM_L2) / np.sqrt(lap.size)
        inv = np.float32(1.0 / self._scale)
        thumbs -= np.float32(self._black)
        thumbs *= inv
        small -= np.float32(self._black)
        small *= inv
        hists /= np.maximum(hists.sum(axis=1, keepdims=True), 1.0)
        detail *= inv
        return thumbs, small, hists, detail

    def _long_range(self, small: np.ndarray, stds: np.ndarray, diff: np.ndarray, detail: np.ndarray) -> None:
        """Window (dissolve/wipe) and lag (flash) signals against the ring of past thumbnails.

        Thumbnails are flattened to (frames, pixels) rows so every statistic is one contiguous
        reduction; the per-block fit and the NCC of the ends, the costly parts, run only on
        the windows whose cheap statistics leave them a chance.
        """
        p = self._p
        n = small.shape[0]
        sh, sw = small.shape[1:]
        keep = max(max(p.gradual_windows), max(_BRIDGE_LAGS))
        x = np.concatenate([self._ring, small.reshape(n, sh * sw)])
        xs = np.concatenate([self._ring_std, stds])
        xe = np.concatenate([self._ring_energy, detail.astype(np.float32) ** 2])
        dx = np.concatenate([self._diff_tail, diff])
        base = self._ring.shape[0]  # x[base + j] is batch frame j
        dbase = self._diff_tail.shape[0]
        gidx = self._count + np.arange(n)
        gx, gy = self._grid
        bh, bw = sh // gy, sw // gx
        inv_px = np.float32(1.0 / (sh * sw))

        def blocks(rows: np.ndarray) -> np.ndarray:
            img = rows.reshape(rows.shape[0], sh, sw)
            return img[:, : gy * bh, : gx * bw].reshape(rows.shape[0], gy, bh, gx, bw)

        lin = np.full((n, len(p.gradual_windows), len(_LIN_FIELDS)), np.nan, np.float32)
        for li, win in enumerate(p.gradual_windows):
            js = np.nonzero(gidx >= win)[0]
            if js.size == 0:
                continue
            ie, ia, im = base + js, base + js - win, base + js - win // 2
            a, e, m = _rows(x, ia), _rows(x, ie), _rows(x, im)
            ea = e - a
            ma = m - a
            d = np.abs(ea).sum(axis=1) * inv_px
            dd = np.maximum(d, 1e-3)
            # |m - (a + e) / 2| = |ma - ea / 2|, without a temporary.
            ma -= 0.5 * ea
            r = np.abs(ma).sum(axis=1) * inv_px / dd
            ma += 0.5 * ea
            out = lin[js, li]
            out[:, _D], out[:, _R] = d, r
            big = d >= p.dissolve_min_diff
            ends = 0.5 * (xe[ia] + xe[ie])
            dip = np.where(ends > 0, xe[im] / np.maximum(ends, 1e-12), 1.0)
            maybe = big & _mix_like(r, dip, p)
            # How much better the mean of the ends predicts the middle frame than the nearer end
            # does: a linear mix (a dissolve) leaves ~0 of the nearer end's error, motion ~1.
            q = np.nonzero(maybe)[0]
            if q.size:
                near = np.minimum(np.abs(ma[q]).sum(axis=1), np.abs(ma[q] - ea[q]).sum(axis=1)) * inv_px
                out[q, _P] = r[q] * dd[q] / np.maximum(near, 1e-4)
            wipe_rows = np.nonzero(big & (r >= _WIPE_MIN_R))[0] if p.detect_wipes else np.zeros(0, np.int64)
            if wipe_rows.size:
                bea, bma = blocks(ea[wipe_rows]), blocks(ma[wipe_rows])
                num = (bma * bea).sum(axis=(2, 4))
                den = (bea * bea).sum(axis=(2, 4)) + 1e-6
                alpha = np.clip(num / den, 0.0, 1.0)
                rb = np.abs(bma - alpha[:, :, None, :, None] * bea).mean(axis=(1, 2, 3, 4)) / dd[wipe_rows]
                wsum = den.sum(axis=(1, 2))
                out[wipe_rows, _RB] = rb
                out[wipe_rows, _BIN] = (np.minimum(alpha, 1.0 - alpha) * den).sum(axis=(1, 2)) / wsum
                block_d = np.abs(bea).mean(axis=(2, 4))
                out[wipe_rows, _CHANGED] = (block_d >= 0.5 * d[wipe_rows, None, None]).mean(axis=(1, 2))
                out[wipe_rows, _SWITCHED] = ((alpha > 0.5) * den).sum(axis=(1, 2)) / wsum
                maybe[wipe_rows[_wipe_like(out[wipe_rows])]] = True
            # NCC of the ends (the costliest signal) only where the window could be a dissolve
            # or a wipe.
            for q in np.nonzero(maybe)[0]:
                if xs[ie[q]] >= _NCC_MIN_STD and xs[ia[q]] >= _NCC_MIN_STD:
                    out[q, _C] = _ncc_distance(
                        x[ia[q]].reshape(sh, sw), x[ie[q]].reshape(sh, sw), _SMALL_MARGIN
                    )
            lin[js, li] = out
        self._series.append("lin", lin)

        # Flash test pairs: frame c - 1 against c + k - 1 (lag k), NCC only where the candidate
        # frame c is a luminance spike and the pair looks alike.
        bridge = np.full((n, len(_BRIDGE_LAGS), 2), np.nan, np.float32)
        for ki, lag in enumerate(_BRIDGE_LAGS):
            js = np.nonzero(gidx >= lag)[0]
            if js.size == 0:
                continue
            ie, ia = base + js, base + js - lag
            mae = np.abs(_rows(x, ie) - _rows(x, ia)).sum(axis=1) * inv_px
            bridge[js, ki, 0] = mae
            spike = dx[dbase + js - lag + 1]  # diff at the candidate frame c = j - lag + 1
            for q in np.nonzero((spike >= p.cut_min_diff) & (mae <= 0.75 * spike))[0]:
                if xs[ie[q]] >= _NCC_MIN_STD and xs[ia[q]] >= _NCC_MIN_STD:
                    bridge[js[q], ki, 1] = _ncc_distance(
                        x[ia[q]].reshape(sh, sw), x[ie[q]].reshape(sh, sw), _SMALL_MARGIN
                    )
                elif mae[q] < 0.02:
                    bridge[js[q], ki, 1] = 0.0  # two flat frames of one level are alike
        self._series.append("bridge", bridge)
        self._ring = x[-keep:].copy()
        self._ring_std = xs[-keep:].copy()
        self._ring_energy = xe[-keep:].copy()
        self._diff_tail = dx[-max(_BRIDGE_LAGS) :].copy()

    # ------------------------------------------------------------------ decision
    def finish(self) -> None:
        """Decide the transitions from the per-frame signals."""
        if self._geometry is None:
            raise RuntimeError("call start(geometry) before finish()")
        s = self._series
        names = ("pts", "mean", "std", "dark", "bright", "detail", "diff", "struct", "hist")
        sig = {k: s.get(k) for k in names}
        gx, gy = self._grid
        sig["blocks"] = s.get("blocks", (0, gx * gy))
        lin = s.get("lin", (0, len(self._p.gradual_windows), len(_LIN_FIELDS)))
        bridge = s.get("bridge", (0, len(_BRIDGE_LAGS), 2))
        self._ring = self._ring[:0]
        decider = _Decider(self._p, sig, lin, bridge)
        found = decider.run()
        tb = self._time_base or Fraction(1, 1)
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


# ---------------------------------------------------------------------- helpers


def _rows(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x[idx]`` as a view when ``idx`` is a run of consecutive rows (the steady state of the
    streaming ring), a gathered copy otherwise."""
    if idx.size and idx[-1] - idx[0] == idx.size - 1:
        return x[idx[0] : idx[-1] + 1]
    return x[idx]


def _pts_fps(pts: np.ndarray, time_base: Fraction) -> float:
    """Frame rate from the median step of ``pts`` (0 when it cannot tell)."""
    steps = np.diff(pts)
    steps = steps[steps > 0]
    if steps.size == 0 or not time_base:
        return 0.0
    return float(1 / (float(np.median(steps)) * time_base))


def _fit_long_side(w: int, h: int, long_side: int) -> tuple[int, int]:
    """(width, height) with the long side ``long_side`` (never upscaled), at least 12 px each
    so the NCC template (size - 2 x margin) keeps a few pixels."""
    scale = min(1.0, long_side / max(w, h))
    return max(12, round(w * scale)), max(12, round(h * scale))


def _ncc_distance(a: np.ndarray, b: np.ndarray, margin: int) -> float:
    """``1 - max NCC`` of the centre of ``b`` slid over ``a`` by up to +-``margin`` px (0-2)."""
    score = cv2.matchTemplate(a, b[margin:-margin, margin:-margin], cv2.TM_CCOEFF_NORMED)
    best = float(score.max())
    return 1.0 - best if np.isfinite(best) else float("nan")


def _side_medians(
    x: np.ndarray, w: int, distinct: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """NaN-aware medians of ``x`` over the ``w`` frames before and the ``w`` after each frame.

    Frame 0's value (no predecessor) never enters a median. With a boolean ``distinct`` mask,
    only distinct frames count and the windows hold ``w`` of them (the series is compressed to
    the distinct frames, and each frame takes the medians of its place there): repeated frames
    neither enter the medians nor shorten the span they cover.
    """
    if distinct is not None and not distinct.all():
        keep = distinct.copy()
        if keep.size:
            keep[0] = True
        idx = np.nonzero(keep)[0]
        cb, ca = _side_medians(x[idx], w)
        # A repeated frame (never a cut: it changes nothing) takes the levels of the next
        # distinct frame.
        at = np.clip(np.searchsorted(idx, np.arange(x.size), side="left"), 0, idx.size - 1)
        before, after = cb[at], ca[at]
        return before, after
    n = x.size
    y = x.astype(np.float64)
    if n:
        y[0] = np.nan
    pad = np.full(w, np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, y, pad]), w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows -> NaN, on purpose
        before = np.nanmedian(windows[0:n], axis=1)  # y[i - w : i]
        after = np.nanmedian(windows[w + 1 : w + 1 + n], axis=1)  # y[i + 1 : i + 1 + w]
    return before, after


def _frames_per_distinct(
    distinct: np.ndarray, quiet: np.ndarray, reach: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Frames per distinct frame around each frame (1 at the native rate, 2-2.5 for 24-30 fps
    material shown at 50-60 fps): counted within ``reach`` frames of each frame, and that
    raised to the clip's own ratio (at most 2.5) in a converted clip.

    The clip's ratio leaves out quiet frames that are no repeat of a cadence (a still shot,
    where a repeat cannot be told from the source holding still); a clip is converted when it
    is 1.5 or more. Inside a still shot of a converted clip the local ratio is too low and
    every span measured in frames too short (an occluder crossing a still shot of a 24 -> 60
    fps clip).
    """
    n = distinct.size
    cum = np.concatenate([[0], np.cumsum(distinct)])
    lo = np.clip(np.arange(n) - reach, 0, n)
    hi = np.clip(np.arange(n) + reach + 1, 0, n)
    local = (hi - lo) / np.maximum(cum[hi] - cum[lo], 1)
    known = ~(distinct & quiet)
    new = int((distinct & known).sum())
    clip = float(known.sum()) / new if new else 1.0
    if clip < 1.5:
        return local, local
    return local, np.maximum(local, min(clip, 2.5))


def _ramps(
    w: int, *, s_max: int | None = None, t_min: int = 0, max_len: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate transitions ``s <= t`` inside ``w`` frames and their mixing-weight ramps.

    ``ramp[q, j]`` is 0 before ``s``, ``(j - s + 1) / (t - s + 2)`` from ``s`` to ``t`` and 1
    after: a transition of ``t - s + 1`` frames whose weight steps evenly. ``s <= s_max``,
    ``t >= t_min`` and ``t - s + 1 <= max_len`` prune candidates that cannot be the answer
    (the cost of the fit is candidates x frames).
    """
    s_idx, t_idx = np.triu_indices(w)
    keep = t_idx >= t_min
    if s_max is not None:
        keep &= s_idx <= s_max
    if max_len is not None:
        keep &= t_idx - s_idx + 1 <= max_len
    if keep.any():
        s_idx, t_idx = s_idx[keep], t_idx[keep]
    j = np.arange(w)[None, :]
    ramp = np.clip((j - s_idx[:, None] + 1) / (t_idx[:, None] - s_idx[:, None] + 2.0), 0.0, 1.0)
    return s_idx, t_idx, ramp


def _linear_fit_sse(y: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit of ``y`` (W,) on ``basis`` (P, K, W) for each of the P candidates.

    Returns the residual sum of squares (P,) and the coefficients (P, K); K is tiny (2-3), so
    the normal equations are solved in closed form, batched.
    """
    gram = np.einsum("pkw,plw->pkl", basis, basis)
    rhs = np.einsum("pkw,w->pk", basis, y)
    gram += np.eye(basis.shape[1])[None] * 1e-9
    coef = np.linalg.solve(gram, rhs[..., None])[..., 0]
    resid = y[None, :] - np.einsum("pk,pkw->pw", coef, basis)
    return (resid * resid).sum(axis=1), coef


def _fit_ramp(y: np.ndarray) -> tuple[int, int, float, float]:
    """Least-squares fit of ``y[j] ~ lo + k * ramp(j; s, t)`` over every ``s <= t`` (see
    :func:`_ramps`); ``lo`` and ``k`` in closed form for each candidate.

    Returns
    -------
    s, t : int
        First and last transition frame (indices into ``y``).
    r2 : float
        Coefficient of determination of the best fit (0-1).
    k : float
        Fitted step height (signed).
    """
    w = y.size
    if w < 3:
        return 0, max(w - 1, 0), 0.0, 0.0
    y = y.astype(np.float64)
    s_idx, t_idx, ramp = _ramps(w)
    basis = np.stack([np.ones_like(ramp), ramp], axis=1)
    sse, coef = _linear_fit_sse(y, basis)
    best = int(np.argmin(sse))
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(sse[best]) / total if total > 0 else 0.0
    return int(s_idx[best]), int(t_idx[best]), max(0.0, r2), float(coef[best, 1])


def _fit_mix(
    progress: np.ndarray, std: np.ndarray, *, s_max: int | None = None, t_min: int = 0,
    max_len: int | None = None,
) -> tuple[int, int, float, float]:
    """Extent of a mix (dissolve, wipe) from two views of its weight ``alpha(j)``:

    * the progress (block-descriptor projection): ``lo + k * alpha``, precise when the shots
      hold still, disturbed by their motion;
    * the luma standard deviation, a quadratic in ``alpha`` for any mix of two images
      (``(1-a)^2 s_A^2 + a^2 s_B^2 + 2 a (1-a) rho s_A s_B`` for the variance; Alattar's
      "parabola"), blind to motion.

    Each residual is normalised by its series' own spread (floored at codec noise) and the
    candidate ``(s, t)`` with the smallest sum wins. Returns ``(s, t, r2, k)`` with the progress
    fit's R^2 and step ``k``; ``s_max``, ``t_min``, ``max_len`` bound the candidates (see
    :func:`_ramps`).
    """
    w = progress.size
    if w < 4:
        s, t, r2, k = _fit_ramp(progress)
        return s, t, r2, k
    y = progress.astype(np.float64)
    v = std.astype(np.float64)
    s_idx, t_idx, ramp = _ramps(w, s_max=s_max, t_min=t_min, max_len=max_len)
    ones = np.ones_like(ramp)
    sse_p, coef = _linear_fit_sse(y, np.stack([ones, ramp], axis=1))
    sse_v, _ = _linear_fit_sse(v, np.stack([ones, ramp, ramp * ramp], axis=1))
    tot_p = max(float(((y - y.mean()) ** 2).sum()), 1e-9)
    # 0.003 (0-1 luma units) is the frame-to-frame jitter of a still shot's std after coding.
    tot_v = max(float(((v - v.mean()) ** 2).sum()), w * 0.003**2 * 4)
    cost = sse_p / tot_p + _STD_WEIGHT * sse_v / tot_v
    best = int(np.argmin(cost))
    r2 = max(0.0, 1.0 - float(sse_p[best]) / tot_p)
    return int(s_idx[best]), int(t_idx[best]), r2, float(coef[best, 1])


Found = tuple[str, int, int, float, "str | None"]


class _Decider:
    """The decision stage: per-frame signals in, ``(type, start, end, confidence, via)`` out."""

    def __init__(self, p: TransitionParams, sig: dict[str, np.ndarray], lin: np.ndarray,
                 bridge: np.ndarray) -> None:
        self.p = p
        self.sig = sig
        self.lin = lin
        self.bridge = bridge
        self.n = int(sig["pts"].size)
        self.cut_score = np.zeros(self.n)
        self.dissolve_resid = np.full(self.n, np.nan)

    def run(self) -> list[Found]:
        if self.n < 2:
            return []
        flat, via = self._flat_frames()
        cuts = self._cuts(flat)
        fades = self._fades(flat, via, cuts)
        busy = flat.copy()  # frames owned by a fade or a flat run
        for _kind, a, b, _c, _v in fades:
            busy[a : b + 1] = True
        # A cut strictly inside a fade is the fade's own steepest step, not a shot change.
        cuts = [(c, conf) for c, conf in cuts if not any(a < c <= b for _k, a, b, _c, _v in fades)]
        gradual = self._gradual(busy, cuts)
        out: list[Found] = fades + gradual + [("cut", c, c, conf, None) for c, conf in cuts]
        out.sort(key=lambda t: (t[1], t[2]))
        return out

    # -- flat frames and fades ------------------------------------------------
    def _flat_frames(self) -> tuple[np.ndarray, np.ndarray]:
        std, dark, bright = self.sig["std"], self.sig["dark"], self.sig["bright"]
        quiet = std <= self.p.flat_max_std
        black = quiet & (dark >= _FLAT_SHARE)
        white = quiet & (bright >= _FLAT_SHARE)
        via = np.where(black, "black", np.where(white, "white", ""))
        return black | white, via

    def _fades(self, flat: np.ndarray, via: np.ndarray, cuts: list[tuple[int, float]]) -> list[Found]:
        p, n = self.p, self.n
        mean, std = self.sig["mean"].astype(np.float64), self.sig["std"].astype(np.float64)
        is_cut = np.zeros(n + 1, bool)
        for c, _ in cuts:
            is_cut[c] = True
        out: list[Found] = []
        runs = sorted(_runs(flat & (via == "black")) + _runs(flat & (via == "white")))
        for a, b in runs:
            kind_via = str(via[a])
            level = float(np.median(mean[a : b + 1]))
            # RMS distance of each frame from the flat level: a gain ramp makes it linear in time.
            amp = np.sqrt(std**2 + (mean - level) ** 2)
            # fade-out: frames before a; fade-in: frames after b. Never across a cut or flat run.
            lo = a - 1
            while lo > 0 and a - lo < p.max_fade_frames and not flat[lo - 1] and not is_cut[lo]:
                lo -= 1
            hi = b + 1
            while hi < n - 1 and hi - b < p.max_fade_frames and not flat[hi + 1] and not is_cut[hi + 1]:
                hi += 1
            fade_out = fade_in = None
            if a - 1 >= 0 and not flat[a - 1] and not is_cut[a]:
                fade_out = self._fade_side(amp, lo, a - 1, (a, b), outward=-1)
            if b + 1 < n and not flat[b + 1] and not is_cut[b + 1]:
                fade_in = self._fade_side(amp, b + 1, hi, (a, b), outward=1)
            # A flat run is left by a fade-in, a cut or the clip's end, and entered by a fade-out,
            # a cut or the clip's start: a "fade" into one white frame after which the same
            # picture pops back is a flash over a brightening shot.
            leaves = fade_in is not None or b == n - 1 or is_cut[b + 1] or flat[b + 1]
            enters = fade_out is not None or a == 0 or is_cut[a] or flat[a - 1]
            if fade_out is not None and leaves:
                out.append(("fade_out", fade_out[0], fade_out[1], fade_out[2], kind_via))
            if fade_in is not None and enters:
                out.append(("fade_in", fade_in[0], fade_in[1], fade_in[2], kind_via))
        return out

    def _fade_side(self, amp: np.ndarray, lo: int, hi: int, run: tuple[int, int], outward: int
                   ) -> tuple[int, int, float] | None:
        """A ramp of ``amp`` over frames ``[lo, hi]`` next to the flat run ``run``.

        Walks away from the flat run while the distance to the flat level keeps growing, then
        fits the piecewise-linear ramp on that stretch plus a few frames of plateau and of the
        flat run (the last frames of a fade are already as good as flat and belong to it).
        """
        p = self.p
        a, b = run
        edge = a if outward < 0 else b
        frames = []
        j = edge + outward
        prev = amp[edge]
        while lo <= j <= hi:
            if amp[j] > prev + 0.002:
                frames.append(j)
                prev = amp[j]
                j += outward
                continue
            # Repeated frames (a cadence conversion) hold the level for up to 3 frames; the
            # fade goes on if the distance grows again right after them.
            k = j
            while lo <= k <= hi and abs(k - j) < 3 and abs(amp[k] - prev) <= 0.002:
                k += outward
            if k == j or not lo <= k <= hi or not amp[k] > prev + 0.002:
                break
            frames.extend(range(j, k, outward))
            j = k
        if len(frames) < p.min_fade_frames - 1:
            return None
        # Plateau: up to 8 frames beyond the walk that stay near the level where it stopped (a
        # flash or another event there must not enter the fit).
        top = amp[frames[-1]]
        height = top - amp[edge]
        far = frames[-1]
        while (lo <= far + outward <= hi and abs(far - frames[-1]) < min(8, len(frames))
               and abs(amp[far + outward] - top) <= 0.25 * height):
            far += outward
        into = min(10, b - a)  # frames of the flat run included in the fit
        # Fade-out: plateau, ramp down, flat. Fade-in: flat, ramp up, plateau.
        seg = np.arange(far, a + into + 1) if outward < 0 else np.arange(b - into, far + 1)
        s, t, r2, k = _fit_ramp(amp[seg])
        first, last = int(seg[s]), int(seg[t])
        # The fit is linear, the tail of a real fade often is not (codec, clipping): frames still
        # measurably above the flat level and still moving towards it belong to the fade.
        floor = float(np.median(amp[a : b + 1])) + 0.01
        if outward < 0:
            while last + 1 <= b and amp[last + 1] < amp[last] - 0.002 and amp[last + 1] > floor:
                last += 1
        else:
            while first - 1 >= a and amp[first - 1] < amp[first] - 0.002 and amp[first - 1] > floor:
                first -= 1
        if last - first + 1 < p.min_fade_frames or (k > 0) == (outward < 0) or r2 < 0.8:
            return None
        return first, last, 0.5 + 0.5 * r2

    # -- cuts -----------------------------------------------------------------
    def _cuts(self, flat: np.ndarray) -> list[tuple[int, float]]:
        p, n = self.p, self.n
        diff, struct, hist, mean = self.sig["diff"], self.sig["struct"], self.sig["hist"], self.sig["mean"]
        # Levels over distinct frames only: a repeated frame (2:2, 3:2 or irregular cadence)
        # changes nothing, and counting its zero would make every real change of the source
        # look like a spike.
        distinct = self._distinct()
        # Frames per distinct frame around each frame (1 at the native rate, 2-2.5 for 24-30 fps
        # material shown at 50-60 fps): time spans given in frames stretch by it.
        self._rep, self._rep_clip = _frames_per_distinct(distinct, diff <= _DUP_DIFF)
        db, da = _side_medians(diff, p.window, distinct)
        sb, sa = _side_medians(struct, p.window, distinct)
        dlevel = np.fmax(np.fmax(np.nan_to_num(db), np.nan_to_num(da)), 0.004)
        slevel = np.fmax(np.fmax(np.nan_to_num(sb), np.nan_to_num(sa)), 0.01)
        rd = diff / dlevel
        has_s = np.isfinite(struct)
        rs = np.where(has_s, np.nan_to_num(struct) / slevel, np.inf)
        score = np.minimum(rd, rs)
        score[0] = 0.0
        self.cut_score = score

        hb, ha = _side_medians(hist, p.window, distinct)
        rh = hist / np.fmax(np.fmax(np.nan_to_num(hb), np.nan_to_num(ha)), 0.01)
        st = np.nan_to_num(struct)
        # Two shots: unrelated images; or (a jump cut: one scene re-framed, or a time skip) a
        # smaller structural change that stands out very sharply from both neighbourhoods; or
        # a structural change blurred by fast motion on one side (struct's local level is high
        # there) confirmed by a jump of the luma histogram, which motion hardly moves.
        structural = (
            has_s
            & (diff >= p.cut_min_diff)
            & (
                ((st >= p.cut_min_struct) & (rd >= p.cut_ratio) & (rs >= p.cut_ratio))
                | ((st >= p.jump_cut_min_struct) & (rd >= p.jump_cut_ratio) & (rs >= p.jump_cut_ratio))
                | (
                    (st >= p.jump_cut_min_struct)
                    & (rd >= p.cut_ratio)
                    & (rs >= 0.75 * p.cut_ratio)
                    & (hist >= p.hist_cut_min)
                    & (rh >= 1.5 * p.cut_ratio)
                )
            )
        )
        # Next to a flat frame: luminance and histogram must both jump; black-to-black (two
        # flat frames of one level) is no change at all.
        prev_mean = np.concatenate([[mean[0]], mean[:-1]])
        same_flat = flat & np.concatenate([[False], flat[:-1]]) & (np.abs(mean - prev_mean) < 0.3)
        flatcut = ~has_s & (diff >= p.flat_cut_min_diff) & (rd >= p.cut_ratio) & (hist >= 0.2) & ~same_flat
        ok = structural | flatcut
        # Motion, not a new shot: a cut is an isolated structural change, while the fastest
        # frame of a whip pan or of an object crossing the lens sits between frames that also
        # change a lot (the motion ramps up and down). Neighbours are the previous and next
        # *distinct* frames (repeats of a cadence conversion change nothing).
        ok &= ~self._in_motion(st, distinct)
        # A cut needs two frames of each shot to stand out from: none within one frame of the
        # clip's ends, where one side of the comparison is missing (fast motion right at the
        # start of a clip looks like a spike there).
        ok[:2] = False
        ok[n - 1 :] = False
        strength = np.where(
            has_s,
            np.maximum.reduce([
                np.minimum.reduce([rd / p.cut_ratio, rs / p.cut_ratio, st / p.cut_min_struct,
                                   diff / p.cut_min_diff]),
                np.minimum.reduce([rd / p.jump_cut_ratio, rs / p.jump_cut_ratio,
                                   st / p.jump_cut_min_struct, diff / p.cut_min_diff]),
                np.minimum.reduce([rd / p.cut_ratio, rs / (0.75 * p.cut_ratio), rh / (1.5 * p.cut_ratio),
                                   st / p.jump_cut_min_struct,
                                   hist / p.hist_cut_min, diff / p.cut_min_diff]),
            ]),
            np.minimum.reduce([rd / p.cut_ratio, diff / p.flat_cut_min_diff, hist / 0.2]),
        )
        cands = [(int(i), 1.0 - 0.5 / max(float(strength[i]), 1.0)) for i in np.nonzero(ok)[0]]
        # Non-maximum suppression of adjacent candidates (an encoder-blended or interlaced cut
        # shows on two consecutive frames): keep the stronger.
        kept: list[tuple[int, float]] = []
        for c, conf in cands:
            if kept and c - kept[-1][0] <= 1:
                if score[c] > score[kept[-1][0]]:
                    kept[-1] = (c, conf)
                continue
            kept.append((c, conf))
        # In-shot structural change per frame, for the flash test's tolerance (the shot before
        # the candidate; after it may be the flash itself).
        self._motion = np.nan_to_num(sb, nan=0.0)
        self._change = np.nan_to_num(db, nan=0.0)
        self._flat = flat
        flashes = self._flash_frames([c for c, _ in kept])
        return [(c, conf) for c, conf in kept if c not in flashes]

    def _in_motion(self, st: np.ndarray, distinct: np.ndarray) -> np.ndarray:
        """Frames whose structural change both sides share (the larger of the two distinct
        frames before, and after): each at least
        ``_MOTION_SHARE`` of it, or at least half that share when the frame is no peak (a
        neighbour changes more: the flank of a motion) or the two together reach 2.5 times
        that share (a short ramp: a motion that speeds up and slows down over a few frames,
        while a cut's neighbours are both quiet)."""
        n = st.size
        idx = np.nonzero(distinct)[0]
        out = np.zeros(n, bool)
        if idx.size < 3:
            return out
        vals = st[idx]
        # The larger of the two distinct frames on each side: a repeat whose coding noise passed
        # for a distinct frame must not hide the motion.
        pad = np.concatenate([[0.0, 0.0], vals, [0.0, 0.0]])
        prev_v = np.maximum(pad[:-4], pad[1:-3])
        next_v = np.maximum(pad[3:-1], pad[4:])
        low, high = np.minimum(prev_v, next_v), np.maximum(prev_v, next_v)
        ramp = (high > vals) | (low + high >= 2.5 * _MOTION_SHARE * vals)
        shared = (low >= _MOTION_SHARE * vals) | (ramp & (low >= 0.5 * _MOTION_SHARE * vals))
        # The start or end of a sustained fast move: both distinct frames on one side change
        # about as much (a cut's new shot settles at once).
        pad_min_prev = np.minimum(pad[:-4], pad[1:-3])
        pad_min_next = np.minimum(pad[3:-1], pad[4:])
        onset = np.maximum(pad_min_prev, pad_min_next) >= 0.8 * vals
        # A move that speeds up into the frame (or slows down out of it): the three distinct
        # frames on one side grow towards it, the nearest already a quarter of its change. A
        # dropped source frame there doubles one step (two source frames of motion in one), so
        # the peak can stand 2-4 times above its neighbour. Only for a change below a hard
        # cut's floor (a jump cut's): a cut out of an accelerating pan has that ramp too.
        pad3 = np.concatenate([[0.0] * 3, vals, [0.0] * 3])
        p1, p2, p3 = pad3[2:-4], pad3[1:-5], pad3[:-6]
        n1, n2, n3 = pad3[4:-2], pad3[5:-1], pad3[6:]
        jump = vals < self.p.cut_min_struct
        speeding = jump & (p3 < p2) & (p2 < p1) & (p1 >= 0.25 * vals) & (p1 < vals)
        slowing = jump & (n3 < n2) & (n2 < n1) & (n1 >= 0.25 * vals) & (n1 < vals)
        # The flank of a larger change next to it (a neighbour changes more) with some change on
        # the other side too.
        flank = (high > vals) & (low >= 0.1 * vals)
        out[idx] = (vals > 0) & (shared | onset | speeding | slowing | flank)
        return out

    def _distinct(self) -> np.ndarray:
        """Frames that are not a repeat of the previous one.

        A repeated frame of a 2:2, 3:2 or irregular cadence differs by coding noise only: a
        mean absolute difference under ``_DUP_DIFF`` and under a third of the largest change
        within 3 frames. A still shot looks the same frame by frame; what tells a cadence is
        its rhythm: runs of 1-3 such frames, each after one or two changing frames, at least
        ``_CADENCE_RUNS`` runs in a row. Only those count as repeats (a still shot's frames,
        or the quiet frames between the cuts of a montage of still shots, do not).
        """
        diff = self.sig["diff"].astype(np.float64)
        n = diff.size
        reach = 3
        padded = np.concatenate([np.zeros(reach), diff, np.zeros(reach)])
        near = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=1)
        tiny = (diff <= _DUP_DIFF) & (diff <= 0.35 * near)
        runs = _runs(tiny)
        distinct = np.ones(n, bool)
        if not runs:
            return distinct
        first = np.array([r[0] for r in runs])
        last = np.array([r[1] for r in runs])
        short = last - first + 1 <= 3
        # Run i and run i + 1 belong to one rhythm: both short, one or two frames apart.
        link = short[:-1] & short[1:] & (first[1:] - last[:-1] - 1 <= 2)
        chain = np.concatenate([[0], np.cumsum(~link)])  # chain id of each run
        size = np.bincount(chain)
        for i in np.nonzero(short & (size[chain] >= _CADENCE_RUNS))[0]:
            distinct[first[i] : last[i] + 1] = False
        return distinct

    def _flash_frames(self, cands: list[int]) -> set[int]:
        """Candidates that start, sit in or end a flash, or an occluder passing the lens."""
        p, n = self.p, self.n
        out: set[int] = set()
        for c in cands:
            if c in out:
                continue
            ref_d = float(self.sig["diff"][c])
            # A flash around c: two frames at most max_flash_frames + 1 apart, one before c and
            # one at or after it, that look alike (pair (q - lag, q) stored as lag at frame q).
            for lag in range(2, p.max_flash_frames + 2):
                for q in range(c, min(c + lag, n)):
                    if q - lag < 0:
                        continue
                    if self._alike(c, *self.bridge[q, lag - 2], gap=lag):
                        out.update(k for k in cands if q - lag < k <= q)
                        break
                if c in out:
                    break
            # A cut between a black or white frame and a picture is no occluder (those cover
            # part of the frame), and black "returns" after any shot of a montage cut to black
            # and back. (A flash over black, flat frames in between, still goes through.)
            to_flat = (
                (self._flat[c - 1] or self._flat[c])
                and ref_d >= p.flat_cut_min_diff
                and max(self.sig["std"][c - 1], self.sig["std"][c]) > p.flat_max_std
            )
            if c in out or p.return_span < 2 or to_flat:
                continue
            # Longer occlusions: the picture from before c comes back within return_span frames
            # (window pairs (T[i - L], T[i]) that span c, i.e. i in [c, c + L - 1]).
            span = p.return_span * min(float(self._rep[c]), 3.0)
            # Beyond the local span (a still shot of a converted clip), only the same picture
            # counts: two crops of one still scene in a montage differ by more.
            far_span = p.return_span * min(float(self._rep_clip[c]), 3.0)
            for li, win in enumerate(p.gradual_windows):
                if win > max(span, far_span):
                    break
                hi = min(c + win - 1, n - 1)
                d = self.lin[c : hi + 1, li, _D]
                # Both frames of a pair must be ordinary frames, not spikes themselves: a flash
                # frame of either shot can look like the other shot.
                later = np.arange(c, hi + 1)
                # The old picture is back: no further from it than a third of the spike, nor
                # than the shot's own motion would take it (a huge spike, say from a dark shot,
                # must not make any other shot "the same picture").
                tol = min(0.35 * ref_d, max(_RETURN_MIN_TOL, 4.0 * float(self._change[c])))
                if win > span:
                    tol = min(tol, max(_SAME_PICTURE, 2.0 * float(self._change[c])))
                back = np.isfinite(d) & (d <= tol) & (later - win >= 1)
                if win > span:
                    # ... and the earlier frame of the pair is of the shot just before c (a
                    # montage A-B-A brings A back across B).
                    back &= later - win > max((k for k in cands if k < c), default=-1)
                back &= self._calm(later - win, 0.5 * ref_d, c) & self._calm(later, 0.5 * ref_d, c)
                if back.any():
                    j = c + int(np.argmax(back))
                    if win > span and not self._keeps_changing(c, j):
                        continue
                    out.update(k for k in cands if c <= k <= j)
                    break
        return out

    def _keeps_changing(self, c: int, j: int) -> bool:
        """Whether every distinct frame changes from candidate ``c`` until the picture is back
        at ``j`` (up to the frames that must be calm before ``j``): an object crossing the lens
        moves on each frame, while a montage that cuts back to a still shot holds each shot in
        between (a run of more than 3 unchanged frames: longer than any cadence's repeats)."""
        quiet = self.sig["diff"][c + 1 : j - self.p.max_flash_frames] <= _DUP_DIFF
        return all(b - a + 1 <= 3 for a, b in _runs(quiet))

    def _alike(self, c: int, bd: float, bs: float, *, gap: int) -> bool:
        """Two frames ``gap`` apart around candidate ``c`` (luminance difference ``bd``,
        structural ``bs``) look like one shot: no further apart than half the spike at ``c``
        or than that shot's own motion over ``gap`` frames allows (luminance capped at 3/4 of
        the spike)."""
        ref_d = float(self.sig["diff"][c])
        ref_s = float(self.sig["struct"][c]) if np.isfinite(self.sig["struct"][c]) else 1.0
        tol_d = max(0.5 * ref_d, min(0.75 * ref_d, 1.5 * gap * float(self._change[c])))
        tol_s = max(0.5 * ref_s, 0.15, 1.5 * gap * float(self._motion[c]))
        return bool(np.isfinite(bd) and np.isfinite(bs) and bd <= tol_d and bs <= tol_s)

    def _calm(self, frames: np.ndarray, limit: float, candidate: int) -> np.ndarray:
        """Frames away from any spike: every frame-to-frame change within ``max_flash_frames``
        + 1 of them stays below ``limit`` (the candidate's own change excepted), so neither an
        edge nor the inside of a flash counts as an ordinary frame of a shot."""
        diff = self.sig["diff"].astype(np.float64).copy()
        diff[candidate] = 0.0
        reach = self.p.max_flash_frames + 1
        padded = np.concatenate([np.zeros(reach), diff, np.zeros(reach + 1)])
        # Largest change over [f - reach + 1, f + reach] (the change into f + reach's frame).
        peak = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach).max(axis=1)
        idx = np.clip(frames, 0, self.n - 1) + 1
        return peak[idx] < limit

    # -- dissolves and wipes ----------------------------------------------------
    def _gradual(self, busy: np.ndarray, cuts: list[tuple[int, float]]) -> list[Found]:
        p, n = self.p, self.n
        energy = self.sig["detail"].astype(np.float64) ** 2
        cut_mark = np.zeros(n, np.int64)
        for c, _ in cuts:
            cut_mark[c] = 1
        cut_cum = np.concatenate([[0], np.cumsum(cut_mark)])  # cuts at frames < i
        busy_cum = np.concatenate([[0], np.cumsum(busy)])
        best_resid = np.full(n, np.inf)
        cands: list[tuple[float, str, int, int, int]] = []  # (score, kind, a, e, window index)
        for li, win in enumerate(p.gradual_windows):
            if n <= win:
                break
            e = np.arange(win, n)
            a = e - win
            m = e - win // 2
            f = self.lin[win:, li]
            d, r, c = f[:, _D].astype(np.float64), f[:, _R].astype(np.float64), f[:, _C].astype(np.float64)
            valid = (
                np.isfinite(d)
                & (d >= p.dissolve_min_diff)
                & (busy_cum[e + 1] - busy_cum[a] == 0)  # no fade or flat frame in [a, e]
                & (cut_cum[e + 1] - cut_cum[a + 1] == 0)  # no cut in (a, e]
            )
            np.fmin.at(best_resid, m[valid], r[valid])
            ends = 0.5 * (energy[a] + energy[e])
            dip = np.where(ends > 0, energy[m] / np.maximum(ends, 1e-12), 1.0)
            struct_ok = np.isfinite(c) & (c >= p.dissolve_min_struct)
            with np.errstate(invalid="ignore"):
                predicted = f[:, _P] <= _DISSOLVE_MAX_PRED
            dissolve = valid & struct_ok & _mix_like(r, dip, p) & predicted
            for q in np.nonzero(dissolve)[0]:
                score = (1.0 - r[q] / p.dissolve_max_resid) * min(1.0, c[q]) * (1.0 - 0.5 * dip[q])
                cands.append((float(score), "dissolve", int(a[q]), int(e[q]), li))
            if p.detect_wipes:
                wipe = valid & ~dissolve & (c >= 0.5) & _wipe_like(f)
                for q in np.nonzero(wipe)[0]:
                    score = 0.5 * (1.0 - f[q, _RB] / _WIPE_MAX_RB) * min(1.0, c[q])
                    cands.append((float(score), "wipe", int(a[q]), int(e[q]), li))
        self.dissolve_resid = np.where(np.isfinite(best_resid), best_resid, np.nan)

        # Best-scoring windows first; a window overlapping an accepted transition is skipped.
        cands.sort(key=lambda t: -t[0])
        taken = busy.copy()
        for c, _ in cuts:
            taken[c] = True
        out: list[Found] = []
        for score, kind, a, e, li in cands:
            if taken[a + 1 : e].any() or not self._persists(li, a, e):
                continue
            extent = self._extent(a, e, taken)
            if extent is None:
                continue
            s, t, r2 = extent
            taken[s : t + 1] = True
            out.append((kind, s, t, 0.5 * min(1.0, 2.0 * score) + 0.5 * r2, None))
        return out

    def _persists(self, li: int, a: int, e: int) -> bool:
        """Frames further on still differ from the window's first frame ``a`` (no return of the
        old picture, as after an occluder); windows past the clip's end count as persisting."""
        wins = self.p.gradual_windows
        d_ae = self.lin[e, li, _D]
        for lj in range(li + 1, len(wins)):
            e2 = a + wins[lj]
            if e2 >= self.n:
                break
            d2 = self.lin[e2, lj, _D]
            if np.isfinite(d2) and d2 < 0.5 * d_ae:
                return False
        return True

    def _extent(self, a: int, e: int, taken: np.ndarray) -> tuple[int, int, float] | None:
        """First and last frame of the transition seen in window ``(a, e)``, and the R^2 of its
        progress ramp.

        The best-scoring window may sit inside a longer transition (its ends mixes already), so
        the fit covers the window widened by ``max(8, its length, longest window / 2)`` frames
        on each side, up to a cut or another transition. In that range every frame's block
        descriptor is projected on the window's change direction (0 at ``a``, 1 at ``e``) and
        :func:`_fit_mix` fits the ramp jointly to it and to the luma std curve.
        """
        n = self.n
        blocks = self.sig["blocks"].astype(np.float64)
        # Average two frames at each end of the window against in-shot motion.
        pre = blocks[max(0, a - 1) : a + 1].mean(axis=0)
        post = blocks[e : min(n - 1, e + 1) + 1].mean(axis=0)
        direction = post - pre
        norm2 = float(direction @ direction)
        if norm2 < (0.02**2) * direction.size:
            return None  # the two shots share their layout: no measurable progress
        reach = max(8, e - a, max(self.p.gradual_windows) // 2)
        lo, hi = a, e
        while lo > 0 and a - lo < reach and not taken[lo - 1]:
            lo -= 1
        while hi < n - 1 and hi - e < reach and not taken[hi + 1]:
            hi += 1
        progress = (blocks[lo : hi + 1] - pre) @ direction / norm2
        # The transition overlaps the window and is at most about twice as long.
        s, t, r2, k = _fit_mix(
            progress, self.sig["std"][lo : hi + 1], s_max=e - lo, t_min=a - lo, max_len=2 * (e - a) + 8
        )
        if k <= 0.5 or t - s + 1 < 2:
            return None
        return lo + s, lo + t, r2


def _mix_like(r: np.ndarray, dip: np.ndarray, p: TransitionParams) -> np.ndarray:
    """Windows whose middle frame looks like the mean of its ends: residual ``r`` up to
    ``dissolve_max_resid`` with a detail dip, or up to 1.2x that when the dip is deep (< 0.6:
    the middle frame lost 40% of its detail energy, the signature of two uncorrelated images
    averaged, which moving shots blur less than a dissolve does)."""
    return ((r <= p.dissolve_max_resid) & (dip <= p.dissolve_max_dip)) | (
        (r <= 1.2 * p.dissolve_max_resid) & (dip <= 0.6)
    )


def _wipe_like(f: np.ndarray) -> np.ndarray:
    """Rows of window signals (..., len(_LIN_FIELDS)) whose middle frame is, block by block, the
    first or the last image (a wipe's moving edge), over a frame that changes everywhere and is
    partly switched; NaN fields (not computed) fail."""
    with np.errstate(invalid="ignore"):
        return (
            (f[:, _R] >= _WIPE_MIN_R)
            & (f[:, _RB] <= _WIPE_MAX_RB)
            & (f[:, _BIN] <= _WIPE_MAX_BIN)
            & (f[:, _CHANGED] >= 0.85)
            & (f[:, _SWITCHED] >= 0.2)
            & (f[:, _SWITCHED] <= 0.8)
        )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in ``mask`` as inclusive ``(first, last)`` pairs."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
