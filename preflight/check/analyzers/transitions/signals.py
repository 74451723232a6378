"""Streaming stage of the transition detector: analysis-size luma in, per-frame signals out.

Each frame is reduced to two tiny thumbnails and a few dozen floats (``diff``, ``struct``,
``hist``, ``mean``, ``std``, ``detail``, ``dark``, ``bright``, ``blocks``), plus the window
signals of every gradual window ending at it (:class:`WindowField`) and the flash-test pairs;
the signals and the method are described in the package docstring
(:mod:`preflight.check.analyzers.transitions`).
"""

from __future__ import annotations

import functools
from enum import IntEnum
from fractions import Fraction

import cv2
import numpy as np

from ....media.decode import AnalysisGeometry, FrameBatch
from .levels import LONGEST_HOLD, longest_return_span
from .params import TransitionParams

# Thumbnail sizes (long side, px) and the NCC search margin (px at 32 px): +-2 px is +-6% of the
# frame per frame of motion.
_THUMB = 64
# Timestamps that set a clip's frame rate (TransitionParams.for_rate): fewer than the longest
# default window, so the windows added for a high rate have no value yet when they are added.
_RATE_FRAMES = 16
_SMALL = 32
_SMALL_MARGIN = 2
_HIST_BINS = 32
# Lags compared for the flash test: frame c - 1 against frame c + k - 1; up to
# max_flash_frames + 1 = 4 source frames, 10 frames of a clip converted at up to 2.5 frames per
# source frame (3:2 pulldown).
BRIDGE_LAGS = tuple(range(2, 11))
# A thumbnail with luma std below this (0-1 units) is too flat for NCC: a uniform frame (no
# picture: black, or a strobe's flash).
NCC_MIN_STD = 0.015
# Wide registration (whip pans, fast tilts, and those doubled by a dropped frame): signal
# ``wide``, for a frame whose local ``struct`` is at least this, ``1 - NCC`` after the global
# shift between the 64 px thumbnails found by phase correlation (any distance), over their
# overlap; NaN elsewhere or when they overlap on less than _WIDE_MIN_OVERLAP of the frame.
_WIDE_FROM_STRUCT = 0.15
_WIDE_MIN_OVERLAP = 0.35
# A registered step of at least this many px (of the 64 px thumbnail: 10% of its width) is a
# fast move whose next step may be doubled by a dropped frame (see SignalStream._register).
_MOVE_MIN_PX = 6
# Peaks of the phase correlation tried inside a fast move, and how closely their shift must
# point the move's way (cosine of the angle between them: within ~25 degrees).
_MOVE_PEAKS = 5
_MOVE_MIN_COS = 0.9
# A cut candidate whose ``wide`` is at most this is the same picture moved further than the
# local search reaches (two unrelated shots do not match that well over that much of the frame
# at any shift).
WIDE_MAX_DIST = 0.25
# Part of the picture kept (signal ``same``, for the frames ``wide`` is computed for): a block of
# the 64 px thumbnail's grid (4x3, or 3x4 upright) is kept when it is textured and found in the
# previous frame within +-_SAME_MARGIN px (+-5% of the frame) with NCC >= _SAME_NCC. A cut
# renews nearly every block: of 13,788 true cuts measured in 24 generated sets (tune, tune2,
# tune3, heldout-heldout21) 2 kept 6 of 12 blocks (cuts between two crops of a smooth scene,
# both between still stretches), 4 kept 5, none more.
_SAME_MARGIN = 3
_SAME_NCC = 0.9
# ... and still alike (signal ``alike``, the same frames and blocks) with NCC >= _ALIKE_NCC: the
# picture kept loosely (a hand or an exposure shift over it), where a cut's unrelated picture
# falls below it (only the blocks under a graphic the two shots share stay).
_ALIKE_NCC = 0.5


