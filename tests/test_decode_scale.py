"""The analysis-size luma shrink: the vectorised integer-factor path equals OpenCV's area resize.

Reference: ``cv2.resize(..., interpolation=cv2.INTER_AREA)``, which the analysis frames were
made with before the fast path; every analyzer number depends on these bytes, so equality is
exact, not approximate.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preflight.media.decode import _BLOCK_MAX, _BLOCK_MIN, _block_mean_u8, area_downscale


def _every_block_sum(factor: int) -> np.ndarray:
    """An image whose ``factor`` x ``factor`` blocks hold every sum 0 .. 255 * factor**2."""
    area = factor * factor
    sums = np.arange(255 * area + 1)
    q, r = np.divmod(sums, area)
    blocks = q[:, None] + (np.arange(area)[None, :] < r[:, None])  # (n, area), values <= 255
    per_row = 64
    n = len(sums)
    rows = -(-n // per_row)
    padded = np.zeros((rows * per_row, area), dtype=np.uint8)
    padded[:n] = blocks[:, ::-1]  # the larger values last in each block, unlike the row order
    tiles = padded.reshape(rows, per_row, factor, factor).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(tiles.reshape(rows * factor, per_row * factor))


def _reference(img: np.ndarray, factor: int) -> np.ndarray:
    size = (img.shape[1] // factor, img.shape[0] // factor)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("factor", range(_BLOCK_MIN, _BLOCK_MAX + 1))
def test_block_mean_equals_opencv_for_every_block_sum(factor):
    img = _every_block_sum(factor)
    np.testing.assert_array_equal(_block_mean_u8(img, factor), _reference(img, factor))


@pytest.mark.parametrize("factor", [3, 4, 5, 7])
def test_block_mean_equals_opencv_on_noise_and_views(factor):
    rng = np.random.default_rng(factor)
    img = rng.integers(0, 256, size=(factor * 37, factor * 53 + 11), dtype=np.uint8)
    view = img[:, : factor * 53]  # row stride wider than the row, as a decoded plane's
    np.testing.assert_array_equal(_block_mean_u8(view, factor), _reference(view, factor))


@pytest.mark.parametrize(("src", "dst"), [((1920, 1080), (320, 180)), ((3840, 2160), (320, 180)),
                                          ((960, 540), (320, 180)), ((1280, 720), (320, 180)),
                                          ((1000, 600), (320, 192))])
def test_area_downscale_unchanged(src, dst):
    """The same bytes as the halving + one OpenCV area step it replaces."""
    rng = np.random.default_rng(7)
    smooth = cv2.resize(rng.integers(0, 256, (src[1] // 8, src[0] // 8), dtype=np.uint8), src)
    img = cv2.add(smooth, rng.integers(0, 40, (src[1], src[0]), dtype=np.uint8))
    ref = img
    while ref.shape[1] >= 2 * dst[0] and ref.shape[0] >= 2 * dst[1] and (
        (ref.shape[1] % (2 * dst[0]) == 0 and ref.shape[0] % (2 * dst[1]) == 0)
        or (ref.shape[1] >= 4 * dst[0] and ref.shape[0] >= 4 * dst[1])
    ):
        ref = cv2.resize(ref, (ref.shape[1] // 2, ref.shape[0] // 2), interpolation=cv2.INTER_AREA)
    ref = cv2.resize(ref, dst, interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(area_downscale(img, dst), ref)
