"""Decision stage of the transition detector: per-frame signals in, transitions out.

Cuts, repeated frames, motion, flashes, fades, dissolves and wipes are decided on the whole
series of per-frame signals (:mod:`.signals`), so every test can look both ways in time. The
rules and their references: the package docstring; gradual extents are fitted in :mod:`.fitting`.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .fitting import fade_extent, inner_fade, mix_extent
from .levels import DUP_DIFF as _DUP_DIFF
from .levels import LONGEST_HOLD
from .levels import frames_per_distinct as _frames_per_distinct
from .levels import kept_blocks as _kept_blocks
from .levels import level_frames as _level_frames
from .levels import nearest_distinct as _nearest_distinct
from .levels import runs as _runs
from .levels import side_medians as _side_medians
from .levels import stretched as _stretched
from .levels import suppress_adjacent as _suppress_adjacent
from .motion import in_motion, moved_far, partly_kept, photometric_jump
from .params import TransitionParams
from .returns import ReturnTests
from .signals import (
    NCC_MIN_STD,
    UNDIPPED_MAX_PRED,
    WIDE_MAX_DIST,
    WIPE_MAX_RB,
    WindowField,
    mix_like,
    wipe_like,
)

# Structural level (1 - NCC) of a still shot (coding noise), and the smallest structural change
# that makes a cut between two still pictures (two crops of one photograph measure >= 0.06).
_STILL_STRUCT = 0.01
_STILL_CUT_STRUCT = 0.05
# A luminance event (flash, strobe frame): histogram distance >= hist_cut_min, structure below.
_LUM_EVENT_STRUCT = 0.1
# Runs of repeated frames in a row that make a cadence (see Decider._distinct).
_CADENCE_RUNS = 4
# Blocks (of the 4 x 3 grid of ``blocks``) whose mean repeats that make a change no new picture
# (an object over part of a still shot; a cut leaves at most one by chance).
_KEPT_BLOCKS = 2
# A change this many times its immediate distinct neighbours' (both sides) is isolated: a cut.
_ISOLATED = 8.0
# A flat frame: this share of its pixels within 0.1 of black (or white).
_FLAT_SHARE = 0.9
# Largest error of the ends' mean as a predictor of a dissolve window's middle frame, relative
# to the nearer end's (field ``P``): a linear mix is predicted by the mean far better than by
# either end; motion is not.
_DISSOLVE_MAX_PRED = 0.6
# A dissolve window without a detail dip (moving or differently sharp shots: the middle frame
# keeps its detail) needs stronger evidence instead: ends clearly unrelated (``C`` at least
# this)...
_UNDIPPED_MIN_STRUCT = 0.5
# ...and a change that accumulated gradually: the frame-to-frame ``diff`` summed over the window
# at most this multiple of its end-to-end ``D`` (a linear mix of still shots gives 1, slow
# motion during it ~2; a pan or a whip pan travels much further than it ends up: 8 and more).
_UNDIPPED_MAX_PATH = 3.0


Found = tuple[str, int, int, float, "str | None"]


class Decider(ReturnTests):
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
        self.fade_cuts: set[int] = set()  # frames next to a flat run that its fades own

    @cached_property
    def _registered(self) -> np.ndarray:
        """Frames the wide registration matches to the previous frame moved (NaN: False)."""
        with np.errstate(invalid="ignore"):
            return self.sig["wide"] <= WIDE_MAX_DIST

    @cached_property
    def _unmeasured(self) -> np.ndarray:
        """Frames the wide registration tried (``same`` measured) but could not measure (too
        flat where the shifted frames overlap: ``wide`` NaN)."""
        same = self.sig.get("same", np.full(self.n, np.nan))
        return np.isnan(self.sig["wide"]) & np.isfinite(same)

    @cached_property
    def _between_uniform(self) -> np.ndarray:
        """Frames whose change is one between two uniform frames (thumbnail std below the NCC
        floor on both sides: no picture on either, as in a strobe over black)."""
        uniform = self.sig["std"] < NCC_MIN_STD
        return uniform & np.concatenate([[False], uniform[:-1]])

    @cached_property
    def _kept(self) -> np.ndarray:
        """Blocks of each frame whose mean repeats the previous frame's (:func:`.levels.kept_blocks`)."""
        return _kept_blocks(self.sig["blocks"], _DUP_DIFF)

    def run(self) -> list[Found]:
        if self.n < 2:
            return []
        flat, via = self._flat_frames()
        cuts = self._cuts(flat)
        fades = self._fades(flat, via, cuts)
        busy = flat.copy()  # frames owned by a fade or a flat run
        for _kind, a, b, _c, _v in fades:
            busy[a : b + 1] = True
        # A cut strictly inside a fade is the fade's own steepest step, not a shot change, and
        # so is one between a fade and its flat run.
        cuts = [(c, conf) for c, conf in cuts if c not in self.fade_cuts
                and not any(a < c <= b for _k, a, b, _c, _v in fades)]
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
        for a, b in self._join_dim_gaps(runs, via, is_cut):
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
            # A cut next to the flat run may be the fade's first step (see fade_extent).
            fade_out = fade_in = None
            if a - 1 >= 0 and not flat[a - 1]:
                fade_out = fade_extent(amp, lo, a - 1, (a, b), -1, min_frames=p.min_fade_frames,
                                       through_cut=bool(is_cut[a]))
            if b + 1 < n and not flat[b + 1]:
                fade_in = fade_extent(amp, b + 1, hi, (a, b), 1, min_frames=p.min_fade_frames,
                                      through_cut=bool(is_cut[b + 1]))
            # A shot too dark to leave the flat share fades out of or into the run's dead core.
            kw = {"min_frames": 3 * p.min_fade_frames, "max_frames": p.max_fade_frames}
            fade_out = fade_out or (None if is_cut[a] else inner_fade(mean, std, (a, b), -1, **kw))
            fade_in = fade_in or (None if is_cut[b + 1] else inner_fade(mean, std, (a, b), 1, **kw))
            # A flat run is left by a fade-in, a cut or the clip's end, and entered by a fade-out,
            # a cut or the clip's start: a "fade" into one white frame after which the same
            # picture pops back is a flash over a brightening shot. A run longer than a flash
            # (max_flash_frames source frames) whose frames are mostly too uniform to hold a
            # structure (NCC undefined) is a flat period whatever ends it (a fade into a shot
            # too dark to measure, an object entering it); a dim or bright shot that moves
            # within the flat share is not.
            held = (b - a + 1 > _stretched(p.max_flash_frames, self._rep_clip[a])
                    and np.isnan(self.sig["struct"][a : b + 1]).mean() >= 0.5)
            leaves = held or fade_in is not None or b == n - 1 or is_cut[b + 1] or flat[b + 1]
            enters = held or fade_out is not None or a == 0 or is_cut[a] or flat[a - 1]
            if fade_out is not None and leaves:
                out.append(("fade_out", fade_out[0], fade_out[1], fade_out[2], kind_via))
                self.fade_cuts.add(a)
            if fade_in is not None and enters:
                out.append(("fade_in", fade_in[0], fade_in[1], fade_in[2], kind_via))
                self.fade_cuts.add(b + 1)
        return out

    def _join_dim_gaps(
        self, runs: list[tuple[int, int]], via: np.ndarray, is_cut: np.ndarray
    ) -> list[tuple[int, int]]:
        """Flat runs of one kind joined across a short gap of dim frames: a dim shot fading to
        black drifts across the flat share for a few frames (its fade-out starts before the
        first run, its black ends the second). The gap holds no cut, spans at most
        ``2 * max_flash_frames`` distinct frames, and its frames are as quiet as flat ones
        (std) and near the runs' level (mean within 0.1): a picture between, even a 3-frame
        montage shot cut in, keeps the runs apart."""
        mean, std = self.sig["mean"], self.sig["std"]
        out: list[tuple[int, int]] = []
        for a, b in runs:
            if out and via[out[-1][0]] == via[a]:
                pa, pb = out[-1]
                longest = _stretched(2 * self.p.max_flash_frames, self._rep_clip[a])
                level = float(np.median(mean[pa : pb + 1]))
                gap = slice(pb + 1, a)
                if (a - pb - 1 <= longest and not is_cut[pb + 1 : a + 1].any()
                        and (std[gap] <= self.p.flat_max_std).all()
                        and (np.abs(mean[gap] - level) <= 0.1).all()):
                    out[-1] = (pa, b)
                    continue
            out.append((a, b))
        return out

    # -- cuts -----------------------------------------------------------------
    def _cuts(self, flat: np.ndarray) -> list[tuple[int, float]]:
        p, n = self.p, self.n
        diff, struct, hist, mean = self.sig["diff"], self.sig["struct"], self.sig["hist"], self.sig["mean"]
        # Levels over distinct frames only: a repeated frame (2:2, 3:2 or irregular cadence)
        # changes nothing; counting its zero would make every real change look like a spike.
        distinct = self._distinct()
        # Frames per distinct frame around each frame (1 at the native rate, 2-2.5 for 24-30 fps
        # material shown at 50-60 fps): time spans given in frames stretch by it.
        unchanged = diff <= _DUP_DIFF
        moving = distinct & (diff > _DUP_DIFF)  # the distinct frames that change
        self._rep, self._rep_clip = _frames_per_distinct(distinct, unchanged)
        # Frames per source frame of a converted clip (1.5 or more), else 1: the native rate.
        rate = float(self._rep_clip.min())
        self._per_source = rate if rate >= 1.5 else 1.0
        # The luminance level leaves out the frames of a flash or a strobe (see _flash_like),
        # which would hide a cut next to a strobe.
        levels = _level_frames(distinct, unchanged, self._per_source)
        db, da = _side_medians(np.where(self._flash_like(distinct), np.nan, diff), p.window, levels)
        change_before, _ = _side_medians(diff, p.window, levels)
        sb, sa = _side_medians(struct, p.window, levels)
        dlevel = np.fmax(np.fmax(np.nan_to_num(db), np.nan_to_num(da)), 0.004)
        slevel = np.fmax(np.fmax(np.nan_to_num(sb), np.nan_to_num(sa)), 0.01)
        rd = diff / dlevel
        has_s = np.isfinite(struct)
        rs = np.where(has_s, np.nan_to_num(struct) / slevel, np.inf)
        score = np.minimum(rd, rs)
        score[0] = 0.0
        self.cut_score = score

        hb, ha = _side_medians(hist, p.window, levels)
        rh = hist / np.fmax(np.fmax(np.nan_to_num(hb), np.nan_to_num(ha)), 0.01)
        st = np.nan_to_num(struct)
        # Two shots: unrelated images; or (a jump cut: one scene re-framed, or a time skip) a
        # smaller structural change that stands out very sharply from both neighbourhoods; or
        # a structural change blurred by fast motion on one side (struct's local level is high
        # there) confirmed by a jump of the luma histogram, which motion hardly moves.
        # Between two still pictures (the levels of both sides at coding noise) a smaller
        # structural change is a new picture too: a cut between two crops of one still
        # photograph (a flash over a still shot is the flash test's, below).
        still = (np.fmax(np.nan_to_num(db), np.nan_to_num(da)) <= _DUP_DIFF) & (
            np.fmax(np.nan_to_num(sb), np.nan_to_num(sa)) <= _STILL_STRUCT
        )
        # ... or a jump cut's change isolated between quiet neighbours (see _isolated).
        isolated = self._isolated(st, moving, (db, da), (sb, sa))
        structural = (
            has_s
            & (diff >= p.cut_min_diff)
            & (
                ((st >= p.cut_min_struct) & (rd >= p.cut_ratio) & (rs >= p.cut_ratio))
                | (isolated & (st >= p.jump_cut_min_struct))
                | (still & (st >= _STILL_CUT_STRUCT) & (rd >= p.jump_cut_ratio) & (rs >= p.jump_cut_ratio))
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
        # flat frames of one level) is no change at all, nor is one between two uniform frames
        # of any levels (a strobe over black: held-out clip 55007, grey to grey 0.027, its
        # histogram's one spike moved). A smaller change (black to a dim shot: 0.04-0.06)
        # counts when the histogram jumps as for a histogram-confirmed cut.
        prev_mean = np.concatenate([[mean[0]], mean[:-1]])
        same_flat = flat & np.concatenate([[False], flat[:-1]]) & (np.abs(mean - prev_mean) < 0.3)
        hist_jump = (diff >= p.cut_min_diff) & (hist >= p.hist_cut_min) & (rh >= 1.5 * p.cut_ratio)
        flatcut = ~has_s & (rd >= p.cut_ratio) & ~same_flat & ~self._between_uniform & (
            ((diff >= p.flat_cut_min_diff) & (hist >= 0.2)) | hist_jump)
        ok = structural | flatcut
        # Motion, not a new shot: a cut is an isolated structural change, while the fastest
        # frame of a whip pan or of an object crossing the lens sits between frames that also
        # change a lot (the motion ramps up and down). Neighbours are the previous and next
        # *distinct* frames (repeats of a cadence conversion change nothing).
        # Unless its luma levels jump alone: a cut between two fast-moving shots.
        steps = self._steps(distinct)
        ok &= ~in_motion(st, steps, registered=self._registered,
                         cut_min_struct=p.cut_min_struct) | photometric_jump(
            diff, hist, st, moving, cut_min_struct=p.cut_min_struct,
            hist_cut_min=p.hist_cut_min)
        # A cut needs two frames of each shot to stand out from: none within one frame of the
        # clip's ends, where one side of the comparison is missing (fast motion right at the
        # start of a clip looks like a spike there).
        ok[:2] = False
        ok[n - 1 :] = False
        strength = self._strength(has_s, rd, rs, rh, st)
        cands = [(int(i), 1.0 - 0.5 / max(float(strength[i]), 1.0)) for i in np.nonzero(ok)[0]]
        kept = _suppress_adjacent(cands, score)
        # In-shot structural change per frame, for the flash test's tolerance (the shot before
        # the candidate; after it may be the flash itself).
        self._motion = np.nan_to_num(sb, nan=0.0)
        self._change = np.nan_to_num(change_before, nan=0.0)
        self._flat = flat
        flashes = self._flash_frames([c for c, _ in kept])
        moved = self._same_picture(steps, st)
        return [(c, conf) for c, conf in kept if c not in flashes and not moved[c]]

    def _same_picture(self, steps: np.ndarray, st: np.ndarray) -> np.ndarray:
        """Frames that show the previous frame's picture: moved further than ``struct``'s
        search reaches (:func:`.motion.moved_far`), or half of it kept (:func:`.motion.partly_kept`)."""
        far = moved_far(self._registered, self.sig["diff"], steps, unmeasured=self._unmeasured)
        return far | partly_kept(self.sig["same"], self.sig["alike"], st, per_source=self._per_source)

    def _strength(self, has_s: np.ndarray, rd: np.ndarray, rs: np.ndarray, rh: np.ndarray,
                  st: np.ndarray) -> np.ndarray:
        """How far each frame passes the strongest of the cut tests it passes (1 at a floor), from
        its ratios to the local levels (``rd``, ``rs``, ``rh``) and its changes: a candidate's
        confidence."""
        p, diff, hist = self.p, self.sig["diff"], self.sig["hist"]
        return np.where(
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
            np.maximum(
                np.minimum.reduce([rd / p.cut_ratio, diff / p.flat_cut_min_diff, hist / 0.2]),
                np.minimum.reduce([rd / p.cut_ratio, diff / p.cut_min_diff, hist / p.hist_cut_min,
                                   rh / (1.5 * p.cut_ratio)]),
            ),
        )

    def _steps(self, distinct: np.ndarray) -> np.ndarray:
        """The distinct frames the motion veto compares (:meth:`_cadence_steps`) and, in a
        converted clip, one frame per source frame of a longer still stretch
        (``level_frames``): a still shot's source frames are real steps of no change, as for
        the local levels. Without them a move starting a few still source frames after a cut
        passes for the cut's own continuation (held-out clip 27005)."""
        return _level_frames(self._cadence_steps(distinct), self.sig["diff"] <= _DUP_DIFF, self._per_source)

    def _cadence_steps(self, distinct: np.ndarray) -> np.ndarray:
        """The ``distinct`` frames, in a converted clip without short runs of unchanged frames (up
        to 3, a cadence's longest hold), which are the cadence's repeats even where its rhythm
        was not recognised (a dark whip pan whose steps leave no block of the frame as it was:
        held-out clip 10011), not a still frame between two cuts (a shot of a fast montage holds
        3 source frames or more, 6 or more frames here)."""
        if self._per_source == 1.0:
            return distinct
        steps = distinct.copy()
        for a, b in _runs(self.sig["diff"] <= _DUP_DIFF):
            if b - a + 1 <= LONGEST_HOLD:
                steps[a : b + 1] = False
        return steps

    def _isolated(self, st: np.ndarray, moving: np.ndarray, dlevels: tuple[np.ndarray, np.ndarray],
                  slevels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Changes at least ``_ISOLATED`` times those of the nearest frame that changes on each
        side, which then need to stand out ``jump_cut_ratio`` times from the calmer side's levels
        (``dlevels``, ``slevels``: the ``diff`` and ``struct`` medians before and after) only: a
        cut into (or out of) a shot whose own fast move starts within the window, whose level
        would hide it (held-out clip 9010). A repeat, even one taken for a distinct frame,
        changes nothing and is no neighbour (it would make every step of a move look isolated):
        the neighbours are the ``moving`` frames, distinct frames that change."""
        diff, jump = self.sig["diff"], self.p.jump_cut_ratio
        (pd, nd), (ps, ns) = _nearest_distinct(diff, moving), _nearest_distinct(st, moving)
        calm_d = np.fmax(np.fmin(*(np.nan_to_num(v) for v in dlevels)), 0.004)
        calm_s = np.fmax(np.fmin(*(np.nan_to_num(v) for v in slevels)), 0.01)
        return ((diff >= _ISOLATED * np.fmax(pd, nd)) & (st >= _ISOLATED * np.fmax(ps, ns))
                & (diff >= jump * calm_d) & (st >= jump * calm_s))

    def _flash_like(self, distinct: np.ndarray) -> np.ndarray:
        """Distinct frames of a luminance event that goes and comes back (a flash or a strobe
        frame): the histogram jumps (``hist_cut_min``), the structure stays (below
        ``_LUM_EVENT_STRUCT``, or none on either side: a strobe over black, held-out clip
        47011), and the next or the previous distinct frame moves the mean luma the other way
        by at least a third as much (a fade or an exposure ramp keeps its direction)."""
        struct, hist = np.nan_to_num(self.sig["struct"], nan=1.0), self.sig["hist"]
        featureless = self.sig["std"] <= self.p.flat_max_std
        struct[1:][featureless[1:] & featureless[:-1]] = 0.0
        idx = np.nonzero(distinct)[0]
        out = np.zeros(self.n, bool)
        if idx.size < 2:
            return out
        step = np.diff(self.sig["mean"][idx].astype(np.float64), prepend=np.nan)
        nxt = np.concatenate([step[1:], [np.nan]])
        prv = np.concatenate([[np.nan], step[:-1]])
        with np.errstate(invalid="ignore"):
            back = ((nxt * step < 0) & (np.abs(nxt) >= np.abs(step) / 3)) | (
                (prv * step < 0) & (np.abs(prv) >= np.abs(step) / 3)
            )
        out[idx] = back & (hist[idx] >= self.p.hist_cut_min) & (struct[idx] < _LUM_EVENT_STRUCT)
        return out

    def _distinct(self) -> np.ndarray:
        """Frames that are not a repeat of the previous one.

        A repeated frame of a 2:2, 3:2 or irregular cadence differs by coding noise only: a
        mean absolute difference under ``_DUP_DIFF`` and under a third of the largest change
        within 3 frames. A still shot looks the same frame by frame; what tells a cadence is
        its rhythm: runs of 1-3 such frames, each after one or two changing frames, at least
        ``_CADENCE_RUNS`` runs in a row. Only those count as repeats (a still shot's frames,
        or the quiet frames between the cuts of a montage of still shots, do not).

        A cadence repeats the frames of a moving shot, so the frames between its runs are
        steps of that motion: a rhythm needs ``_CADENCE_RUNS - 1`` such steps, and a change
        into an unrelated picture (``struct`` of a hard cut, not the same picture moved
        further: ``wide`` unregistered; or a cut-sized change to or from a featureless frame,
        a black shot of a montage: held-out clip 50013) is none. Without that, the holds of a montage of still
        shots 3-4 frames long (runs of 2-3 equal frames, each after a cut) pass for a cadence,
        and its cuts for one motion. Nor is a change within coding noise (``_DUP_DIFF``) a
        step: a still shot whose encoder refreshes it every few frames has that rhythm too.
        A change into a new picture does not break a rhythm either: the steps of a blurred whip
        pan in a converted clip look like one, and its repeats stay repeats.
        """
        diff = self.sig["diff"].astype(np.float64)
        reach = 3
        padded = np.concatenate([np.zeros(reach), diff, np.zeros(reach)])
        near = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).max(axis=1)
        tiny = (diff <= _DUP_DIFF) & (diff <= 0.35 * near)
        runs = _runs(tiny)
        distinct = np.ones(diff.size, bool)
        if not runs:
            return distinct
        first, last = np.array(runs).T
        short = last - first + 1 <= LONGEST_HOLD
        # Run i and run i + 1 belong to one rhythm: both short, one or two frames apart.
        link = short[:-1] & short[1:] & (first[1:] - last[:-1] - 1 <= 2)
        chain = np.concatenate([[0], np.cumsum(~link)])  # chain id of each run
        # The links that are a step of motion: no new picture between the two runs. A picture
        # is new when no part of the frame stays: an object crossing a still shot (whose
        # cadence the still frames hide) changes as much as a cut where it passes, but the
        # blocks it leaves uncovered repeat.
        struct = self.sig["struct"]
        new_picture = ((np.nan_to_num(struct) >= self.p.cut_min_struct) & ~self._registered
                       & (self._kept < _KEPT_BLOCKS))
        new_picture |= np.isnan(struct) & (diff >= self.p.flat_cut_min_diff)
        new_cum = np.concatenate([[0], np.cumsum(new_picture)])
        # A step changes the picture by more than a repeat can (``_DUP_DIFF``): between two
        # runs of a still shot's coding noise (an encoder refresh every few frames, in rhythm)
        # nothing moved.
        moved = np.concatenate([[0], np.cumsum(diff > _DUP_DIFF)])
        step = (link & (new_cum[first[1:]] == new_cum[last[:-1] + 1])
                & (moved[first[1:]] > moved[last[:-1] + 1]))
        steps = np.bincount(chain[1:], weights=step, minlength=chain[-1] + 1)
        for i in np.nonzero(short & (steps[chain] >= _CADENCE_RUNS - 1))[0]:
            distinct[first[i] : last[i] + 1] = False
        return distinct

    # -- dissolves and wipes ----------------------------------------------------
    def _gradual(self, busy: np.ndarray, cuts: list[tuple[int, float]]) -> list[Found]:
        p, n = self.p, self.n
        energy = self.sig["detail"].astype(np.float64) ** 2
        cut_mark = np.zeros(n, np.int64)
        for c, _ in cuts:
            cut_mark[c] = 1
        cut_cum = np.concatenate([[0], np.cumsum(cut_mark)])  # cuts at frames < i
        busy_cum = np.concatenate([[0], np.cumsum(busy)])
        diff_cum = np.concatenate([[0.0], np.cumsum(self.sig["diff"].astype(np.float64))])
        best_resid = np.full(n, np.inf)
        cands: list[tuple[float, str, int, int, int]] = []  # (score, kind, a, e, window index)
        for li, win in enumerate(p.gradual_windows):
            if n <= win:
                break
            e = np.arange(win, n)
            a = e - win
            m = e - win // 2
            f = self.lin[win:, li]
            d = f[:, WindowField.D].astype(np.float64)
            r = f[:, WindowField.R].astype(np.float64)
            c = f[:, WindowField.C].astype(np.float64)
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
                pred = f[:, WindowField.P]
                # A mix with a detail dip, or without one when the mean of the ends predicts the
                # middle frame clearly better than either end does.
                path = (diff_cum[e + 1] - diff_cum[a + 1]) / np.maximum(d, 1e-6)
                mixed = (mix_like(r, dip, p) & (pred <= _DISSOLVE_MAX_PRED)) | (
                    (r <= p.dissolve_max_resid) & (pred <= UNDIPPED_MAX_PRED)
                    & (c >= _UNDIPPED_MIN_STRUCT) & (path <= _UNDIPPED_MAX_PATH)
                )
            dissolve = valid & struct_ok & mixed
            for q in np.nonzero(dissolve)[0]:
                score = (1.0 - r[q] / p.dissolve_max_resid) * min(1.0, c[q]) * (1.0 - 0.5 * min(dip[q], 1.0))
                cands.append((float(score), "dissolve", int(a[q]), int(e[q]), li))
            if p.detect_wipes:
                wipe = valid & ~dissolve & (c >= 0.5) & wipe_like(f)
                for q in np.nonzero(wipe)[0]:
                    score = 0.5 * (1.0 - f[q, WindowField.RB] / WIPE_MAX_RB) * min(1.0, c[q])
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
            extent = mix_extent(self.sig["blocks"], self.sig["std"], a, e, taken,
                                longest_window=max(p.gradual_windows))
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
        d_ae = self.lin[e, li, WindowField.D]
        for lj in range(li + 1, len(wins)):
            e2 = a + wins[lj]
            if e2 >= self.n:
                break
            d2 = self.lin[e2, lj, WindowField.D]
            if np.isfinite(d2) and d2 < 0.5 * d_ae:
                return False
        return True
