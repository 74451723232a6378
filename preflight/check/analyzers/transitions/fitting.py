"""Fitting the extent of gradual transitions: a ramp of the mixing weight over every
candidate (start, end) pair, by least squares, batched.

A fade is a gain ramp: the RMS distance of each frame to the flat level falls (or rises)
linearly (Lienhart [1]_), so :func:`fade_extent` fits a piecewise-linear ramp to it. A dissolve
or a wipe mixes two images: :func:`mix_extent` projects each frame's block descriptor on the
window's change direction (its progress) and fits the ramp jointly to that and to the luma std
curve, a quadratic in the mixing weight (Alattar's "parabola" [2]_, blind to motion).

References
----------
.. [1] R. Lienhart, "Comparison of automatic shot boundary detection algorithms", SPIE Storage
   and Retrieval for Image and Video Databases VII, 1999.
.. [2] A. M. Alattar, "Detecting and compressing dissolve regions in video sequences with a DVI
   multimedia image compression algorithm", ISCAS 1993.
"""

from __future__ import annotations

import numpy as np

from .levels import runs

# Weight of the std (variance-curve) residual against the progress residual in fit_mix,
# chosen on generated edits (fixtures.transitions.montage seeds 0-39): the std curve also
# moves with in-shot content.
_STD_WEIGHT = 0.5
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


def fit_ramp(y: np.ndarray) -> tuple[int, int, float, float]:
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


