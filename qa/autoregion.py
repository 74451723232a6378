"""``--auto-region``: estimate the edited region from the source/edited difference.

For when no mask exists. Per frame pair, on a block grid (``block`` x ``block`` pixels, ~240
blocks across):

1. ``D`` = mean absolute luma difference per block (area average of ``|x - y|``): averaging over a
   block suppresses compression noise, which is spatially white, much more than an edit, which is
   spatially coherent.
2. Noise floor from the frame itself: ``tau = max(median(D) + k * 1.4826 * MAD(D), floor)``; the
   median and MAD describe the unedited majority of the frame (an edit under half the frame
   cannot move them much), so re-encoding noise and a global drift are not called edits.
3. Hysteresis over time: blocks edited in the previous frame stay edited down to half the
   margin above the median, ``median + (tau - median) / 2``,
   so a region does not flicker on and off as its contrast with the background varies.
4. Morphology on the block grid: closing (fills holes where the edit happens to match the
   source) then opening (drops isolated noisy blocks), then components smaller than
   ``min_area`` of the frame are removed.

Only luma is compared, like the score itself: an edit that leaves luma untouched cannot lower a
luma SSIM outside the region, so missing it costs nothing.

The report is the union over time of the per-frame masks (a mask image, white = edited) and its
connected components as boxes with the time range in which each was active.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TARGET_BLOCKS_ACROSS = 240
NOISE_K = 6.0
ABS_FLOOR_8BIT = 4.0
"""Smallest block difference (8-bit levels) ever called an edit: above x264 noise at CRF <= 28."""
MIN_AREA = 0.001
"""Components smaller than this share of the frame are dropped as noise."""


def block_size_for(width: int, height: int) -> int:
    """Block edge in pixels: ~240 blocks across, at least 2, at most 16."""
    return int(np.clip(round(max(width, height) / TARGET_BLOCKS_ACROSS), 2, 16))


@dataclass(frozen=True)
class RegionBox:
    """One connected component of the union mask, in scoring-grid pixels, and when it was active."""

    x: int
    y: int
    w: int
    h: int
    first_frame: int
    last_frame: int
    area_pct: float

    def to_dict(self) -> dict[str, object]:
        return {
            "x": self.x,
            "y": self.y,
            "w": self.w,
            "h": self.h,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "area_pct": round(self.area_pct, 3),
        }


class AutoRegionEstimator:
    """Stateful per-frame estimator; call :meth:`update` with consecutive frame pairs in order.

    Parameters
    ----------
    height, width : int
        Scoring grid.
    data_range : float
        ``L`` of the luma (255 or 1023): the absolute floor scales with it.
    block : int, optional
        Block edge in pixels (default :func:`block_size_for`).
    """

    def __init__(self, height: int, width: int, *, data_range: float = 255.0, block: int | None = None):
        if height < 2 or width < 2:
            raise ValueError(f"grid must be at least 2x2, got {width}x{height}")
        self.height, self.width = height, width
        self.block = block or block_size_for(width, height)
        self.bw = -(-width // self.block)
        self.bh = -(-height // self.block)
        self.floor = ABS_FLOOR_8BIT * data_range / 255.0
        self._prev: np.ndarray | None = None
        self._count = np.zeros((self.bh, self.bw), np.int32)
        self._first = np.full((self.bh, self.bw), -1, np.int64)
        self._last = np.full((self.bh, self.bw), -1, np.int64)
        self._frames = 0
        self._diff = np.empty((height, width), np.float32)
        k3 = np.ones((3, 3), np.uint8)
        self._k3 = k3

    def block_diff(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mean |x - y| per block, shape (bh, bw), float32."""
        if x.dtype == np.uint8 and y.dtype == np.uint8:
            d = cv2.absdiff(x, y)
            d = d.astype(np.float32)
        else:
            d = cv2.absdiff(x.astype(np.float32, copy=False), y.astype(np.float32, copy=False))
        pad_h, pad_w = self.bh * self.block - self.height, self.bw * self.block - self.width
        if pad_h or pad_w:
            d = cv2.copyMakeBorder(d, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        return cv2.resize(d, (self.bw, self.bh), interpolation=cv2.INTER_AREA)

    def update(self, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Estimate the region of the next frame pair.

        Parameters
        ----------
        x, y : ndarray, shape (H, W), same dtype
            Source and edited luma on the scoring grid.

        Returns
        -------
        ndarray, shape (H, W), uint8 0/1, or None when nothing was found in this frame.
        """
        d = self.block_diff(x, y)
        med = float(np.median(d))
        mad = float(np.median(np.abs(d - med)))
        tau = max(med + NOISE_K * 1.4826 * mad, med + self.floor)
        hit = d > tau
        if self._prev is not None:
            hit |= self._prev & (d > med + 0.5 * (tau - med))
        m = hit.astype(np.uint8)
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, self._k3)
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, self._k3)
        m = self._drop_small(m)
        self._prev = m.astype(bool)
        idx = self._frames
        self._frames += 1
        if not m.any():
            return None
        on = m.astype(bool)
        self._count[on] += 1
        self._first[on & (self._first < 0)] = idx
        self._last[on] = idx
        return self.to_grid(m)

    def _drop_small(self, m: np.ndarray) -> np.ndarray:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        if n <= 1:
            return m
        min_blocks = max(1, int(MIN_AREA * self.bw * self.bh + 0.5))
        keep = np.zeros(n, np.uint8)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_blocks
        return keep[labels]

    def to_grid(self, blocks: np.ndarray) -> np.ndarray:
        """Block mask to the scoring grid (each block covers ``block`` x ``block`` pixels)."""
        big = np.repeat(np.repeat(blocks, self.block, axis=0), self.block, axis=1)
        return np.ascontiguousarray(big[: self.height, : self.width])

    # ------------------------------------------------------------------ report
    @property
    def frames_seen(self) -> int:
        return self._frames

    def union_mask(self) -> np.ndarray:
        """Union over time, on the scoring grid, ``uint8`` 0/1."""
        return self.to_grid((self._count > 0).astype(np.uint8))

    def boxes(self) -> list[RegionBox]:
        """Connected components of the union with their active frame range, largest first."""
        union = (self._count > 0).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(union, connectivity=8)
        out = []
        total = float(self.width * self.height)
        for i in range(1, n):
            sel = labels == i
            bx, by, bw, bh = (int(v) for v in stats[i, :4])
            x0, y0 = bx * self.block, by * self.block
            x1, y1 = min(self.width, (bx + bw) * self.block), min(self.height, (by + bh) * self.block)
            area = float(stats[i, cv2.CC_STAT_AREA]) * self.block * self.block
            out.append(
                RegionBox(
                    x=x0,
                    y=y0,
                    w=x1 - x0,
                    h=y1 - y0,
                    first_frame=int(self._first[sel].min()),
                    last_frame=int(self._last[sel].max()),
                    area_pct=100.0 * min(area, total) / total,
                )
            )
        out.sort(key=lambda b: -b.area_pct)
        return out
