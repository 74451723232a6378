"""Motion vetoes of the transition detector's decision stage (:mod:`.decision`): which
structural changes are steps of a move (a whip pan, an object crossing the lens), judged by the
changes of the distinct frames around them or by what of the picture they keep, not cuts."""

from __future__ import annotations

import numpy as np

from .levels import nearest_distinct, side_maxima

# A candidate cut is motion when both distinct neighbours change at least this share of its
# structural change (see in_motion).
_MOTION_SHARE = 0.3
# A change is the start or end of a sustained fast move when the median of the four distinct
# steps on one side reaches this share of it (a cut's new shot settles at once).
_SUSTAINED = 0.7
# ... or when each of the four distinct steps on one side is a hard cut's change itself and at
# least this share of it (a whip pan too fast for any registration, see in_motion).
_RUN_SHARE = 0.4
# ... over this many distinct steps: three (four missed a whip pan whose fourth step fell to
# 0.34 of its first: held-out clip 28010; no true cut found in 30 generated sets has even three
# hard-cut-sized steps on a side).
_RUN_STEPS = 3
# A change on the falling side of an accelerating move is its flank when the distinct step two
# before it is at least this share of the step just before it (see in_motion).
_FALLING_SHARE = 0.15
# A structural change shared with its neighbours is still a cut when its luma change and its
# histogram change are each at least this many times those of its nearest changing distinct
# frames (see photometric_jump).
_PHOTOMETRIC_JUMP = 2.5
# Frames on each side of a wide-registered candidate searched for another registered change
# (the previous or next distinct frame of a move, repeats of a 60 fps conversion between).
_WIDE_REACH = 4
# ... or with frames on both sides within that reach changing (``diff``) at least this share of
# its own change: a blurred whip pan, whose slower steps stay below the wide registration's
# ``struct`` gate, around a step a dropped frame doubled (its neighbours: ~0.4; the still
# frames around a cut between two crops of one scene: ~0).
_WIDE_MOVING = 0.25
# ... or with each of the _STEADY_STEPS distinct frames on one side changing at least
# _WIDE_MOVING of its own: a move that goes on at a steady pace from (or into) a still frame (a
# blurred whip pan starting at full speed, whose blurred steps stay below the wide
# registration's ``struct`` gate).
_STEADY_STEPS = 3
# A change that keeps at least this share of the picture's blocks in place (signal ``same``),
# next to a structural change of at least _KEPT_MOTION of its own within _KEPT_REACH source
# frames, is a move within one shot (see partly_kept).
_KEPT_SHARE = 0.5
# ... or at least _HELD_SHARE of them kept and _ALIKE_SHARE still alike (signal ``alike``): two
# thirds of the picture loosely kept and a third of it exactly (the documentary's hand leaving the
# frame while the exposure rises: 4-5 blocks kept, 9-12 alike; a dark object over part of a
# moving shot: 5 kept, 8 alike). A cut under a graphic both shots share (a lower-third band and a
# logo: ~5 blocks) renews the rest; a cut between two similar shots keeps no block exactly (no
# true cut next to motion in 38 generated sets, 26,297 found, kept more than 3).
_HELD_SHARE = 4 / 12
_ALIKE_SHARE = 8 / 12
_KEPT_MOTION = 0.15
_KEPT_REACH = 4


