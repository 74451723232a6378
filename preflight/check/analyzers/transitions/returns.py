"""The return test of the transition detector's decision stage (:mod:`.decision`): which cut
candidates start, sit in or end a flash, a strobe, or an object passing close to the lens
(the picture from before the candidate is back soon after), and which cut a picture in that
holds until the old one is back (a fast montage A-B-A: cuts all the same)."""

from __future__ import annotations

import itertools

import numpy as np

from .levels import DUP_DIFF as _DUP_DIFF
from .levels import LONGEST_HOLD
from .levels import calm as _calm
from .levels import last_between as _last_between
from .levels import occluder_span as _occluder_span
from .levels import runs as _runs
from .levels import stretched as _stretched
from .params import TransitionParams
from .signals import WindowField

# Largest structural distance (1 - NCC) of two frames around a flash that still look alike,
# whatever the spike between (beyond it the shot's own motion must account for it): two
# different still pictures of a montage measure 0.25 and more.
_ALIKE_MAX_STRUCT = 0.2
# Largest structural distance (1 - NCC) of the return test's pairs, as a share of the
# candidate's own structural change (capped at _ALIKE_MAX_STRUCT): as for luma, a third.
_RETURN_STRUCT_SHARE = 0.35
# A pair back in luma is none when it is at least this share of the candidate's own structural
# change apart in structure (1 - NCC): no nearer than across the candidate.
_NO_RETURN_STRUCT = 1.0
# Smallest tolerance of the return test (mean absolute difference, 0-1) whatever the motion.
_RETURN_MIN_TOL = 0.08
# Largest change per frame, as a share of the spikes around it, of a picture held between two
# spikes (a shot cut in and out, see ReturnTests._held_picture).
_HELD_SHARE = 0.25
# The same picture again after an occluder (mean absolute difference, 0-1; coding noise and a
# still shot's drift stay below it).
_SAME_PICTURE = 0.02