class WindowField(IntEnum):
    """Window signals, in this order along the last axis of the stored window array (see the
    package docstring)."""

    D = 0
    R = 1
    RB = 2
    BIN = 3
    C = 4
    CHANGED = 5
    SWITCHED = 6
    P = 7
    S = 8


# Wipe thresholds (see the module docstring): mid frame not a mix but blockwise A or B.
WIPE_MIN_R = 0.4
WIPE_MAX_RB = 0.16
WIPE_MAX_BIN = 0.08
# Largest ``P`` of a dissolve window whose middle frame keeps its detail (no dip: moving or
# differently sharp shots), chosen on fixtures.transitions_eval tune2/tune3: stricter than the
# 0.6 allowed with a dip.
UNDIPPED_MAX_PRED = 0.55


class Series:
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

    def put(self, name: str, index: int, value: float) -> None:
        """Overwrite the value of frame ``index`` (counted over all chunks) of ``name``."""
        chunks = self._chunks[name]
        start = sum(c.shape[0] for c in chunks)
        for chunk in reversed(chunks):
            start -= chunk.shape[0]
            if index >= start:
                chunk[index - start] = value
                return
        raise IndexError(f"frame {index} is not in series {name!r}")

    def get(self, name: str, empty_shape: tuple[int, ...] = (0,)) -> np.ndarray:
        chunks = self._chunks.get(name, [])
        return np.concatenate(chunks) if chunks else np.zeros(empty_shape, np.float32)