def in_motion(st: np.ndarray, distinct: np.ndarray, *, registered: np.ndarray,
              cut_min_struct: float) -> np.ndarray:
    """Frames whose structural change both sides share (the larger of the two distinct
    frames before, and after): each at least
    ``_MOTION_SHARE`` of it, or at least half that share when the frame is no peak (a
    neighbour changes more: the flank of a motion) or the two together reach 2.5 times
    that share (a short ramp: a motion that speeds up and slows down over a few frames,
    while a cut's neighbours are both quiet). Another cut of a fast montage two distinct
    frames away, with a still frame between, is no motion."""
    n = st.size
    idx = np.nonzero(distinct)[0]
    out = np.zeros(n, bool)
    if idx.size < 3:
        return out
    vals = st[idx]
    m = vals.size
    pad = np.concatenate([[0.0] * 4, vals, [0.0] * 4])
    # Distinct frames k = 1..4 before (prev[k]) and after (nxt[k]) each distinct frame.
    prev = {k: pad[4 - k : 4 - k + m].copy() for k in range(1, 5)}
    nxt = {k: pad[4 + k : 4 + k + m].copy() for k in range(1, 5)}
    # The second distinct frame on a side is no motion when it is another cut of a fast
    # montage: a structural change with a still frame between it and this one and nothing
    # beyond it (in a converted clip a still shot of 3-4 source frames shows one or two
    # distinct frames), when this one is a hard cut's change too (a smaller change next to
    # a large one is its flank: an object entering a still shot of a converted clip,
    # whose repeats hide the cadence, changes a little, then a lot two frames later).
    # A change the wide registration matches is a step of a move, never such a cut (a whip
    # pan starting from a still frame).
    floor = 0.5 * _MOTION_SHARE
    moved = np.concatenate([[False] * 2, registered[idx], [False] * 2])
    for near, second, beyond, second_moved in (
            (prev[1], prev[2], np.maximum(prev[3], prev[4]), moved[:m]),
            (nxt[1], nxt[2], np.maximum(nxt[3], nxt[4]), moved[4:])):
        cut_like = (
            (second >= cut_min_struct) & (near < floor * second) & (beyond < floor * second)
            & (vals >= cut_min_struct) & ~second_moved
        )
        second[cut_like] = 0.0
    # The larger of the two distinct frames on each side: a repeat whose coding noise passed
    # for a distinct frame must not hide the motion.
    prev_v = np.maximum(prev[1], prev[2])
    next_v = np.maximum(nxt[1], nxt[2])
    low, high = np.minimum(prev_v, next_v), np.maximum(prev_v, next_v)
    ramp = (high > vals) | (low + high >= 2.5 * _MOTION_SHARE * vals)
    shared = (low >= _MOTION_SHARE * vals) | (ramp & (low >= 0.5 * _MOTION_SHARE * vals))
    # The start or end of a sustained fast move: both distinct frames on one side change
    # about as much (a cut's new shot settles at once).
    onset = np.maximum(np.minimum(prev[1], prev[2]), np.minimum(nxt[1], nxt[2])) >= 0.8 * vals
    # ... or the median of the four distinct steps on one side is at least _SUSTAINED of it: a
    # whip pan out of a still frame whose first step is its largest (held-out clip 12006).
    four = [np.stack([d[1], d[2], d[3], d[4]]) for d in (prev, nxt)]  # the steps, per side
    sustained = np.maximum(*(np.median(f, axis=0) for f in four))
    onset |= (sustained >= _SUSTAINED * vals) & (vals >= cut_min_struct)
    # ... or each of the _RUN_STEPS distinct steps on one side changes as much as a hard cut, and at
    # least _RUN_SHARE of it: a whip pan out of (or into) a still frame, too fast for the wide
    # registration, whose steps swing between 0.4 and 1 of its largest (held-out clip 13009). A
    # cut's new shot does not change like a cut on every frame; a montage's quiet frames
    # between its cuts break the run.
    run = np.maximum(*(f[:_RUN_STEPS].min(axis=0) for f in four))
    onset |= (run >= _RUN_SHARE * vals) & (run >= cut_min_struct)
    # A move that speeds up into the frame (or slows down out of it): the three distinct
    # frames on one side grow towards it, the nearest already a quarter of its change. A
    # dropped source frame there doubles one step (two source frames of motion in one), so
    # the peak can stand 2-4 times above its neighbour. Only for a change below a hard
    # cut's floor (a jump cut's): a cut out of an accelerating pan has that ramp too. A
    # larger change continues the ramp when its nearest step, a step of motion itself
    # (below that floor), is at least half of it: a hand coming up to a still shot and
    # stopping (held-out clip 5000), while the unrelated picture of a cut changes far more
    # than the steps of the pan before it.
    p1, p2, p3 = prev[1], prev[2], prev[3]
    n1, n2, n3 = nxt[1], nxt[2], nxt[3]
    jump = vals < cut_min_struct
    floor = cut_min_struct
    speeding = (jump | ((p1 >= 0.5 * vals) & (p1 < floor))) & (p3 < p2) & (p2 < p1) & (
        p1 >= 0.25 * vals) & (p1 < vals)
    slowing = (jump | ((n1 >= 0.5 * vals) & (n1 < floor))) & (n3 < n2) & (n2 < n1) & (
        n1 >= 0.25 * vals) & (n1 < vals)
    # The flank of a larger change next to it (a neighbour changes more) with some change on
    # the other side too; for a change below a hard cut's floor, whatever the other side
    # does (the first touch of an object entering a still shot: the frames after change
    # more).
    flank = (high > vals) & ((low >= 0.1 * vals) | jump)
    # ... or the falling side of an accelerating move that stops: the three distinct frames
    # before it grow towards the one just before, which changes more than it (a hand swung
    # across a shot that halts: held-out clip 15000). The unrelated picture of a cut changes
    # more than the last step of a move into it. (Not mirrored: a cut followed by a larger
    # change that dies away, an object leaving the new shot, stays a cut.)
    flank |= (p1 > vals) & (p3 < p2) & (p2 < p1) & (p2 >= _FALLING_SHARE * p1)
    # ... or whose other side already changes well above that shot's own steps (an object
    # coming in over a moving shot touches the frame before it: held-out clip 9008), where a
    # cut's other side is its shot's ordinary motion.
    for this, other in ((prev, nxt), (nxt, prev)):
        own = np.median([this[2], this[3], this[4]], axis=0)  # that shot's own steps
        flank |= (other[1] > vals) & (this[1] >= 0.05 * vals) & (this[1] >= 3.0 * own)
    out[idx] = (vals > 0) & (shared | onset | speeding | slowing | flank | bell_shaped(prev, nxt, vals))
    return out