def fit_mix(
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
        s, t, r2, k = fit_ramp(progress)
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



def _despiked(amp: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``amp`` with frames ``[lo, hi]`` replaced by their running median over 5 frames: a
    strobe or flash of up to 2 frames on a fading shot (one source frame shown twice) is a
    spike the median removes, while a gain ramp, its plateau and the flat run, monotone
    together, are left exactly as they are."""
    out = amp.astype(np.float64)
    first, last = max(0, lo - 2), min(amp.size - 1, hi + 2)
    if last - first + 1 < 5:
        return out
    # medians centred on frames first + 2 .. last - 2; only those inside [lo, hi] are replaced
    med = np.median(np.lib.stride_tricks.sliding_window_view(out[first : last + 1], 5), axis=1)
    s, e = max(lo, first + 2), min(hi, last - 2)
    out[s : e + 1] = med[s - first - 2 : e - first - 1]
    return out


def fade_extent(
    amp: np.ndarray, lo: int, hi: int, run: tuple[int, int], outward: int, *, min_frames: int,
    through_cut: bool = False,
) -> tuple[int, int, float] | None:
    """A fade: a ramp of ``amp`` (the RMS distance of each frame to the flat level) over
    frames ``[lo, hi]`` next to the flat run ``run``, on its side ``outward`` (-1: a fade-out
    before it, 1: a fade-in after it), at least ``min_frames`` long; ``(first, last,
    confidence)`` or None.

    Walks away from the flat run while the distance to the flat level keeps growing, then
    fits the piecewise-linear ramp on that stretch plus a few frames of plateau and of the
    flat run (the last frames of a fade are already as good as flat and belong to it).
    ``through_cut``: the step next to the flat run was taken for a cut; it belongs to the fade
    only when it is one of the ramp's even steps (at most 3 times the larger of the next
    three: a dropped frame doubles one), not a jump into a shot that then holds or drifts.
    """
    a, b = run
    edge = a if outward < 0 else b
    amp = _despiked(amp, lo, hi)
    frames = []
    steps: list[float] = []
    j = edge + outward
    prev = amp[edge]

    def grows(value: float) -> bool:
        # A gain ramp grows by even steps (a repeat of a cadence holds, a dropped frame doubles
        # one); a jump far above the last steps is a flash or a strobe frame on the shot, not
        # the fade, and ends the walk.
        step = value - prev
        return step > 0.002 and (len(steps) < 2 or step <= 3.0 * max(steps[-3:]) + 0.005)

    while lo <= j <= hi:
        if grows(amp[j]):
            frames.append(j)
            steps.append(float(amp[j] - prev))
            prev = amp[j]
            j += outward
            continue
        # Repeated frames (a cadence conversion) hold the level for up to 3 frames; the
        # fade goes on if the distance grows again right after them.
        k = j
        while lo <= k <= hi and abs(k - j) < 3 and abs(amp[k] - prev) <= 0.002:
            k += outward
        if k == j or not lo <= k <= hi or not grows(amp[k]):
            break
        frames.extend(range(j, k, outward))
        j = k
    if len(frames) < min_frames - 1:
        return None
    if through_cut and (len(steps) < 3 or steps[0] > 3.0 * max(steps[1:4]) + 0.005):
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
    s, t, r2, k = fit_ramp(amp[seg])
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
    if last - first + 1 < min_frames or (k > 0) == (outward < 0) or r2 < 0.8:
        return None
    return first, last, 0.5 + 0.5 * r2



def mix_extent(
    blocks: np.ndarray, std: np.ndarray, a: int, e: int, taken: np.ndarray, *, longest_window: int
) -> tuple[int, int, float] | None:
    """First and last frame of the transition seen in window ``(a, e)``, and the R^2 of its
    progress ramp, from the block descriptors ``blocks`` (frames, blocks) and the luma std
    ``std`` of every frame; ``taken`` marks the frames of other transitions.

    The best-scoring window may sit inside a longer transition (its ends mixes already), so
    the fit covers the window widened by ``max(8, its length, longest_window / 2)`` frames
    on each side, up to a cut or another transition. In that range every frame's block
    descriptor is projected on the window's change direction (0 at ``a``, 1 at ``e``) and
    :func:`fit_mix` fits the ramp jointly to it and to the luma std curve.
    """
    n = blocks.shape[0]
    blocks = blocks.astype(np.float64)
    # Average two frames at each end of the window against in-shot motion.
    pre = blocks[max(0, a - 1) : a + 1].mean(axis=0)
    post = blocks[e : min(n - 1, e + 1) + 1].mean(axis=0)
    direction = post - pre
    norm2 = float(direction @ direction)
    if norm2 < (0.02**2) * direction.size:
        return None  # the two shots share their layout: no measurable progress
    reach = max(8, e - a, longest_window // 2)
    lo, hi = a, e
    while lo > 0 and a - lo < reach and not taken[lo - 1]:
        lo -= 1
    while hi < n - 1 and hi - e < reach and not taken[hi + 1]:
        hi += 1
    progress = (blocks[lo : hi + 1] - pre) @ direction / norm2
    # The transition overlaps the window and is at most about twice as long.
    s, t, r2, k = fit_mix(
        progress, std[lo : hi + 1], s_max=e - lo, t_min=a - lo, max_len=2 * (e - a) + 8
    )
    if k <= 0.5 or t - s + 1 < 2:
        return None
    return lo + s, lo + t, r2



# A frame with no texture at all (luma std at most this, 0-1 units): digital black or white,
# not a dark shot, whose grain and highlights leave more.
_DEAD_FLAT_STD = 0.001
# The least height (RMS distance to the dead flat level) of a fade inside a flat run.
_INNER_FADE_MIN = 0.004


def inner_fade(
    mean: np.ndarray, std: np.ndarray, run: tuple[int, int], outward: int, *, min_frames: int,
    max_frames: int,
) -> tuple[int, int, float] | None:
    """A fade between a shot so dark (or bright) that all of it counts as flat and a dead flat
    core inside the flat run ``run``: after the core (``outward`` 1, a fade-in) or before it
    (-1, a fade-out). Such a shot sits a few code values from the flat level, so the ramp of
    its RMS distance to the core's level is measured after scaling it to 0.1 (its highest
    value over ``max_frames`` frames), then fitted as any fade (:func:`fade_extent`) with at
    least ``min_frames`` frames; None without a core of 3 frames or a height of
    ``_INNER_FADE_MIN``. The core is the span of the run's dead frames or, failing that, a
    stretch of 3 dead frames at one level (see the comment below)."""
    a, b = run
    dead = std[a : b + 1] <= _DEAD_FLAT_STD
    if dead.sum() < 3:
        return None
    # The span from the first dead frame to the last; failing that, each stretch of 3 dead
    # frames of one level, from the run's start for a fade-out, from its end for a fade-in (a
    # fade out of a dark shot that opens the run ends in a later stretch, and may end one
    # code value above black before it drops).
    first, last = (int(i) for i in np.nonzero(dead)[0][[0, -1]])
    level_dead = dead.copy()
    level_dead[1:] &= ~(np.abs(np.diff(mean[a : b + 1])) > _DEAD_FLAT_STD)
    cores = [(s, t) for s, t in runs(level_dead) if t - s >= 2 and (s, t) != (first, last)]
    for s, t in [(first, last), *(cores if outward < 0 else cores[::-1])]:
        level = float(np.median(mean[a + s : a + t + 1][dead[s : t + 1]]))
        found = _fade_from_core(mean, std, level, (a + s, a + t), (a, b), outward,
                                min_frames=min_frames, max_frames=max_frames)
        if found is not None:
            return found
    return None


def _fade_from_core(
    mean: np.ndarray, std: np.ndarray, level: float, core: tuple[int, int], run: tuple[int, int],
    outward: int, *, min_frames: int, max_frames: int,
) -> tuple[int, int, float] | None:
    """:func:`inner_fade` out of or into the dead core ``core`` (at luma ``level``) of the flat
    run ``run``."""
    a, b = run
    ca, cb = core
    amp = np.sqrt(std.astype(np.float64) ** 2 + (mean.astype(np.float64) - level) ** 2)
    lo, hi = (cb + 1, min(b, cb + max_frames)) if outward > 0 else (max(a, ca - max_frames), ca - 1)
    if hi - lo + 1 < min_frames:
        return None
    top = float(amp[lo : hi + 1].max())
    if top < _INNER_FADE_MIN or float(amp[ca : cb + 1].max()) > 0.25 * top:
        return None
    return fade_extent(amp * (0.1 / top), lo, hi, (ca, cb), outward, min_frames=min_frames)