class SignalStream:
    """Per-frame signals of one clip, computed batch by batch (the streaming stage).

    Besides the signals (:attr:`series`) only a ring of the last ``max(gradual_windows)`` 32 px
    thumbnails is kept, so memory is flat in clip length apart from the signals.

    Parameters
    ----------
    geometry : AnalysisGeometry
        Size and range of the analysis frames.
    params : TransitionParams
        The tunables; stretched to the clip's frame rate once ``_RATE_FRAMES`` timestamps are
        seen (:attr:`params` is then the stretched copy).
    """

    def __init__(self, geometry: AnalysisGeometry, params: TransitionParams) -> None:
        self.params = params
        self.series = Series()
        self.time_base: Fraction | None = None
        self._base_params = params
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
        self._count = 0
        self._prev_thumb: np.ndarray | None = None
        self._prev_small: np.ndarray | None = None
        self._prev_std = 0.0
        self._prev_hist: np.ndarray | None = None
        self._ring = np.zeros((0, sh * sw), np.float32)
        self._ring_std = np.zeros(0, np.float32)
        self._ring_energy = np.zeros(0, np.float32)
        self._diff_tail = np.zeros(0, np.float32)
        self._move: tuple[float, float] | None = None  # the last fast registered step's shift
        self._move_at = 0  # ... and its frame
        # The last unregistered step (frame, thumbnails before and after it): a move may start
        # with it; and the values found for it once the move's next step registered.
        self._unregistered: tuple[int, np.ndarray, np.ndarray] | None = None
        self._late: list[tuple[int, float]] = []

    def _register(self, a: np.ndarray, b: np.ndarray, frame: int) -> float:
        """Signal ``wide`` of ``frame`` (thumbnail ``b``, the previous frame's ``a``): the wide
        registration's distance, or, inside a fast move (a step of at least ``_MOVE_MIN_PX``
        registered at most ``LONGEST_HOLD`` frames before), the move-guided one
        (:func:`_guided_distance`). A fast step right after an unregistered one guides that one
        too, as the move's first step (its value goes to ``_late``). A dropped frame doubles a
        whip pan's step past half the thumbnail, where phase correlation aliases (and the
        blur's own peak at no shift wins; held-out clip 3013, frame 2099: 1.29 found, 0.05 at
        twice the step; clip 46013, frame 364, the first step: 0.70 found, 0.018 at twice the
        next one); on blurred steps the strongest peak may be wrong where a weaker one is right
        (held-out clip 43011, frame 5871: 1.50 at the strongest, 0.015 at the fourth)."""
        dist, shift = _wide_registration(a, b)
        if dist <= WIDE_MAX_DIST:
            if max(abs(shift[0]), abs(shift[1])) >= _MOVE_MIN_PX:
                if self._unregistered is not None and self._unregistered[0] == frame - 1:
                    first, a0, b0 = self._unregistered
                    guided = _guided_distance(a0, b0, shift, float("nan"))
                    if guided <= WIDE_MAX_DIST:
                        self._late.append((first, guided))
                self._move, self._move_at = shift, frame
            return dist
        if self._move is not None and frame - self._move_at <= LONGEST_HOLD:
            dist = _guided_distance(a, b, self._move, dist)
            if dist <= WIDE_MAX_DIST:
                self._move_at = frame  # the move goes on
                return dist
        self._unregistered = (frame, a, b)
        return dist

    def process(self, batch: FrameBatch) -> None:
        """Reduce one batch (frames ``batch.start`` on) to per-frame signals."""
        n = len(batch)
        if n == 0:
            return
        if batch.start != self._count:
            raise ValueError(f"batches must be consecutive: expected start {self._count}, got {batch.start}")
        if self.time_base is None:
            self.time_base = Fraction(batch.time_base)
        if self._rate_pts is not None:
            self._rate_pts = np.concatenate([self._rate_pts, np.asarray(batch.pts, np.int64)])[:_RATE_FRAMES]
            if self._rate_pts.size == _RATE_FRAMES:
                self._set_rate(_pts_fps(self._rate_pts, self.time_base))
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
            if seq_std[j] >= NCC_MIN_STD and seq_std[j + 1] >= NCC_MIN_STD:
                struct[j] = _ncc_distance(sseq[j], sseq[j + 1], _SMALL_MARGIN)
        if first:
            struct[0] = 0.0
        wide = np.full(n, np.nan, np.float32)
        same = np.full(n, np.nan, np.float32)
        alike = np.full(n, np.nan, np.float32)
        for j in np.nonzero(struct >= _WIDE_FROM_STRUCT)[0]:
            wide[j] = self._register(seq[j], seq[j + 1], self._count + int(j))
            same[j], alike[j] = _kept_share(seq[j], seq[j + 1], self._grid)
        prev_hist = hists[0] if self._prev_hist is None else self._prev_hist
        hseq = np.concatenate([prev_hist[None], hists])
        hist = 0.5 * np.abs(hseq[1:] - hseq[:-1]).sum(axis=1)

        self._long_range(small, stds.astype(np.float32), diff.astype(np.float32), detail)

        gx, gy = self._grid
        sh, sw = small.shape[1:]
        bh, bw = sh // gy, sw // gx
        blocks = small[:, : gy * bh, : gx * bw].reshape(n, gy, bh, gx, bw).mean(axis=(2, 4))

        s = self.series
        s.append("pts", np.asarray(batch.pts, np.int64).copy())
        s.append("mean", means.astype(np.float32))
        s.append("std", stds.astype(np.float32))
        s.append("dark", dark.astype(np.float32))
        s.append("bright", bright.astype(np.float32))
        s.append("detail", detail)
        s.append("diff", diff.astype(np.float32))
        s.append("struct", struct)
        s.append("wide", wide)
        s.append("same", same)
        s.append("alike", alike)
        s.append("hist", hist.astype(np.float32))
        s.append("blocks", blocks.reshape(n, gx * gy).astype(np.float32))
        for frame, value in self._late:
            s.put("wide", frame, value)
        self._late.clear()
        self._prev_thumb = thumbs[-1].copy()
        self._prev_small = small[-1].copy()
        self._prev_std = float(stds[-1])
        self._prev_hist = hists[-1].copy()
        self._count += n

    def collect(self) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The per-frame signals (by name), the window signals (frames, windows,
        ``len(WindowField)``) and the flash-test pairs (frames, ``len(BRIDGE_LAGS)``, 2) of the
        frames so far; frees the thumbnail ring."""
        s = self.series
        names = ("pts", "mean", "std", "dark", "bright", "detail", "diff", "struct", "wide", "same", "alike",
                 "hist")
        sig = {k: s.get(k) for k in names}
        gx, gy = self._grid
        sig["blocks"] = s.get("blocks", (0, gx * gy))
        lin = s.get("lin", (0, len(self.params.gradual_windows), len(WindowField)))
        bridge = s.get("bridge", (0, len(BRIDGE_LAGS), 2))
        self._ring = self._ring[:0]
        return sig, lin, bridge

    def _set_rate(self, fps: float) -> None:
        """Stretch the frame spans to ``fps``. Called before frame ``_RATE_FRAMES`` is
        processed, so the windows appended (all longer than that) hold no value yet: the window
        signals computed so far get NaN columns for them."""
        self._rate_pts = None
        p = self._base_params.for_rate(fps)
        extra = len(p.gradual_windows) - len(self.params.gradual_windows)
        self.params = p
        self.series.pad("lin", extra)

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
        p = self.params
        n = small.shape[0]
        sh, sw = small.shape[1:]
        keep = max(max(p.gradual_windows), max(BRIDGE_LAGS))
        x = np.concatenate([self._ring, small.reshape(n, sh * sw)])
        xs = np.concatenate([self._ring_std, stds])
        xe = np.concatenate([self._ring_energy, detail.astype(np.float32) ** 2])
        dx = np.concatenate([self._diff_tail, diff])
        base = self._ring.shape[0]  # x[base + j] is batch frame j
        gidx = self._count + np.arange(n)
        self.series.append("lin", self._window_signals(x, xs, xe, dx, base, gidx))
        self.series.append("bridge", self._flash_pairs(x, xs, dx, base, gidx))
        self._ring = x[-keep:].copy()
        self._ring_std = xs[-keep:].copy()
        self._ring_energy = xe[-keep:].copy()
        self._diff_tail = dx[-keep:].copy()

    def _window_signals(
        self, x: np.ndarray, xs: np.ndarray, xe: np.ndarray, dx: np.ndarray, base: int,
        gidx: np.ndarray,
    ) -> np.ndarray:
        """The window signals (frames, windows, fields) of the batch frames ``gidx``, whose
        thumbnails are rows ``base`` on of ``x`` (their stds ``xs``, detail energies ``xe``;
        ``dx``: frame differences, the batch's the last ``gidx.size``)."""
        p = self.params
        n = gidx.size
        dbase = dx.size - n
        sh, sw = self._small[1], self._small[0]
        gx, gy = self._grid
        bh, bw = sh // gy, sw // gx
        inv_px = np.float32(1.0 / (sh * sw))
        W = WindowField

        def blocks(rows: np.ndarray) -> np.ndarray:
            img = rows.reshape(rows.shape[0], sh, sw)
            return img[:, : gy * bh, : gx * bw].reshape(rows.shape[0], gy, bh, gx, bw)

        lin = np.full((n, len(p.gradual_windows), len(WindowField)), np.nan, np.float32)
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
            out[:, W.D], out[:, W.R] = d, r
            big = d >= p.dissolve_min_diff
            ends = 0.5 * (xe[ia] + xe[ie])
            dip = np.where(ends > 0, xe[im] / np.maximum(ends, 1e-12), 1.0)
            maybe = big & mix_like(r, dip, p)
            # How much better the mean of the ends predicts the middle frame than the nearer end
            # does: a linear mix (a dissolve) leaves ~0 of the nearer end's error, motion ~1.
            # Measured also without the detail dip (see Decider._gradual: a dissolve between
            # moving or differently sharp shots need not dip).
            q = np.nonzero(maybe | (big & (r <= p.dissolve_max_resid)))[0]
            if q.size:
                near = np.minimum(np.abs(ma[q]).sum(axis=1), np.abs(ma[q] - ea[q]).sum(axis=1)) * inv_px
                out[q, W.P] = r[q] * dd[q] / np.maximum(near, 1e-4)
                maybe[q[out[q, W.P] <= UNDIPPED_MAX_PRED]] = True
            wipe_rows = np.nonzero(big & (r >= WIPE_MIN_R))[0] if p.detect_wipes else np.zeros(0, np.int64)
            if wipe_rows.size:
                bea, bma = blocks(ea[wipe_rows]), blocks(ma[wipe_rows])
                num = (bma * bea).sum(axis=(2, 4))
                den = (bea * bea).sum(axis=(2, 4)) + 1e-6
                alpha = np.clip(num / den, 0.0, 1.0)
                rb = np.abs(bma - alpha[:, :, None, :, None] * bea).mean(axis=(1, 2, 3, 4)) / dd[wipe_rows]
                wsum = den.sum(axis=(1, 2))
                out[wipe_rows, W.RB] = rb
                out[wipe_rows, W.BIN] = (np.minimum(alpha, 1.0 - alpha) * den).sum(axis=(1, 2)) / wsum
                block_d = np.abs(bea).mean(axis=(2, 4))
                out[wipe_rows, W.CHANGED] = (block_d >= 0.5 * d[wipe_rows, None, None]).mean(axis=(1, 2))
                out[wipe_rows, W.SWITCHED] = ((alpha > 0.5) * den).sum(axis=(1, 2)) / wsum
                maybe[wipe_rows[wipe_like(out[wipe_rows])]] = True
            # NCC of the ends (the costliest signal) only where the window could be a dissolve
            # or a wipe (``C``), or where its ends may show one picture across a spike between
            # them (``S``: an object passing the lens, for the return test's windows).
            spanning = (_spans_spike(dx, dbase + js, win, d, p.cut_min_diff)
                        if win <= longest_return_span(p.return_span) else np.zeros(js.size, bool))
            for q in np.nonzero(maybe | spanning)[0]:
                if xs[ie[q]] >= NCC_MIN_STD and xs[ia[q]] >= NCC_MIN_STD:
                    dist = _ncc_distance(
                        x[ia[q]].reshape(sh, sw), x[ie[q]].reshape(sh, sw), _SMALL_MARGIN
                    )
                    if maybe[q]:
                        out[q, W.C] = dist
                    if spanning[q]:
                        out[q, W.S] = dist
            lin[js, li] = out
        return lin


    def _flash_pairs(
        self, x: np.ndarray, xs: np.ndarray, dx: np.ndarray, base: int, gidx: np.ndarray
    ) -> np.ndarray:
        """Flash-test pairs (frames, lags, (mean absolute difference, 1 - NCC)) of the batch
        frames ``gidx`` (``dx``: frame differences, the batch's the last ``gidx.size``)."""
        p = self.params
        n = gidx.size
        sh, sw = self._small[1], self._small[0]
        inv_px = np.float32(1.0 / (sh * sw))
        dbase = dx.size - n
        # Flash test pairs: frame c - 1 against c + k - 1 (lag k), NCC only where the candidate
        # frame c is a luminance spike and the pair looks alike.
        bridge = np.full((n, len(BRIDGE_LAGS), 2), np.nan, np.float32)
        for ki, lag in enumerate(BRIDGE_LAGS):
            js = np.nonzero(gidx >= lag)[0]
            if js.size == 0:
                continue
            ie, ia = base + js, base + js - lag
            mae = np.abs(_rows(x, ie) - _rows(x, ia)).sum(axis=1) * inv_px
            bridge[js, ki, 0] = mae
            spike = dx[dbase + js - lag + 1]  # diff at the candidate frame c = j - lag + 1
            for q in np.nonzero((spike >= p.cut_min_diff) & (mae <= 0.75 * spike))[0]:
                if xs[ie[q]] >= NCC_MIN_STD and xs[ia[q]] >= NCC_MIN_STD:
                    bridge[js[q], ki, 1] = _ncc_distance(
                        x[ia[q]].reshape(sh, sw), x[ie[q]].reshape(sh, sw), _SMALL_MARGIN
                    )
                elif mae[q] < 0.02:
                    bridge[js[q], ki, 1] = 0.0  # two flat frames of one level are alike
        return bridge


def _spans_spike(dx: np.ndarray, ends: np.ndarray, win: int, d: np.ndarray,
                 floor: float) -> np.ndarray:
    """Which windows of ``win`` frames ending at rows ``ends`` of the frame differences ``dx``
    hold a change of at least ``floor`` larger than their ends' distance ``d`` (rows
    ``end - win + 1 .. end``: the changes into the window's frames after its first): the pairs
    the return test may find one picture in across a spike (an object crossing the lens)."""
    if ends.size == 0:
        return np.zeros(0, bool)
    # Row k of the windows is dx[k - win : k] (zeros before the clip's first frame).
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(np.nan_to_num(dx), (win, 0)), win)
    peak = windows[ends + 1].max(axis=1)
    return (peak >= floor) & (peak > d)


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