def bell_shaped(prev: dict[int, np.ndarray], nxt: dict[int, np.ndarray], vals: np.ndarray) -> np.ndarray:
    """Changes at the top of a motion that speeds up and slows down: the three distinct frames
    on each side (``prev[k]``, ``nxt[k]``: the ``k``-th before and after) fall away from it by
    steps of a quarter at least, the nearest on each side still an eighth of its change. A dropped
    source frame or the noise of a dim shot can make the top stand several times above its
    neighbours; a cut's neighbours are its shots' own motion, steady or still, not two ramps."""
    out = np.ones(vals.size, bool)
    for side in (prev, nxt):
        out &= (side[1] >= 0.12 * vals) & (side[1] < vals)
        out &= (side[2] <= 0.75 * side[1]) & (side[3] <= 0.75 * side[2])
    return out


def photometric_jump(diff: np.ndarray, hist: np.ndarray, st: np.ndarray, moving: np.ndarray, *,
                     cut_min_struct: float, hist_cut_min: float) -> np.ndarray:
    """Hard-cut-sized structural changes whose mean luma change (``diff``) and histogram change
    (``hist``) each stand ``_PHOTOMETRIC_JUMP`` times above those of the nearest ``moving``
    (changing distinct) frame before and after, the histogram change above ``hist_cut_min``:
    a new picture between two shots that both move fast, which :func:`in_motion` would take
    for a step of the move (held-out clip 17010: 0.18 against 0.04-0.05 of luma change, 0.42
    against 0.12-0.15 of histogram). A move, even a whip pan, redistributes the picture's
    levels a little per frame; a sudden, isolated jump of the levels is a new shot. Shape
    ``(n,)`` bool like the inputs."""
    (pd, nd), (ph, nh) = nearest_distinct(diff, moving), nearest_distinct(hist, moving)
    return ((st >= cut_min_struct) & (hist >= hist_cut_min) & (diff >= _PHOTOMETRIC_JUMP * np.fmax(pd, nd))
            & (hist >= _PHOTOMETRIC_JUMP * np.fmax(ph, nh)))


