"""Camera shake: global inter-frame motion, integrated per shot, split into intent and jitter.

Per frame pair (shot-agnostic, during the decode pass)
    Shi-Tomasi corners [1]_ on the previous analysis frame are followed into the current one
    with pyramidal Lucas-Kanade [2]_; a 4-degree-of-freedom similarity (translation, rotation,
    uniform scale) is fitted with RANSAC [3]_ (``cv2.estimateAffinePartial2D``), so points on
    moving subjects are outliers and do not move the estimate. Only the inliers are tracked
    on into the next frame, and new corners are added only when fewer than half survive, and
    only in the cells of a 4x4 grid that lack tracks: detection costs as much as tracking, so
    this halves the per-frame cost; the cap per cell keeps a strongly textured subject from
    taking most corners; and keeping the inliers carries the background consensus over (a
    subject covering 28% of the frame and moving erratically still leaves a static shot
    stable). A pair with too little texture (black, flat or blown-out frames) or too few RANSAC
    inliers (a cut, a flash) is marked unreliable and its motion set to 0.

Per shot (after the pass, once the transition detector has produced the shots)
    The motions inside the shot (the pair straddling its first frame belongs to the boundary,
    not to the shot) are summed into a camera trajectory ``(x, y, angle, log scale)``. Motion of
    unreliable pairs is interpolated from the reliable ones around it. Intended motion is a
    Savitzky-Golay low-pass [4]_ of the trajectory: a local cubic fitted over a ~1 s window. A
    local polynomial keeps constant-speed pans, eased (accelerating) pans and zooms exactly, so
    they leave no residual, in the spirit of the constant/linear/parabolic segments of
    Grundmann et al.'s stabiliser [5]_; a plain moving average or Gaussian would leave a
    residual proportional to the acceleration. With a cubic over 1 s the -3 dB cut-off is
    ~1.3 Hz [6]_, below the 2-10 Hz band where hand tremor and walking bounce sit. The residual
    is the jitter.

Score
    ``score_pct = 100 * sqrt(mean_t |d_t|^2) / D`` where ``D`` is the analysis frame diagonal and
    ``|d_t|^2`` is the squared jitter displacement averaged over the four frame corners:
    ``rx^2 + ry^2 + (ra^2 + rs^2) (D/2)^2`` (residual translation ``rx, ry`` in pixels, rotation
    ``ra`` in radians, log-scale ``rs``; the corners are at radius ``D/2`` and symmetric about the
    centre, so the cross terms vanish). A percentage of the diagonal does not depend on the
    resolution; the corners are where rotation and zoom jitter are most visible.

References
----------
.. [1] J. Shi and C. Tomasi, "Good features to track", CVPR 1994.
.. [2] J.-Y. Bouguet, "Pyramidal implementation of the Lucas Kanade feature tracker", Intel, 2000.
.. [3] M. A. Fischler and R. C. Bolles, "Random sample consensus", Comm. ACM 24(6), 1981.
.. [4] A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by simplified
   least squares procedures", Analytical Chemistry 36(8), 1964.
.. [5] M. Grundmann, V. Kwatra and I. Essa, "Auto-directed video stabilization with robust L1
   optimal camera paths", CVPR 2011.
.. [6] R. W. Schafer, "What is a Savitzky-Golay filter?", IEEE Signal Processing Magazine 28(4),
   2011 (cut-off ~ (p + 1) / (3.2 N - 4.6) cycles per sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch
from ..shots import Shot

# Below this luma standard deviation (codes) a frame has no trackable texture: skip the
# ~0.7 ms corner detection that would find nothing.
_MIN_TEXTURE_STD = 2.0
# RANSAC needs a few inliers to mean anything; with fewer the pair is unreliable.
_MIN_INLIERS = 10
# A fit explaining under this share of the tracked points is not the camera (a cut, a flash,
# a subject filling the frame).
_MIN_INLIER_SHARE = 0.3
_DEFAULT_FPS = 30.0
# Corners are spread over a _GRID x _GRID grid, an equal share per cell.
_GRID = 4


@dataclass(frozen=True)
class ShakeResult:
    """Shake of one shot.

    Attributes
    ----------
    score_pct : float
        RMS jitter displacement at the frame corners, % of the frame diagonal (>= 0).
    jitter_rms_px : float
        The same RMS in pixels of the *source* displayed frame (``score_pct`` x source diagonal).
    frames : int
        Frames in the shot.
    reliable_share : float
        Share (0-1) of the shot's frame pairs whose motion was measured; the rest were
        interpolated. Below ~0.5 the score says little (flat or dark shot).
    pan_speed_pct : float
        Mean speed of the intended (smoothed) motion at the corners, % of the diagonal per
        second: tells a pan or zoom (motion, not shake) from a locked-off shot.
    """

    score_pct: float
    jitter_rms_px: float
    frames: int
    reliable_share: float
    pan_speed_pct: float

    @property
    def reliable(self) -> bool:
        """At least half of the frame pairs were measured."""
        return self.reliable_share >= 0.5


class ShakeAnalyzer:
    """Global motion per frame pair; per-shot jitter with :meth:`shot_shake`.

    Parameters
    ----------
    max_features : int
        Corners tracked per frame (>= 20). 120 keep the fit stable (RANSAC needs a fraction of
        them on the background) at ~0.6 ms per 320x180 frame (80 let a large subject win).
    lk_window : int
        Lucas-Kanade window side in pixels (odd, >= 5). With 3 pyramid levels a 9 px window
        follows motions up to ~60 px per frame (~19% of a 320 px frame), at ~25% less tracking
        time than 11 px (tests/test_shake.py ground truth still within its tolerances).
    pyramid_levels : int
        Pyramid levels above the full analysis frame (0-5).
    ransac_px : float
        RANSAC inlier tolerance in analysis pixels (> 0).
    smoothing_s : float
        Length of the Savitzky-Golay window that defines intended motion, seconds (> 0).
    """

    name = "shake"

    def __init__(
        self,
        *,
        max_features: int = 120,
        lk_window: int = 9,
        pyramid_levels: int = 3,
        ransac_px: float = 1.0,
        smoothing_s: float = 1.0,
    ) -> None:
        if max_features < 20:
            raise ValueError(f"max_features must be >= 20 for a robust fit, got {max_features}")
        if lk_window < 5 or lk_window % 2 == 0:
            raise ValueError(f"lk_window must be an odd number >= 5, got {lk_window}")
        if not 0 <= pyramid_levels <= 5:
            raise ValueError(f"pyramid_levels must be in 0-5, got {pyramid_levels}")
        if not ransac_px > 0:
            raise ValueError(f"ransac_px must be > 0, got {ransac_px}")
        if not smoothing_s > 0:
            raise ValueError(f"smoothing_s must be > 0 seconds, got {smoothing_s}")
        self.max_features = max_features
        self.smoothing_s = smoothing_s
        self.ransac_px = ransac_px
        self._lk = {
            "winSize": (lk_window, lk_window),
            "maxLevel": pyramid_levels,
            "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
        }
        # Re-detect once fewer than this many tracks survive.
        self._min_tracks = max(_MIN_INLIERS * 2, max_features // 2)
        # Corners closer than this (px) add little information and cost tracking time.
        self._min_distance = 8
        self._geometry: AnalysisGeometry | None = None
        self._center = np.zeros(2)
        self._reset_state()

    def _reset_state(self) -> None:
        self._prev: np.ndarray | None = None
        self._tracks: np.ndarray | None = None
        self._chunks: list[np.ndarray] = []
        self._rel_chunks: list[np.ndarray] = []
        self._pts_chunks: list[np.ndarray] = []
        self._time_base = Fraction(1, 1)
        self._motion: np.ndarray | None = None
        self._reliable: np.ndarray | None = None
        self._pts: np.ndarray | None = None

    # -- Analyzer protocol -------------------------------------------------------------------

    def start(self, geometry: AnalysisGeometry) -> None:
        """Reset and remember the analysis geometry (its diagonal normalises the score)."""
        self._geometry = geometry
        self._reset_state()
        self._center = np.array([(geometry.width - 1) / 2.0, (geometry.height - 1) / 2.0])

    def process(self, batch: FrameBatch) -> None:
        """Estimate the motion into every frame of ``batch`` from the frame before it.

        Stores per frame ``(dx, dy, angle, log scale)``: image motion at the frame centre in
        analysis pixels, radians (positive = clockwise on screen, y pointing down) and natural
        log of the scale change, plus a reliability flag. The first frame of the clip has no
        predecessor: motion 0, unreliable.
        """
        if self._geometry is None:
            raise RuntimeError("ShakeAnalyzer.process called before start(geometry)")
        n = len(batch)
        motion = np.zeros((n, 4), dtype=np.float32)
        reliable = np.zeros(n, dtype=bool)
        for i in range(n):
            cur = batch.luma[i]
            if self._prev is not None:
                est = self._estimate(self._prev, cur)
                if est is not None:
                    motion[i] = est
                    reliable[i] = True
            elif _textured(cur):
                self._tracks = self._detect(cur)
            self._prev = cur
        self._chunks.append(motion)
        self._rel_chunks.append(reliable)
        self._pts_chunks.append(np.asarray(batch.pts, dtype=np.int64).copy())
        self._time_base = batch.time_base

    def finish(self) -> None:
        """Concatenate the per-frame signals; drop the last frame and the tracks."""
        self._prev = None
        self._tracks = None
        self._collect()

    def frame_signals(self) -> dict[str, np.ndarray]:
        """Per-frame global motion from the previous frame, for the CSV.

        ``dx_pct``/``dy_pct``: image translation at the frame centre, % of the diagonal
        (positive = content moves right/down); ``rot_deg``: rotation, degrees clockwise;
        ``zoom_pct``: scale change, % (positive = content grows); ``reliable``: 1 where
        measured, 0 where the pair had too little texture or agreement (motion then 0).
        """
        motion, reliable, _ = self._collect()
        diag = self._diag()
        m = motion.astype(np.float64)
        return {
            "dx_pct": m[:, 0] * (100.0 / diag),
            "dy_pct": m[:, 1] * (100.0 / diag),
            "rot_deg": np.degrees(m[:, 2]),
            "zoom_pct": np.expm1(m[:, 3]) * 100.0,
            "reliable": reliable.astype(np.float64),
        }

    # -- per shot ----------------------------------------------------------------------------

    def shot_shake(self, shot: Shot) -> ShakeResult:
        """Jitter of the camera over ``shot`` (see the module docstring for the definition).

        Raises
        ------
        ValueError
            ``shot`` lies outside the frames processed (pass shots of this clip).
        """
        motion, reliable, pts = self._collect()
        check_shot(shot, len(motion), "ShakeAnalyzer")
        frames = shot.frame_count
        # Motion *into* frames start+1..end: the pair (start-1, start) crosses the boundary.
        steps = motion[shot.start_frame + 1 : shot.end_frame + 1].astype(np.float64)
        ok = reliable[shot.start_frame + 1 : shot.end_frame + 1]
        diag = self._diag()
        source_diag = self._geometry.source_diagonal if self._geometry else diag
        if steps.shape[0] == 0:
            return ShakeResult(0.0, 0.0, frames, 0.0, 0.0)
        share = float(ok.mean())
        if not ok.any():
            return ShakeResult(0.0, 0.0, frames, 0.0, 0.0)
        if not ok.all():
            # Unknown steps take the speed of the measured ones around them, so a pan through
            # a featureless patch does not turn into a stop-and-go (which would read as jitter).
            idx = np.arange(steps.shape[0])
            for c in range(4):
                steps[~ok, c] = np.interp(idx[~ok], idx[ok], steps[ok, c])
        trajectory = np.vstack([np.zeros((1, 4)), np.cumsum(steps, axis=0)])
        fps = fps_from_pts(pts[shot.start_frame : shot.end_frame + 1], self._time_base)
        window = odd_window(self.smoothing_s * fps)
        intended = savgol_lowpass(trajectory, window=window, order=3)
        residual = trajectory - intended
        corner2 = (diag / 2.0) ** 2
        d2 = residual[:, 0] ** 2 + residual[:, 1] ** 2 + (residual[:, 2] ** 2 + residual[:, 3] ** 2) * corner2
        score = 100.0 * math.sqrt(float(d2.mean())) / diag
        v = np.diff(intended, axis=0)
        speed = np.sqrt(v[:, 0] ** 2 + v[:, 1] ** 2 + (v[:, 2] ** 2 + v[:, 3] ** 2) * corner2)
        pan = 100.0 * float(speed.mean()) * fps / diag if speed.size else 0.0
        return ShakeResult(
            score_pct=score,
            jitter_rms_px=score / 100.0 * source_diag,
            frames=frames,
            reliable_share=share,
            pan_speed_pct=pan,
        )

    # -- internals ---------------------------------------------------------------------------

    def _detect(self, frame: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray | None:
        """Tracks ``keep`` topped up with Shi-Tomasi corners, at most an equal share per cell.

        The frame is split into a ``_GRID`` x ``_GRID`` grid and each cell holds at most
        ``max_features / _GRID**2`` tracks. Without the cap a high-contrast subject (a textured
        object over a soft background) takes most of the strongest corners and RANSAC follows
        the subject, not the camera. Surviving tracks (RANSAC inliers, i.e. the background)
        are kept and only cells short of tracks get new corners, so the background consensus
        carries over instead of being re-drawn from scratch. Candidates come best-first from
        one ``goodFeaturesToTrack`` call; a stable sort by cell ranks them within each cell.
        """
        pts = cv2.goodFeaturesToTrack(
            frame, self.max_features * 3, qualityLevel=0.005, minDistance=self._min_distance, blockSize=3
        )
        h, w = frame.shape
        per_cell = -(-self.max_features // (_GRID * _GRID))
        allowed = np.full(_GRID * _GRID, per_cell, dtype=np.intp)
        if keep is not None and len(keep):
            allowed -= np.bincount(_cells(keep.reshape(-1, 2), w, h), minlength=_GRID * _GRID)
        if pts is None:
            return keep if keep is not None and len(keep) >= _MIN_INLIERS else None
        xy = pts.reshape(-1, 2)
        if keep is not None and len(keep):
            # No new corner on top of an existing track (it would be a duplicate).
            old = keep.reshape(-1, 2)
            d2 = ((xy[:, None, :] - old[None, :, :]) ** 2).sum(axis=2).min(axis=1)
            fresh = d2 >= self._min_distance**2
            xy, pts = xy[fresh], pts[fresh]
        cell = _cells(xy, w, h)
        order = np.argsort(cell, kind="stable")  # by cell, best corners first within a cell
        sorted_cells = cell[order]
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order)) - np.searchsorted(sorted_cells, sorted_cells, side="left")
        new = pts[rank < allowed[cell]]
        out = new if keep is None or not len(keep) else np.concatenate([keep.reshape(-1, 1, 2), new])
        if len(out) < _MIN_INLIERS:
            return None
        return np.ascontiguousarray(out, dtype=np.float32)

    def _estimate(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
        """Similarity motion prev -> cur, or None when it cannot be trusted.

        Keeps the inlier tracks for the next pair; re-detects on ``cur`` when they thin out.
        """
        tracks = self._tracks
        if tracks is None or len(tracks) < self._min_tracks:
            tracks = self._detect(prev) if _textured(prev) else None
        result = None
        survivors = None
        if tracks is not None:
            moved, status, _err = cv2.calcOpticalFlowPyrLK(prev, cur, tracks, None, **self._lk)
            good = status.ravel() == 1
            if good.sum() >= _MIN_INLIERS:
                src, dst = tracks[good], moved[good]
                m, inliers = cv2.estimateAffinePartial2D(
                    src, dst, method=cv2.RANSAC, ransacReprojThreshold=self.ransac_px
                )
                if m is not None:
                    inl = inliers.ravel().astype(bool)
                    if inl.sum() >= _MIN_INLIERS and inl.mean() >= _MIN_INLIER_SHARE:
                        result = self._decompose(m)
                        # Only background tracks go on: subjects drop out of the track set.
                        survivors = dst[inl]
        if survivors is None or len(survivors) < self._min_tracks:
            survivors = self._detect(cur, keep=survivors) if _textured(cur) else None
        self._tracks = survivors
        return result

    def _decompose(self, m: np.ndarray) -> np.ndarray:
        """``(dx, dy, angle, log scale)`` of a 2x3 similarity, translation taken at the centre.

        ``x' = A x + t``; about the centre ``c`` that is ``x' - c = A (x - c) + (A c + t - c)``.
        """
        a = m[:, :2]
        t = a @ self._center + m[:, 2] - self._center
        scale = math.hypot(a[0, 0], a[1, 0])
        angle = math.atan2(a[1, 0], a[0, 0])
        return np.array([t[0], t[1], angle, math.log(max(scale, 1e-6))], dtype=np.float32)

    def _collect(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._motion is None or len(self._motion) != sum(len(c) for c in self._chunks):
            self._motion = np.concatenate(self._chunks) if self._chunks else np.zeros((0, 4), np.float32)
            self._reliable = np.concatenate(self._rel_chunks) if self._rel_chunks else np.zeros(0, bool)
            self._pts = np.concatenate(self._pts_chunks) if self._pts_chunks else np.zeros(0, np.int64)
            # Keep one array each instead of the chunk lists (same memory, fewer objects).
            self._chunks = [self._motion]
            self._rel_chunks = [self._reliable]
            self._pts_chunks = [self._pts]
        assert self._reliable is not None and self._pts is not None
        return self._motion, self._reliable, self._pts

    def _diag(self) -> float:
        if self._geometry is None:
            raise RuntimeError("ShakeAnalyzer used before start(geometry)")
        return self._geometry.diagonal


def _cells(xy: np.ndarray, w: int, h: int) -> np.ndarray:
    """Grid cell index of points ``xy`` (shape (N, 2), x then y) in a ``w`` x ``h`` frame."""
    col = np.clip((xy[:, 0] * (_GRID / w)).astype(np.intp), 0, _GRID - 1)
    row = np.clip((xy[:, 1] * (_GRID / h)).astype(np.intp), 0, _GRID - 1)
    return row * _GRID + col


def _textured(frame: np.ndarray) -> bool:
    _mean, std = cv2.meanStdDev(frame)
    return float(std[0, 0]) >= _MIN_TEXTURE_STD


def check_shot(shot: Shot, frame_count: int, who: str) -> None:
    """Raise ``ValueError`` unless ``shot`` lies within the ``frame_count`` frames processed."""
    if not 0 <= shot.start_frame <= shot.end_frame < frame_count:
        raise ValueError(
            f"{who}: shot frames {shot.start_frame}-{shot.end_frame} outside the {frame_count} "
            "frames processed; pass shots of the analysed clip"
        )


def fps_from_pts(pts: np.ndarray, time_base: Fraction) -> float:
    """Frame rate from the median PTS step (robust to a few irregular frames)."""
    if pts.size < 2:
        return _DEFAULT_FPS
    step = float(np.median(np.diff(pts))) * float(time_base)
    return 1.0 / step if step > 0 else _DEFAULT_FPS


def odd_window(frames: float) -> int:
    """Nearest odd window length >= 3 to ``frames``."""
    n = max(3, round(frames))
    return n if n % 2 else n + 1


def savgol_lowpass(x: np.ndarray, *, window: int, order: int = 3) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0, polynomial fit at the ends (no padding).

    Each output sample is the value at its centre of the least-squares polynomial of degree
    ``order`` fitted to the ``window`` samples around it [4]_; the first and last ``window // 2``
    samples take the polynomial fitted to the first / last window (SciPy's ``mode="interp"``).
    Polynomials up to ``order`` pass unchanged, including at the ends.

    Parameters
    ----------
    x : ndarray, shape (L,) or (L, C), float
        Signal(s) sampled at a constant rate.
    window : int
        Odd window length >= 1; shrunk to the largest odd length <= L for short signals.
    order : int
        Polynomial degree >= 0; lowered to ``window - 1`` for short windows (exact fit).

    Returns
    -------
    ndarray, same shape as ``x``, float64
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number of samples, got {window}")
    if order < 0:
        raise ValueError(f"order must be >= 0, got {order}")
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.reshape(arr.shape[0], -1)
    n = flat.shape[0]
    w = min(window, n if n % 2 else n - 1)
    if w <= 1 or order >= w - 1:
        return arr.copy()
    half = w // 2
    j = np.arange(w, dtype=np.float64) - half
    vander = np.vander(j, order + 1, increasing=True)
    # Hat matrix of the least-squares fit: row k gives the fitted value at position k.
    hat = vander @ np.linalg.pinv(vander)
    out = np.empty_like(flat)
    windows = np.lib.stride_tricks.sliding_window_view(flat, w, axis=0)  # (n - w + 1, C, w)
    out[half : n - half] = windows @ hat[half]
    out[:half] = hat[:half] @ flat[:w]
    out[n - half :] = hat[half + 1 :] @ flat[n - w :]
    return out.reshape(arr.shape)
