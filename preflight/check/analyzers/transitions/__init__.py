"""Shot-transition detection: hard cuts, dissolves, fades (via black or white) and wipes.

The detector works in two stages, like PySceneDetect's two-pass ``AdaptiveDetector`` [1]_:

1. **Streaming** (:meth:`TransitionDetector.process`, :mod:`.signals`): each analysis frame is
   reduced to two tiny thumbnails (64 and 32 px on the long side, area-averaged, so sensor
   noise and codec blocking vanish) and a few dozen floats of per-frame signals. Besides those
   signals only a ring of the last ``max(gradual_windows)`` 32 px thumbnails (~2 KB each) is
   kept, so memory is flat in clip length apart from the signals.
2. **Decision** (:meth:`TransitionDetector.finish`, :mod:`.decision`; the flash and occluder
   return test in :mod:`.returns`; the extents of gradual transitions are fitted in
   :mod:`.fitting`): cuts, fades, dissolves and wipes are decided on the per-frame signal
   series, so every test can look both ways in time.

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
``wide``
    For a frame whose ``struct`` is at least 0.15: ``1 - NCC`` of consecutive 64 px thumbnails
    after the global shift phase correlation finds between them, at any distance, over their
    overlap (NaN below 35% of the frame); inside a fast move (a step of 10% of the frame or
    more registered up to 3 frames before) also at that step's shift, twice it, and the
    shifts of the 5 strongest phase-correlation peaks that point the move's way: a step
    doubled past half the thumbnail aliases in the phase correlation, and on blurred steps the
    strongest peak may be the wrong one. A cut candidate matched there with NCC >= 0.75, as is
    a change within 4 frames of it (or with frames changing by a quarter as much on both sides
    within 4 frames: a blurred whip pan), is dropped: a whip pan or a fast tilt, above
    all one step of it doubled by a dropped frame, is the same picture moved further than
    ``struct``'s search reaches (a lone match, between still frames, is a cut between two
    crops of one scene). A fast step also guides the unregistered step just before it (a
    move's first step, doubled by a dropped frame); a step the registration cannot measure
    (too flat where the frames overlap) between registered ones on both sides counts as one
    of the move.
``same``
    For the same frames as ``wide``: the share of the 64 px thumbnail's 12 blocks (a 4 x 3
    grid) that are textured and found in the previous frame within +-3 px with NCC >= 0.9
    (0-1). A cut candidate that keeps half of them, next to a structural change of at least
    0.15 of its own within 4 source frames, is dropped: a change confined to part of a moving
    picture (a hand leaving the frame while the exposure shifts, an object close to the lens)
    is no new shot. Between still stretches it stays a cut (a jump cut from a locked-off
    camera keeps the background too).
``alike``
    For the same frames and blocks as ``same``: the share found with NCC >= 0.5 (the picture
    kept loosely). A cut candidate that keeps a third of the blocks exactly and two thirds
    alike, next to motion as for ``same``, is dropped too (a hand leaving the frame while the
    exposure rises keeps 4-5 exactly and 9-12 alike, a dark object over part of a moving shot
    5 and 8; a cut under a graphic both shots share renews everything else).
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
    only for windows that could be a dissolve); ``S`` = ``1 - max NCC(a, e)`` where a change
    inside the window (at least ``cut_min_diff``) is larger than ``D``: ends that may show one
    picture across a spike (an object passing the lens). For lags ``k`` = 2-4 the 32 px
    thumbnails of frames ``i - k`` and ``i`` are compared too, to recognise the end of a flash.

Decisions:

* **Cut** at frame ``c`` (the first frame of the new shot) when ``diff`` *and* ``struct`` at ``c``
  exceed ``cut_ratio`` times their local level (the larger of the medians over ``window``
  frames on each side: fast motion on either side raises the bar), above absolute floors.
  Requiring both rejects flashes (``struct`` stays low) and objects sweeping past the lens
  (``diff`` rises over several frames, not in one). Two more ways in: a *jump cut* (one scene
  re-framed, or a time skip) changes structure less but stands out ``jump_cut_ratio`` times
  from both sides; a cut into or out of fast motion, where ``struct``'s level is high, is
  confirmed by a jump of the histogram distance; between two still pictures (both levels at
  coding noise) a structural change of 0.05 standing out as much as a jump cut's is a cut (two
  crops of one photograph); a jump cut's change at least ``_ISOLATED`` (8) times that of
  the nearest changing distinct frame on each side needs to stand out only from the calmer
  side's level (a cut into a shot whose own fast move starts at once). Next to a flat
  (black/white) frame NCC is undefined and ``diff`` with the histogram distance decide (a
  smaller ``diff``, black into a dim shot, when the histogram jumps as for a
  histogram-confirmed cut); between two uniform frames (no picture on either side: a strobe
  over black) there is no cut. The ``diff`` level leaves out the frames of a flash or strobe
  (a histogram jump without structural change, or between two featureless frames, that the
  next or previous distinct frame reverses), which would hide a cut next to a strobe. No cut
  within one frame of the clip's ends (one side of the comparison missing); of two adjacent
  candidates the stronger.
* **Repeated frames** (24-30 fps material shown at 48-60 fps: 2:2, 3:2, irregular): a frame
  whose difference is coding noise, well below the changes around it, repeats the previous
  one, when such frames come in the rhythm of a cadence: short runs one or two frames apart,
  at least three of the changes between them steps of one moving shot (not a change into an
  unrelated picture that leaves no block of the frame as it was, nor a cut-sized change to or
  from a featureless frame: the holds of a montage of still shots at the native rate are no
  cadence; nor a change within coding noise: a still
  shot whose encoder refreshes the picture in rhythm moves nothing). Local levels are medians over *distinct*
  frames only (a repeat's zero would make every change of the source a spike), and spans in
  frames (the return test below) stretch by the local number of frames per distinct frame.
* **Motion** (:mod:`.motion`): a cut is an isolated structural change; the fastest frame of a
  whip pan or of an object crossing the lens sits between frames that change too, as it speeds up
  and slows down. A candidate is dropped when the larger ``struct`` of the two distinct frames
  on each side is at least ``_MOTION_SHARE`` of its own, or half that when it is no peak or
  the two sides together reach 2.5 times that share; or, for a change below a hard cut's floor,
  when the three distinct frames on one side ramp up to it (a move speeding up, where a
  dropped source frame doubles one step), and for a larger one when that ramp's nearest step,
  itself below the floor, is at least half of it (a hand coming up to a still shot); or
  when a neighbour changes more and the other side at least a tenth as much, or whatever the
  other side does for a change below that floor, or a twentieth as much when that is three
  times the median of the three steps before it (the flank of a larger change: an object
  entering a still shot, or coming in over a moving shot); or when the three distinct frames
  on *both* sides fall away from it by steps of a quarter, the nearest still an eighth of it
  (the top of a move that speeds up and slows down, which a dropped frame or a dim shot's
  noise makes stand out; a cut's neighbours are its shots' own steady or still motion). The
  second distinct frame on a side is no motion when it is another cut of a fast montage (a
  still frame between, nothing beyond, not matched by the wide registration: a whip pan out
  of a still frame) and the candidate is a hard cut's change itself. A hard cut's change is
  also motion when the median of the four distinct steps on one side reaches 0.7 of it (a whip
  pan out of a still frame whose first step is its largest: a cut's new shot settles at once).
  In a converted clip the veto looks past short runs of unchanged frames (up to 3) even where
  the cadence's rhythm was not recognised (a dark whip pan whose steps leave no block of the
  frame as it was).
* **Flash**: a candidate is dropped when two frames at most ``max_flash_frames + 1`` source
  frames apart (up to 10 frames of a clip converted to a higher rate), one before it and one
  at or after it, look alike (the picture before the flash comes back:
  the flashlight test of Heng and Ngan [3]_), within a tolerance that grows with the shot's
  own motion (structurally at most 0.2 beyond it: two still pictures of a montage are not
  alike); or when the picture from before it returns within ``return_span`` frames (an
  occluder passing the lens), comparing only frames away from any spike, within a tolerance
  bounded by the shot's own motion: a third of the spike, or as far as the shot drifted over
  the same number of frames just before the candidate (up to half the spike), unless the pair
  is no nearer in structure than the candidate's own change; or in structure (``S`` at most
  a third of the candidate's ``struct``, and 0.2), which neither a fade nor the drift of a
  moving shot under the object moves as far as luma. At a native rate the span grows to 18
  frames inside a run of changes each at least a third of the candidate's (an object).
  In a converted clip the span follows the clip's cadence even inside a still shot (which
  shows none); beyond the local span only the same picture, after frames that kept changing up
  to the last candidate before it (an object moves; a montage holds each shot), from the shot
  just before the candidate counts. Cuts between a black or white frame and a picture are exempt (a
  montage cut to black and back) unless half the frame's blocks stay as they were (an object
  crossing a black shot), and so is a new picture (``struct`` of a hard cut) held
  still for at least two source frames between calm frames and the next candidate: a shot
  cut in (a montage A-B-A), and the cut back with it (also when only the cut back finds the
  old picture again, by a pair reaching back across the cut in).
* **Fades**: runs of flat frames (at least 90% of the pixels within 0.1 of black or white,
  which a caption on black does not spoil) bound fades. The RMS distance of each frame to the
  flat level shrinks linearly during a fade-out (a gain ramp, Lienhart [4]_); a
  piecewise-linear ramp fitted to it gives the extent, a fade-in mirrors it. The ramp grows by
  even steps: a jump far above the last steps (a flash or strobe frame on the shot) ends it;
  a spike of up to two frames (a strobe on the fading shot) is taken out first by a running
  median of 5 frames, which leaves a monotone ramp as it is. A cut found next to the flat run
  is the fade's first step when the ramp goes on after it by steps at least a third of it (a
  dropped frame doubles one step). A
  flat run must be entered by a fade-out, a cut or the clip's start and left by a fade-in, a
  cut or the end (a flash is no fade), unless it lasts longer than a flash and its frames are
  mostly too uniform for NCC (a black hold left by a shot too dark to measure); two runs of
  one kind a few dim, quiet frames apart, with no cut between, are one (a dim shot fading to
  black crosses the flat share more than once). A shot too dark (or bright) to leave the flat
  share at all fades in or out of the run's dead core (luma std <= 0.001: digital black or
  white): its RMS distance to the core's level, scaled to its top over the fade window, is
  fitted as any fade (at least 3 ``min_fade_frames``; a height of 0.004 at least). The core
  spans the run's first to last dead frame; failing that, each stretch of at least 3 dead
  frames at one level is tried (black, a dark shot fading out to a code value above black,
  black: the fade ends in the second stretch).
* **Dissolves**: windows whose middle frame is the average of its ends (``R`` small: the
  linear mixing model of Alattar [2]_ and Lienhart [4]_) and predicted by that average far
  better than by either end (``P``: motion is not), whose ends are different images (``C``),
  with a fine-detail dip in the middle, no cut or flat frame inside and new content that stays
  (the accumulated change of twin comparison, Zhang et al. [5]_). Moving or differently sharp
  shots need not dip: without the dip, ``P`` must be lower, the ends clearly unrelated
  (``C`` >= 0.5) and the change gradual (the frame-to-frame ``diff`` summed over the window at
  most 3 times ``D``: a pan travels much further than it ends up).
* **Wipes**: windows whose middle frame is, block by block, either the first or the last image
  (``Rb`` small, ``alpha_b`` binary, ``R`` ~ 0.5), in which every block changes and the new
  content stays.
* **Extent** of a dissolve or wipe: the progress of every frame is the projection of its block
  descriptor on the window's change direction; a ramp fitted by least squares over every
  (start, end) pair, jointly to that progress and to the luma std curve (a quadratic in the
  mixing weight: Alattar's "parabola", blind to motion), gives the first and last frame. The
  fit's R^2 enters the confidence.

Memory: the per-frame signals take ~280 bytes per frame (the window signals included); the
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

Modules: :mod:`.params` (the tunables), :mod:`.signals` (streaming), :mod:`.decision`
(with :mod:`.returns`, :mod:`.motion` and :mod:`.levels`), :mod:`.fitting`, :mod:`.detector`
(the analyzer that ties them together).
"""

from .detector import TransitionDetector
from .params import TransitionParams
from .signals import WindowField

# Index of window field ``P`` in the stored window signals (read by the tests).
_P = WindowField.P

__all__ = ["TransitionDetector", "TransitionParams", "WindowField"]