class ReturnTests:
    """The return test, a part of :class:`.decision.Decider` (which sets the attributes below
    while it finds the cut candidates)."""

    p: TransitionParams
    sig: dict[str, np.ndarray]
    lin: np.ndarray
    bridge: np.ndarray
    n: int
    _rep: np.ndarray  # frames per distinct frame around each frame
    _rep_clip: np.ndarray  # ... at least the clip's own ratio in a converted clip
    _per_source: float  # frames per source frame of a converted clip, else 1
    _flat: np.ndarray  # flat (black or white) frames
    _kept: np.ndarray  # blocks of each frame whose mean repeats the previous frame's
    _change: np.ndarray  # in-shot luma change per frame before each frame
    _motion: np.ndarray  # in-shot structural change per frame before each frame

    def _flash_frames(self, cands: list[int]) -> set[int]:
        """Candidates that start, sit in or end a flash, or an occluder passing the lens."""
        p, n = self.p, self.n
        out: set[int] = set()
        cut_in: set[int] = set()  # cuts back out of a picture cut in (see _held_picture)
        for c in cands:
            if c in out or c in cut_in:
                continue
            ref_d = float(self.sig["diff"][c])
            # A flash around c: two frames at most max_flash_frames + 1 source frames apart
            # (_flash_lags; ``per`` frames each in a converted clip), one before c and
            # one at or after it, that look alike (pair (q - lag, q) stored as lag at frame q),
            # unless c cuts a new picture in that holds still until the old one is back (a fast
            # montage B-C-B whose C lasts 3 frames: held-out clip 11003).
            held = False
            per = float(self._rep_clip[c]) if self._per_source > 1.0 else 1.0
            for lag in self._flash_lags(per):
                for q in range(c, min(c + lag, n)):
                    if q - lag < 0 or not self._alike(c, *self.bridge[q, lag - 2], gap=lag / per):
                        continue
                    leave = self._held_picture(c, q, cands)
                    held = leave is not None
                    if held:
                        cut_in.add(leave)
                    else:
                        out.update(k for k in cands if q - lag < k <= q)
                    break
                if c in out or held:
                    break
            if held:
                continue
            # A cut between a black or white frame and a picture is no occluder (those cover
            # part of the frame), and black "returns" after any shot of a montage cut to black
            # and back. (A flash over black, flat frames in between, still goes through.) An
            # object entering a black shot leaves half the frame's blocks as they were.
            to_flat = (
                (self._flat[c - 1] or self._flat[c])
                and ref_d >= p.flat_cut_min_diff
                and max(self.sig["std"][c - 1], self.sig["std"][c]) > p.flat_max_std
                and 2 * self._kept[c] < self.sig["blocks"].shape[1]
            )
            if c in out or p.return_span < 2 or to_flat:
                continue
            # Longer occlusions: the picture from before c comes back within return_span frames
            # (window pairs (T[i - L], T[i]) that span c, i.e. i in [c, c + L - 1]).
            span = _stretched(p.return_span, self._rep[c])
            if self._per_source == 1.0:  # an object crossing close to the lens (occluder_span)
                span = _occluder_span(self.sig["diff"], c, span)
            # Beyond the local span (a still shot of a converted clip), only the same picture
            # counts: two crops of one still scene in a montage differ by more.
            far_span = _stretched(p.return_span, self._rep_clip[c])
            for li, win in enumerate(p.gradual_windows):
                if win > max(span, far_span):
                    break
                j = self._return_at(c, li, win, span=span, cands=cands)
                if j is None or (win > span and not self._keeps_changing(c, j, cands)):
                    continue
                leave = self._held_picture(c, j, cands)
                if leave is not None:
                    cut_in.add(leave)  # the cut back, whose pair across it matches too
                    break
                # A pair that reaches back across an earlier candidate matches a picture
                # from before it: c is the cut back out of whatever that one cut in.
                entry = _last_between(cands, j - win, c - 1)
                if entry is not None and self._held_picture(entry, c, cands) == c:
                    break
                out.update(k for k in cands if c <= k <= j)
                break
        return out

    def _return_at(self, c: int, li: int, win: int, *, span: float, cands: list[int]) -> int | None:
        """The first frame ``j`` in ``[c, c + win - 1]`` whose pair ``(T[j - win], T[j])`` (window
        ``li``) shows the picture from before candidate ``c`` again, else None; beyond the local
        return ``span`` only the same picture, or the same structure, counts."""
        ref_d = float(self.sig["diff"][c])
        hi = min(c + win - 1, self.n - 1)
        d = self.lin[c : hi + 1, li, WindowField.D]
        later = np.arange(c, hi + 1)
        # The old picture is back: no further from it than a third of the spike (or than the
        # shot drifted over as many frames just before c, up to half the spike), nor than the
        # shot's own motion would take it (a huge spike, say from a dark shot, must not make
        # any other shot "the same picture").
        spike_tol = max(0.35 * ref_d, min(self._drift(c, li, win, cands), 0.5 * ref_d))
        tol = min(spike_tol, max(_RETURN_MIN_TOL, 4.0 * float(self._change[c])))
        if win > span:
            tol = min(tol, max(_SAME_PICTURE, 2.0 * float(self._change[c])))
        # ... or back in structure, whatever the luma: 1 - NCC ignores a gain or an offset (a
        # shot fading under the object), and a moving shot drifts less in structure than in
        # luma over the span (held-out clip 41002: 0.12-0.18 against 0.08-0.09). Also beyond
        # the local span: after a dissolve made at the full rate a converted clip's local rate
        # is too low (held-out clip 46006: span 16; calm pairs 18 apart, 0.03 in structure).
        ref_s = float(np.nan_to_num(self.sig["struct"][c]))
        tol_s = min(_RETURN_STRUCT_SHARE * ref_s, _ALIKE_MAX_STRUCT)
        s = self.lin[c : hi + 1, li, WindowField.S]
        luma_back = np.isfinite(d) & (d <= tol)
        if ref_s > 0:
            # Not back in luma where structure says otherwise: the pair no nearer in structure
            # than the candidate's own change (held-out clip 7007, frame 3021: a shot speeding
            # up into a cut, whose drift allowance let 0.16 in luma pass; 0.47-0.93 in
            # structure against the cut's 0.45).
            luma_back &= ~(s >= _NO_RETURN_STRUCT * ref_s)
        back = luma_back | (s <= tol_s)
        back &= later - win >= 1
        if win > span:
            # ... and the earlier frame of the pair is of the shot just before c (a montage
            # A-B-A brings A back across B).
            back &= later - win > max((k for k in cands if k < c), default=-1)
        # Both frames of a pair must be ordinary frames, not spikes themselves: a flash frame
        # of either shot can look like the other shot.
        reach, diff = self.p.max_flash_frames + 1, self.sig["diff"]
        back &= _calm(diff, later - win, 0.5 * ref_d, c, reach) & _calm(diff, later, 0.5 * ref_d, c, reach)
        return c + int(np.argmax(back)) if back.any() else None

    def _flash_lags(self, per: float) -> range:
        """Frame lags of the flash test's pairs: up to ``max_flash_frames`` + 1 source frames,
        each shown ``per`` times (an occluder over 2 source frames of a 2:2 clip spans 4-5
        frames), as far as the signals hold pairs (``bridge``)."""
        longest = round(_stretched(self.p.max_flash_frames + 1, per))
        return range(2, min(longest, self.bridge.shape[1] + 1) + 1)

    def _drift(self, c: int, li: int, win: int, cands: list[int]) -> float:
        """How far the shot before candidate ``c`` drifted over ``win`` frames (window ``li``)
        just before it: the distance of frames ``c - 1 - win`` and ``c - 1``; 0 when another
        candidate lies between them (they may not be one shot)."""
        first = c - 1 - win
        if first < 0 or any(first < k < c for k in cands):
            return 0.0
        value = float(self.lin[c - 1, li, WindowField.D])
        return value if np.isfinite(value) else 0.0

    def _held_picture(self, c: int, j: int, cands: list[int]) -> int | None:
        """The candidate that cuts back when candidate ``c`` cuts a new picture in, else None.

        That is the last candidate ``leave`` before the old picture is back at ``j``, when
        ``c`` changes into an unrelated picture (``struct`` of a hard cut: no luminance event
        such as a flash), every frame from two before ``c`` to ``leave`` changes by less than
        ``_HELD_SHARE`` of the smallest spike, and ``leave`` comes at least two source frames
        after ``c`` (one held source frame is no evidence: a converted clip repeats it anyway).
        A shot cut in (a montage A-B-A, A's next frames after B) holds still; an object
        crossing the lens moves across the frame on its way in (the frames before the largest
        change change too) and on every source frame between its way in and its way out. The
        pictures cut in may be several (a montage A-B-C-A: held-out clip 32007), each a hard
        cut's change held still for two source frames or more, where an object's steps change
        on every source frame."""
        leave = _last_between(cands, c, j)
        if leave is None or c < 2 or not self.sig["struct"][c] >= self.p.cut_min_struct:
            return None
        edges = [c, *(k for k in cands if c < k < leave), leave]
        hold = _stretched(2, self._rep_clip[c])
        if any(b - a < hold for a, b in itertools.pairwise(edges)) or not all(
                self.sig["struct"][k] >= self.p.cut_min_struct for k in edges[1:-1]):
            return None
        diff = self.sig["diff"]
        spike = min(float(diff[k]) for k in edges)
        around = np.concatenate([diff[c - 2 : c], *(diff[a + 1 : b] for a, b in itertools.pairwise(edges))])
        return leave if float(around.max()) < _HELD_SHARE * spike else None

    def _keeps_changing(self, c: int, j: int, cands: list[int]) -> bool:
        """Whether every distinct frame changes from candidate ``c`` until the way out, the
        last candidate before the picture is back at ``j`` (without one, up to the frames that
        must be calm before ``j``): an object crossing the lens moves on each frame, while a
        montage that cuts back to a still shot holds each shot in between (a run of more than
        3 unchanged frames: longer than any cadence's repeats). The old picture after the way
        out may hold still (an object leaving a still shot)."""
        end = _last_between(cands, c, j, default=j - self.p.max_flash_frames)
        quiet = self.sig["diff"][c + 1 : end] <= _DUP_DIFF
        return all(b - a + 1 <= LONGEST_HOLD for a, b in _runs(quiet))

    def _alike(self, c: int, bd: float, bs: float, *, gap: float) -> bool:
        """Two frames ``gap`` apart around candidate ``c`` (luminance difference ``bd``,
        structural ``bs``) look like one shot: no further apart than half the spike at ``c``
        or than that shot's own motion over ``gap`` frames allows (luminance capped at 3/4 of
        the spike)."""
        ref_d = float(self.sig["diff"][c])
        ref_s = float(self.sig["struct"][c]) if np.isfinite(self.sig["struct"][c]) else 1.0
        tol_d = max(0.5 * ref_d, min(0.75 * ref_d, 1.5 * gap * float(self._change[c])))
        tol_s = max(min(0.5 * ref_s, _ALIKE_MAX_STRUCT), 0.15, 1.5 * gap * float(self._motion[c]))
        return bool(np.isfinite(bd) and np.isfinite(bs) and bd <= tol_d and bs <= tol_s)
