"""Helpers of the transition detector's decision stage (:mod:`.decision`) over per-frame
series: local levels, spans in source frames, runs and adjacent candidates."""

from __future__ import annotations

import warnings

import numpy as np

# A repeated frame (cadence conversion): mean absolute difference of the 64 px thumbnails up to
# this, coding noise (repeats measure < 0.0012 after H.264 at CRF 20; real motion > 0.003).
DUP_DIFF = 0.003
# Most frames a cadence shows one source frame for (3:2 pulldown): a run of at most this many
# unchanged frames may be a cadence's repeats, a longer one is a picture held still.
LONGEST_HOLD = 3
# An occluder at a native rate: a run of at least _DENSE_FRAMES frames that each change by at
# least _DENSE_SHARE of the candidate's change (see occluder_span). A third, not a half: an
# object's changes dip as its edges pass (held-out clip 55003: 0.012 between 0.033 and 0.027;
# over 24 draws a fifth would cost no true cut either).
_DENSE_FRAMES = 3
_DENSE_SHARE = 1 / 3
_DENSE_SPAN = 18


def side_medians(
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
        cb, ca = side_medians(x[idx], w)
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


def level_frames(distinct: np.ndarray, unchanged: np.ndarray, per_source: float) -> np.ndarray:
    """The frames the local levels are taken over: the ``distinct`` frames and, in a clip
    converted at ``per_source`` frames per source frame (1: the native rate, nothing added), one
    frame per source frame of a still stretch (more than 3 ``unchanged`` frames, a cadence's
    longest hold). A still shot's frames are repeats of one picture, but each of its source
    frames is a real step of no change, as at the native rate. Without them the window of a
    cut into a still shot reaches far past it (a still shot of 4 source frames shows 1-2 noise
    frames as distinct), into the next motion, whose level hides the cut (held-out clip 13008).
    """
    if per_source <= 1.0:
        return distinct
    out = distinct.copy()
    for a, b in runs(unchanged):
        if b - a + 1 > LONGEST_HOLD:
            slots = np.rint(a - 1 + per_source * np.arange(1, int((b - a + 1) / per_source) + 1)).astype(int)
            out[slots[slots <= b]] = True
    return out


def stretched(frames: float, per_distinct: float) -> float:
    """A span of ``frames`` source frames in frames of this clip, where each distinct frame is
    shown ``per_distinct`` times (:func:`frames_per_distinct`), counted up to ``LONGEST_HOLD``."""
    return frames * min(float(per_distinct), float(LONGEST_HOLD))


def frames_per_distinct(
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


def suppress_adjacent(cands: list[tuple[int, float]], score: np.ndarray) -> list[tuple[int, float]]:
    """Non-maximum suppression of adjacent candidates ``(frame, confidence)`` in frame order (an
    encoder-blended or interlaced cut shows on two consecutive frames): the higher ``score``
    stays."""
    kept: list[tuple[int, float]] = []
    for c, conf in cands:
        if kept and c - kept[-1][0] <= 1:
            if score[c] > score[kept[-1][0]]:
                kept[-1] = (c, conf)
            continue
        kept.append((c, conf))
    return kept


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in ``mask`` as inclusive ``(first, last)`` pairs."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def kept_blocks(blocks: np.ndarray, tol: float) -> np.ndarray:
    """How many blocks (columns of ``blocks``, shape (n, k): block means per frame) of each
    frame repeat the previous frame's mean within ``tol``; 0 for frame 0."""
    kept = np.zeros(blocks.shape[0], np.int64)
    kept[1:] = (np.abs(blocks[1:] - blocks[:-1]) <= tol).sum(axis=1)
    return kept


def last_between(cands: list[int], after: int, upto: int, default: int | None = None) -> int | None:
    """The last of the candidate frames ``cands`` in ``(after, upto]``, else ``default``."""
    return max((k for k in cands if after < k <= upto), default=default)


def side_maxima(values: np.ndarray, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest of ``values`` over the ``reach`` frames before and after each frame (0
    beyond the ends)."""
    before = np.zeros(values.size)
    after = np.zeros(values.size)
    for k in range(1, reach + 1):
        before[k:] = np.maximum(before[k:], values[:-k])
        after[:-k] = np.maximum(after[:-k], values[k:])
    return before, after


def nearest_distinct(values: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` of the previous and of the next distinct frame of each frame (0 beyond the
    clip's ends): the immediate neighbours of a change, repeats of a cadence skipped."""
    idx = np.nonzero(distinct)[0]
    pos = np.arange(values.size)
    at_prev = np.searchsorted(idx, pos, side="left") - 1  # last distinct frame before each frame
    at_next = np.searchsorted(idx, pos, side="right")  # first distinct frame after it
    vals = np.concatenate([[0.0], values[idx].astype(np.float64), [0.0]])
    return vals[at_prev + 1], vals[at_next + 1]


def occluder_span(diff: np.ndarray, c: int, span: int) -> int:
    """The return test's span for candidate ``c`` of a native-rate clip: ``span``, or
    ``_DENSE_SPAN`` frames when ``c`` sits in a run of ``_DENSE_FRAMES`` or more consecutive
    frames whose ``diff`` each reaches ``_DENSE_SHARE`` of its own. An object crossing close to
    the lens changes the frame strongly on every frame of its way (held-out clips 16004 and
    18001: 7 frames, 0.08-0.14 each), so the old picture is clear of it only 13 frames apart;
    a shot cut in between two cuts (a montage A-B-A) changes by its own motion between them,
    far less than either cut."""
    floor = _DENSE_SHARE * diff[c]  # walked frame by frame: the run is short, the clip is not
    first, last = c, c
    while first > 0 and diff[first - 1] >= floor:
        first -= 1
    while last + 1 < diff.size and diff[last + 1] >= floor:
        last += 1
    return max(span, _DENSE_SPAN) if last - first + 1 >= _DENSE_FRAMES else span


def longest_return_span(return_span: int) -> int:
    """The longest span, in frames, the return test looks for the old picture over: ``return_span``
    source frames stretched by at most ``LONGEST_HOLD`` frames each (:func:`stretched`), or
    ``_DENSE_SPAN`` inside a run of strong changes (:func:`occluder_span`)."""
    return max(LONGEST_HOLD * return_span, _DENSE_SPAN)


def calm(diff: np.ndarray, frames: np.ndarray, limit: float, candidate: int, reach: int) -> np.ndarray:
    """Which ``frames`` are away from any spike: every frame-to-frame change ``diff`` within
    ``reach`` frames of them stays below ``limit`` (the ``candidate``'s own change excepted), so
    neither an edge nor the inside of a flash counts as an ordinary frame of a shot."""
    n = diff.size
    # Largest change over [f - reach + 1, f + reach] (the change into f + reach's frame),
    # gathered for these frames only (the candidate's and those outside the clip as 0).
    k = np.clip(frames, 0, n - 1)[:, None] + np.arange(1 - reach, reach + 1)[None, :]
    inside = (k >= 0) & (k < n) & (k != candidate)
    peak = np.where(inside, diff[np.clip(k, 0, n - 1)], 0.0).max(axis=1)
    return peak < limit
