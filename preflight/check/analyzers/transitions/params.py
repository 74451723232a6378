"""The tunables of the transition detector (:class:`TransitionParams`), declared once."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
        ``diff`` floor of a cut to or from a flat (black/white) frame, where NCC is undefined;
        a smaller change (at least ``cut_min_diff``: black into a dim shot) counts when the
        histogram jumps as for the histogram-confirmed cut of ``hist_cut_min``.
    window : int, default 6
        Frames on each side of a candidate whose median is its local level.
    max_flash_frames : int, default 3
        Longest flash recognised by the picture before it coming back after it, in source
        frames (in a clip converted to a higher rate, each source frame spans 2-2.5 frames).
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