def _wide_registration(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple[float, float]]:
    """``1 - NCC`` of ``b`` against ``a`` after the global shift phase correlation finds between
    them (:func:`_shifted_ncc_distance`), and that shift ``(dx, dy)`` in px (subpixel)."""
    # (phaseCorrelate applies its window to its inputs in place: give it copies.)
    (dx, dy), _resp = cv2.phaseCorrelate(a.copy(), b.copy(), _hann(a.shape))
    return _shifted_ncc_distance(a, b, (round(dx), round(dy))), (dx, dy)


def _guided_distance(a: np.ndarray, b: np.ndarray, move: tuple[float, float], found: float) -> float:
    """The smallest of ``found`` and the distances (+-2 px) of ``b`` against ``a`` at a fast
    move's step ``move``, twice it, and the shifts of phase correlation's ``_MOVE_PEAKS``
    strongest peaks (or their aliases across the thumbnail) that point the move's way."""
    dx, dy = move
    tries = [(round(k * dx), round(k * dy)) for k in (1, 2)]
    tries += [shift for shift in _peak_shifts(a, b, _MOVE_PEAKS) if _along(move, shift)]
    dists = [found, *(_shifted_ncc_distance(a, b, shift, 2) for shift in tries)]
    return min((d for d in dists if np.isfinite(d)), default=float("nan"))