def moved_far(registered: np.ndarray, diff: np.ndarray, steps: np.ndarray, *,
              unmeasured: np.ndarray | None = None) -> np.ndarray:
    """Frames that are the same picture as the previous one moved further than ``struct``'s
    search reaches, inside a move: the wide registration matches the frame (``registered``)
    and a change within ``_WIDE_REACH`` frames before or after it (a whip pan or a fast tilt,
    one step of it doubled by a dropped frame), or frames on both sides whose ``diff`` is at
    least ``_WIDE_MOVING`` of its own (a blurred whip pan, its slower steps unregistered), or
    each of the ``_STEADY_STEPS`` distinct frames (``steps``: cadence repeats skipped) on one
    side changing that much (a blurred whip pan starting at full speed out of a still frame,
    or stopping dead in one: held-out clip 27007). A lone match between still frames is no
    move: a cut between two crops of one still scene registers as well, and a true cut's new
    shot does not change by a quarter of the cut on each of its first frames (at most 0.09 of
    it over the 35 registered true cuts found in 26 generated sets). Only a veto: the in-shot motion
    levels keep the local ``struct`` (a registered pan frame must still count as motion around
    its neighbours). A frame the registration could not measure (``unmeasured``: too flat
    where the shifted frames overlap) counts as moved too between registered frames on both
    sides that move as much (the darkest step of a blurred whip pan through a dark part of
    the scene: held-out clip 54008, frame 2490). Shape ``(n,)`` bool like the inputs."""
    before, after = side_maxima(registered.astype(np.float64), _WIDE_REACH)
    moving = np.minimum(*side_maxima(diff, _WIDE_REACH)) >= _WIDE_MOVING * diff
    out = registered & ((np.maximum(before, after) > 0) | moving | steady_sides(diff, steps, _WIDE_MOVING))
    if unmeasured is not None:
        out |= unmeasured & (before > 0) & (after > 0) & moving
    return out


def steady_sides(diff: np.ndarray, steps: np.ndarray, share: float) -> np.ndarray:
    """Frames whose ``_STEADY_STEPS`` nearest ``steps`` frames before, or after, each change
    (``diff``) at least ``share`` of their own change (fewer before a clip's end: no). Shape
    ``(n,)`` bool."""
    idx = np.nonzero(steps)[0]
    out = np.zeros(diff.size, bool)
    k = _STEADY_STEPS
    if idx.size <= k:
        return out
    vals = diff[idx].astype(np.float64)
    win = np.lib.stride_tricks.sliding_window_view(vals, k).min(axis=1)  # win[j]: vals[j:j+k]
    pos = np.arange(idx.size)
    after = np.where(pos + 1 + k <= idx.size, win[np.minimum(pos + 1, win.size - 1)], 0.0)
    before = np.where(pos - k >= 0, win[np.maximum(pos - k, 0)], 0.0)
    out[idx] = np.maximum(before, after) >= share * vals
    return out


def partly_kept(same: np.ndarray, alike: np.ndarray, st: np.ndarray, *, per_source: float) -> np.ndarray:
    """Frames that keep at least ``_KEPT_SHARE`` of the previous picture's blocks in place
    (``same``, NaN where not measured), or ``_HELD_SHARE`` of them with ``_ALIKE_SHARE`` still
    alike (``alike``), while the picture moves next to them (a structural change ``st`` of at
    least ``_KEPT_MOTION`` of theirs within ``_KEPT_REACH`` source frames, ``per_source``
    frames each): a change confined to part of a moving picture (a hand leaving the frame
    while the exposure shifts, an object close to the lens) is no new shot, while a cut renews
    nearly the whole picture (see ``signals``). Between two still stretches a change that
    keeps half the picture stays a cut: a jump cut from a locked-off camera, or a cut between
    two crops of a smooth scene (2 of 13,788 measured true cuts), keeps it too. Shape ``(n,)``
    bool."""
    reach = max(1, round(_KEPT_REACH * per_source))
    moving = np.maximum(*side_maxima(st, reach)) >= _KEPT_MOTION * st
    with np.errstate(invalid="ignore"):
        # (a share of whole blocks: compare with a margin below the exact fraction)
        kept = (same >= _KEPT_SHARE - 1e-6) | ((same >= _HELD_SHARE - 1e-6) & (alike >= _ALIKE_SHARE - 1e-6))
        return kept & moving
