"""The analysis-size luma shrink: the vectorised integer-factor path and the optional C kernel
(fused last halving + block mean) equal OpenCV's area resize.

Reference: ``cv2.resize(..., interpolation=cv2.INTER_AREA)``, which the analysis frames were
made with before the fast paths; every analyzer number depends on these bytes, so equality is
exact, not approximate.
"""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from preflight.media import decode
from preflight.media.decode import _BLOCK_MAX, _BLOCK_MIN, _block_mean_u8, area_downscale

needs_kernel = pytest.mark.skipif(decode._native is None, reason="preflight.media._areakernel not built")


@pytest.fixture(params=["c", "numpy"])
def kernel(request, monkeypatch):
    """Run a test with the C kernel (when built) and with the OpenCV + numpy fallback."""
    if request.param == "c" and decode._native is None:
        pytest.skip("preflight.media._areakernel not built")
    if request.param == "numpy":
        monkeypatch.setattr(decode, "_native", None)
    return request.param


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
def test_area_downscale_unchanged(src, dst, kernel):
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


def test_kernel_is_built_where_a_compiler_exists():
    """setup.py builds preflight.media._areakernel as optional; with a compiler a fallback is a bug."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler: the numpy path is the expected one")
    assert decode._native is not None


def _halving_then_block_mean(img: np.ndarray, factor: int) -> np.ndarray:
    half = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return _reference(half, factor)


@needs_kernel
@pytest.mark.parametrize("factor", range(_BLOCK_MIN, _BLOCK_MAX + 1))
def test_fused_steps_equal_opencv_for_every_block_sum(factor):
    """Blocks of 2x2 quads holding every halved block sum; the quads mix their four values so
    each halving rounds differently (sums 4k + 0..3)."""
    halved = _every_block_sum(factor).astype(np.int64)
    rng = np.random.default_rng(factor)
    # A 2x2 quad whose rounded mean is v: four values summing to 4v - 2 .. 4v + 1, within 0..255.
    offset = rng.integers(-2, 2, size=halved.shape)
    offset[halved == 0] = rng.integers(0, 2, size=int((halved == 0).sum()))
    offset[halved == 255] = rng.integers(-2, 1, size=int((halved == 255).sum()))
    total = 4 * halved + offset
    base, extra = np.divmod(total, 4)
    quad = base[..., None] + (np.arange(4) < extra[..., None])  # (H, W, 4), values 0..255
    img = quad.reshape(*halved.shape, 2, 2).transpose(0, 2, 1, 3).reshape(2 * halved.shape[0], -1)
    img = np.ascontiguousarray(img.astype(np.uint8))
    ref = _halving_then_block_mean(img, factor)
    out = np.empty((img.shape[0] // (2 * factor), img.shape[1] // (2 * factor)), np.uint16)
    decode._native.halve_block_sums(img, factor, out)
    np.testing.assert_array_equal(decode._mean_of_block_sums(out, factor), ref)


@needs_kernel
@pytest.mark.parametrize("factor", [1, 2, 3, 5, 16])
def test_fused_sums_on_noise_and_views(factor):
    rng = np.random.default_rng(factor)
    oh, ow = 23, 41
    img = rng.integers(0, 256, size=(2 * factor * oh, 2 * factor * ow + 13), dtype=np.uint8)
    view = img[:, : 2 * factor * ow]  # row stride wider than the row, as a decoded plane's
    half = cv2.resize(view, (factor * ow, factor * oh), interpolation=cv2.INTER_AREA)
    ref = half.reshape(oh, factor, ow, factor).sum(axis=(1, 3))
    out = np.empty((oh, ow), np.uint16)
    decode._native.halve_block_sums(view, factor, out)
    np.testing.assert_array_equal(out, ref)


@needs_kernel
def test_fused_kernel_rejects_bad_shapes():
    img = np.zeros((36, 60), np.uint8)
    with pytest.raises(ValueError, match="expected out"):
        decode._native.halve_block_sums(img, 3, np.empty((5, 10), np.uint16))
    with pytest.raises(ValueError, match="contiguous rows"):
        decode._native.halve_block_sums(img[:, ::2], 3, np.empty((6, 5), np.uint16))
    with pytest.raises(ValueError, match="factor"):
        decode._native.halve_block_sums(img, 17, np.empty((6, 10), np.uint16))