def _peak_shifts(a: np.ndarray, b: np.ndarray, count: int) -> list[tuple[int, int]]:
    """The shifts ``(sx, sy)`` (``b(x, y) ~ a(x - sx, y - sy)``) of the ``count`` strongest
    peaks of the phase correlation of ``a`` and ``b`` (Hann-windowed, as ``cv2.phaseCorrelate``),
    each also as its alias across the frame's width."""
    h, w = a.shape
    win = _hann(a.shape)
    cross = np.conj(np.fft.rfft2(a * win)) * np.fft.rfft2(b * win)
    surface = np.fft.irfft2(cross / (np.abs(cross) + 1e-9), s=a.shape)
    out: list[tuple[int, int]] = []
    for k in np.argsort(surface.ravel())[::-1][:count]:
        y, x = divmod(int(k), w)
        sx, sy = (x if x <= w // 2 else x - w), (y if y <= h // 2 else y - h)
        out += [(sx, sy), (sx - w if sx > 0 else sx + w, sy)]
    return out


def _along(move: tuple[float, float], shift: tuple[int, int]) -> bool:
    """Whether ``shift`` points the way of ``move`` (the cosine of the angle between them at
    least ``_MOVE_MIN_COS``) and is a fast step itself (at least ``_MOVE_MIN_PX``)."""
    norm = float(np.hypot(*move)) * float(np.hypot(*shift))
    return (max(abs(shift[0]), abs(shift[1])) >= _MOVE_MIN_PX and norm > 0
            and (move[0] * shift[0] + move[1] * shift[1]) >= _MOVE_MIN_COS * norm)


def _shifted_ncc_distance(a: np.ndarray, b: np.ndarray, shift: tuple[int, int], margin: int = 1) -> float:
    """``1 - NCC`` of ``b`` against ``a`` moved by ``shift`` (``b(x, y) ~ a(x - sx, y - sy)``,
    +-``margin`` px around it), over their overlap; NaN when the shift leaves less than
    ``_WIDE_MIN_OVERLAP`` of the frame in common or the overlap is too flat."""
    h, w = a.shape
    sx, sy = shift
    ow, oh = w - abs(sx), h - abs(sy)
    if ow * oh < _WIDE_MIN_OVERLAP * w * h or ow < 4 or oh < 4:
        return float("nan")
    # The overlap in a's and in b's coordinates.
    ax, ay = max(0, -sx), max(0, -sy)
    bx, by = max(0, sx), max(0, sy)
    if float(b[by + 1 : by + oh - 1, bx + 1 : bx + ow - 1].std()) < NCC_MIN_STD:
        return float("nan")
    return _ncc_distance(a[ay : ay + oh, ax : ax + ow], b[by : by + oh, bx : bx + ow], margin)


def _kept_share(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> tuple[float, float]:
    """Shares of the ``grid`` blocks of ``b`` (all of them, flat ones counting as renewed) that
    are textured and found in ``a`` within +-``_SAME_MARGIN`` px with NCC >= ``_SAME_NCC``
    (kept), and with NCC >= ``_ALIKE_NCC`` (alike)."""
    h, w = b.shape
    gx, gy = grid
    bh, bw = h // gy, w // gx
    kept = alike = 0
    for y0 in range(0, gy * bh, bh):
        for x0 in range(0, gx * bw, bw):
            block = b[y0 : y0 + bh, x0 : x0 + bw]
            if float(block.std()) < NCC_MIN_STD:
                continue
            area = a[max(0, y0 - _SAME_MARGIN) : y0 + bh + _SAME_MARGIN,
                     max(0, x0 - _SAME_MARGIN) : x0 + bw + _SAME_MARGIN]
            best = float(cv2.matchTemplate(area, block, cv2.TM_CCOEFF_NORMED).max())
            kept += best >= _SAME_NCC
            alike += best >= _ALIKE_NCC
    return kept / (gx * gy), alike / (gx * gy)


@functools.lru_cache(maxsize=4)
def _hann(shape: tuple[int, int]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)


def mix_like(r: np.ndarray, dip: np.ndarray, p: TransitionParams) -> np.ndarray:
    """Windows whose middle frame looks like the mean of its ends: residual ``r`` up to
    ``dissolve_max_resid`` with a detail dip, or up to 1.2x that when the dip is deep (< 0.6:
    the middle frame lost 40% of its detail energy, the signature of two uncorrelated images
    averaged, which moving shots blur less than a dissolve does)."""
    return ((r <= p.dissolve_max_resid) & (dip <= p.dissolve_max_dip)) | (
        (r <= 1.2 * p.dissolve_max_resid) & (dip <= 0.6)
    )


def wipe_like(f: np.ndarray) -> np.ndarray:
    """Rows of window signals (..., len(WindowField)) whose middle frame is, block by block, the
    first or the last image (a wipe's moving edge), over a frame that changes everywhere and is
    partly switched; NaN fields (not computed) fail."""
    with np.errstate(invalid="ignore"):
        return (
            (f[:, WindowField.R] >= WIPE_MIN_R)
            & (f[:, WindowField.RB] <= WIPE_MAX_RB)
            & (f[:, WindowField.BIN] <= WIPE_MAX_BIN)
            & (f[:, WindowField.CHANGED] >= 0.85)
            & (f[:, WindowField.SWITCHED] >= 0.2)
            & (f[:, WindowField.SWITCHED] <= 0.8)
        )

