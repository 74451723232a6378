"""SSIM kernel: exactness against scikit-image, region exclusion, PSNR, Wang downsampling."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

import qa.ssim
from fixtures.synth import MEDIA, SHARED_MEDIA, real_still
from preflight.media.decode import luma_plane
from qa.ssim import (
    PSNR_CAP_DB,
    WIN_RADIUS,
    SSIMKernel,
    auto_scale_factor,
    data_range_for,
    gaussian_window,
    ssim,
    wang_downsample,
)

GROUND_TRUTH = Path(__file__).resolve().parent.parent / "fixtures" / "ground_truth.json"
BACKENDS = ["c", "opencv"] if qa.ssim.KERNEL == "c" else ["opencv"]


@pytest.fixture(autouse=True, params=BACKENDS)
def backend(request, monkeypatch):
    """Every test in this module runs on each built backend (the default is what qa score uses)."""
    monkeypatch.setattr(qa.ssim, "KERNEL", request.param)
    return request.param


def test_c_kernel_is_built_where_a_compiler_exists(backend):
    """setup.py builds qa._ssimkernel as optional; on a machine with cc, a silent fallback is a bug."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler: the OpenCV backend is the expected one")
    assert BACKENDS[0] == "c"


def test_backends_agree_on_sums_and_map(backend):
    if len(BACKENDS) == 1:
        pytest.skip("only the OpenCV backend is built")
    rng = np.random.default_rng(7)
    x = _still((397, 211))  # odd sizes: partial tiles and strips
    y = np.clip(x.astype(int) + rng.integers(-9, 10, x.shape), 0, 255).astype(np.uint8)
    region = np.zeros(x.shape, np.uint8)
    region[40:90, 150:260] = 1
    maps, sums = [], []
    for b in ("c", "opencv"):
        k = SSIMKernel(*x.shape, data_range=255, backend=b)
        m = np.empty(x.shape, np.float32)
        sums.append(k.frame(x, y, k.prepare(region), ssim_map=m))
        maps.append(m)
    # Both round float32 moments in a different order; in near-flat windows the variance
    # E[x^2] - mu^2 cancels, so single pixels differ by up to ~5e-4 (each is that close to
    # scikit-image's float64 map too), while the means agree far inside the 1e-4 budget.
    diff = np.abs(maps[0] - maps[1])
    assert diff.max() < 1e-3
    assert diff.mean() < 5e-5
    a, b = sums
    assert (a.n_out, a.n_in, a.n_full) == (b.n_out, b.n_in, b.n_full)
    for f in ("ssim_out_sum", "ssim_in_sum", "ssim_full_sum"):
        assert getattr(a, f) == pytest.approx(getattr(b, f), rel=1e-5), f
    assert a.sq_err_out == pytest.approx(b.sq_err_out, rel=1e-9)


@pytest.mark.parametrize("width", [127, 128, 129, 138, 139, 144, 145, 256, 267])
def test_map_matches_skimage_across_tile_and_vector_edges(width):
    """The C kernel works in 128-column tiles whose moment rows are padded to whole vectors: at
    every width around those edges the whole map (padded columns included) must be scikit-image's."""
    x = np.ascontiguousarray(_still((320, 64))[:, :width])
    y = np.ascontiguousarray(cv2.GaussianBlur(x, (5, 5), 1.2)[:, ::-1])  # unlike x everywhere
    _, ref = sk(x, y, 255, full=True)
    smap = np.empty(x.shape, np.float32)
    k = SSIMKernel(*x.shape, data_range=255)
    sums = k.frame(x, y, ssim_map=smap)
    assert np.abs(smap - ref).max() < 1e-3
    r = WIN_RADIUS
    assert sums.ssim_full_sum / sums.n_full == pytest.approx(ref[r:-r, r:-r].mean(), abs=2e-5)


@pytest.mark.parametrize("height", [11, 12, 13, 14, 23, 24, 25])
def test_map_matches_skimage_at_every_row_parity(height):
    """The C kernel's vertical pass makes two output rows per step and a last odd row alone: at
    even and odd heights from the smallest frame up, every row of the map must be scikit-image's,
    and the sums must match the map (with a region, so that all four sums run)."""
    x = np.ascontiguousarray(_still((160, 120))[:height, :150])
    y = np.ascontiguousarray(cv2.GaussianBlur(x, (5, 5), 1.2)[::-1])
    _, ref = sk(x, y, 255, full=True)
    region = np.zeros(x.shape, np.uint8)
    region[height // 2:, 20:60] = 1
    k = SSIMKernel(*x.shape, data_range=255)
    prepared = k.prepare(region)
    smap = np.empty(x.shape, np.float32)
    sums = k.frame(x, y, prepared, ssim_map=smap)
    assert np.abs(smap - ref).max() < 1e-3
    inside, outside = region.astype(bool), prepared.outside
    assert (sums.n_in, sums.n_out) == (int(inside.sum()), int(outside.sum()))
    assert sums.ssim_in_sum == pytest.approx(float(ref[inside].sum()), rel=1e-4)
    assert sums.ssim_out_sum == pytest.approx(float(ref[outside].sum()), rel=1e-4)
    diff = x.astype(np.float64) - y
    assert sums.sq_err_out == pytest.approx(float((diff[outside] ** 2).sum()), rel=1e-9)


def sk(x: np.ndarray, y: np.ndarray, data_range: float, full: bool = False):
    return structural_similarity(
        x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range, full=full
    )


def _still(size=(320, 240)) -> np.ndarray:
    return cv2.cvtColor(real_still(size), cv2.COLOR_RGB2GRAY)


def _distortions(x: np.ndarray, rng: np.random.Generator, top: int) -> dict[str, np.ndarray]:
    xf = x.astype(np.float64)
    return {
        "noise": np.clip(xf + rng.normal(0, 0.03 * top, x.shape), 0, top),
        "blur": cv2.GaussianBlur(xf, (7, 7), 2.0),
        "brighter": np.clip(xf * 1.1 + 0.05 * top, 0, top),
        "blocky": cv2.resize(cv2.resize(xf, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA),
                             x.shape[::-1], interpolation=cv2.INTER_NEAREST),
        "flat_vs_texture": np.full(x.shape, 0.5 * top),
    }


def test_window_is_scipy_gaussian_truncated_at_3_5_sigma():
    from scipy.ndimage import gaussian_filter1d

    impulse = np.zeros(21)
    impulse[10] = 1.0
    ref = gaussian_filter1d(impulse, 1.5, truncate=3.5, mode="constant")
    w = gaussian_window().ravel()
    assert w.shape == (11,)
    np.testing.assert_allclose(w, ref[5:16], rtol=1e-6, atol=1e-8)
    assert ref[:5].max() == 0 and ref[16:].max() == 0  # the window is exactly 11 taps


def test_identical_images_score_exactly_one():
    x = _still()
    k = SSIMKernel(*x.shape, data_range=255)
    smap = np.empty(x.shape, np.float32)
    sums = k.frame(x, x, ssim_map=smap)
    assert sums.ssim_full_sum / sums.n_full == pytest.approx(1.0, abs=1e-12)
    assert np.all(smap == 1.0)
    s = k.score(x, x)
    assert s.ssim_outside == pytest.approx(1.0, abs=1e-12)
    assert s.psnr_outside == PSNR_CAP_DB
    x10 = (x.astype(np.uint16) << 2) | 3
    assert ssim(x10, x10, data_range=1023).ssim_full == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("size", [(320, 240), (37, 53), (11, 11), (200, 13)])
def test_matches_skimage_8bit(size):
    rng = np.random.default_rng(sum(size))
    x = _still((max(size[0], 64), max(size[1], 64)))[: size[1], : size[0]]
    x = np.ascontiguousarray(x)
    for name, y in _distortions(x, rng, 255).items():
        y8 = np.clip(np.rint(y), 0, 255).astype(np.uint8)
        ref = sk(x, y8, 255)
        got = ssim(x, y8, data_range=255).ssim_full
        assert got == pytest.approx(ref, abs=2e-5), name


def test_matches_skimage_map_in_the_interior():
    x = _still()
    y = cv2.GaussianBlur(x, (5, 5), 1.2)
    _, ref = sk(x, y, 255, full=True)
    smap = np.empty(x.shape, np.float32)
    SSIMKernel(*x.shape, data_range=255).frame(x, y, ssim_map=smap)
    r = WIN_RADIUS
    assert np.abs(smap - ref)[r:-r, r:-r].max() < 1e-3
    # Borders use the same reflection as scipy.ndimage's mode="reflect".
    assert np.abs(smap - ref).max() < 1e-3


def test_matches_skimage_10bit_and_float():
    rng = np.random.default_rng(3)
    x8 = _still((256, 144))
    x = (x8.astype(np.uint16) << 2) + rng.integers(0, 4, x8.shape).astype(np.uint16)
    for name, y in _distortions(x, rng, 1023).items():
        y16 = np.clip(np.rint(y), 0, 1023).astype(np.uint16)
        assert ssim(x, y16, data_range=1023).ssim_full == pytest.approx(sk(x, y16, 1023), abs=2e-5), name
        yf = y.astype(np.float32)
        xf = x.astype(np.float32)
        assert ssim(xf, yf, data_range=1023).ssim_full == pytest.approx(sk(xf, yf, 1023), abs=2e-5), name


def test_strided_views_need_no_copy_and_agree():
    big = _still((400, 240))
    x = big[:, 20:340]  # row stride 400, like a decoded plane with padding
    y = cv2.GaussianBlur(np.ascontiguousarray(x), (3, 3), 0.8)
    assert not x.flags.c_contiguous
    ref = sk(np.ascontiguousarray(x), y, 255)
    assert ssim(x, y, data_range=255).ssim_full == pytest.approx(ref, abs=2e-5)


def test_any_layout_gives_the_same_score():
    """Views the C kernel does not take (column steps, flipped rows, mixed dtypes) fall back."""
    x = _still((160, 120))
    y = cv2.GaussianBlur(x, (3, 3), 0.8)
    ref = ssim(x, y, data_range=255).ssim_full
    wide_x, wide_y = np.repeat(x, 2, axis=1), np.repeat(y, 2, axis=1)
    assert ssim(wide_x[:, ::2], wide_y[:, ::2], data_range=255).ssim_full == pytest.approx(ref, abs=2e-5)
    flipped = ssim(x[::-1], y[::-1], data_range=255).ssim_full
    assert flipped == pytest.approx(sk(x[::-1], y[::-1], 255), abs=2e-5)
    mixed = ssim(x, y.astype(np.float32), data_range=255).ssim_full
    assert mixed == pytest.approx(ref, abs=2e-5)


def _decoded_luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [luma_plane(f).copy() for f in c.decode(video=0)]


def _pairs_in(media: Path):
    gt = json.loads(GROUND_TRUTH.read_text())["ssim_pairs"]
    for key, value in gt.items():
        a, b = key.split(" vs ")
        yield key, media / a, media / b, value


@pytest.mark.parametrize("key", [k for k, *_ in _pairs_in(MEDIA)])
def test_real_pairs_per_frame_match_reference(key):
    """Carphone, VMAF src01 and the 10-bit VMAF Sparks pair: per-frame ground truth (5 decimals)."""
    _, a, b, truth = next(p for p in _pairs_in(MEDIA) if p[0] == key)
    xs, ys = _decoded_luma(a), _decoded_luma(b)
    bits = 10 if "10bit" in key else 8
    k = SSIMKernel(*xs[0].shape, data_range=data_range_for(bits))
    got = np.array([k.score(x, y).ssim_full for x, y in zip(xs, ys, strict=True)])
    ref = np.asarray(truth["per_frame"])
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-4
    assert got.mean() == pytest.approx(truth["mean_ssim_y"], abs=1e-5)
    # And frame by frame against scikit-image itself (a few frames keep the test fast).
    for i in range(0, len(xs), max(1, len(xs) // 4)):
        assert got[i] == pytest.approx(sk(xs[i], ys[i], data_range_for(bits)), abs=1e-4)


def test_sparks_10bit_mean_is_0_99568():
    xs = _decoded_luma(MEDIA / "vmaf_sparks_ref_480x270_10bit.y4m")
    ys = _decoded_luma(MEDIA / "vmaf_sparks_dis_480x270_10bit.y4m")
    assert xs[0].dtype == np.uint16
    k = SSIMKernel(*xs[0].shape, data_range=1023)
    mean = float(np.mean([k.score(x, y).ssim_full for x, y in zip(xs, ys, strict=True)]))
    assert mean == pytest.approx(0.99568, abs=1e-4)


@pytest.mark.skipif(not (SHARED_MEDIA / "ssim_pairs.json").exists(), reason="../shared/media is absent")
def test_shared_media_pairs_match_their_catalogue():
    """The same pairs read from ../shared/media, against its own ssim_pairs.json."""
    truth = json.loads((SHARED_MEDIA / "ssim_pairs.json").read_text())
    for key, value in truth.items():
        if key.startswith("_"):
            continue
        a, b = key.split(" vs ")
        xs, ys = _decoded_luma(SHARED_MEDIA / a), _decoded_luma(SHARED_MEDIA / b)
        k = SSIMKernel(*xs[0].shape, data_range=1023 if xs[0].dtype == np.uint16 else 255)
        got = np.array([k.score(x, y).ssim_full for x, y in zip(xs, ys, strict=True)])
        assert np.abs(got - np.asarray(value["per_frame"])).max() < 1e-4, key


# --------------------------------------------------------------------------- regions
def _region(shape, rect):
    m = np.zeros(shape, np.uint8)
    x, y, w, h = rect
    m[y : y + h, x : x + w] = 1
    return m


def test_change_only_inside_the_region_leaves_outside_at_one():
    x = _still()
    rect = (100, 60, 80, 50)
    region = _region(x.shape, rect)
    y = x.copy()
    y[region == 1] = 255 - y[region == 1]
    s = ssim(x, y, data_range=255, region=region)
    assert s.ssim_outside >= 0.99999
    assert s.psnr_outside == PSNR_CAP_DB
    assert s.inside_change > 0.5
    assert s.ssim_full < 0.95  # the unmasked score does see the edit


@pytest.mark.parametrize("dx, dy", [(-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)])
def test_change_one_pixel_outside_the_dilated_region_lowers_the_score(dx, dy):
    x = _still()
    x0, y0, w, h = 100, 60, 80, 50
    region = _region(x.shape, (x0, y0, w, h))
    r = WIN_RADIUS
    # First pixel beyond the dilation (Chebyshev distance r + 1 from the region) on each side.
    px = x0 - r - 1 if dx < 0 else x0 + w - 1 + r + 1 if dx > 0 else x0 + w // 2
    py = y0 - r - 1 if dy < 0 else y0 + h - 1 + r + 1 if dy > 0 else y0 + h // 2
    y = x.copy()
    y[region == 1] = 255 - y[region == 1]
    base = ssim(x, y, data_range=255, region=region).ssim_outside
    y[py, px] = (int(y[py, px]) + 128) % 256  # a 128-level change of one pixel
    assert ssim(x, y, data_range=255, region=region).ssim_outside < base - 1e-7


def test_outside_mean_is_the_map_averaged_over_the_right_pixels():
    x = _still()
    y = cv2.GaussianBlur(x, (5, 5), 1.0)
    region = _region(x.shape, (30, 40, 60, 70))
    _, ref_map = sk(x, y, 255, full=True)
    r = WIN_RADIUS
    keep = np.zeros(x.shape, bool)
    keep[r:-r, r:-r] = True
    dil = cv2.dilate(region, np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
    keep &= ~dil
    s = ssim(x, y, data_range=255, region=region)
    assert s.ssim_outside == pytest.approx(ref_map[keep].mean(), abs=2e-5)
    assert s.inside_change == pytest.approx(1 - ref_map[region == 1].mean(), abs=2e-5)
    mse = np.mean((x.astype(float) - y.astype(float))[keep] ** 2)
    assert s.psnr_outside == pytest.approx(10 * math.log10(255**2 / mse), abs=1e-6)


def test_region_covering_everything_leaves_nothing():
    x = _still((64, 48))
    k = SSIMKernel(*x.shape, data_range=255)
    prep = k.prepare(_region(x.shape, (8, 8, 48, 32)))
    assert prep.n_out == 0
    s = k.score(x, x, prep)
    assert math.isnan(s.ssim_outside)


def test_kernel_validates_its_inputs():
    with pytest.raises(ValueError, match="at least 11x11"):
        SSIMKernel(10, 100, data_range=255)
    k = SSIMKernel(20, 20, data_range=255)
    with pytest.raises(ValueError, match="must be 20x20"):
        k.frame(np.zeros((20, 21), np.uint8), np.zeros((20, 21), np.uint8))
    with pytest.raises(ValueError, match="bit depth"):
        data_range_for(0)


# --------------------------------------------------------------------------- --scale auto
def _ssim_m_downsample(img: np.ndarray, f: int) -> np.ndarray:
    """Reference: MATLAB ``imfilter(img, ones(f)/f^2, 'symmetric', 'same')``, then ``(1:f:end, 1:f:end)``."""
    a = img.astype(np.float64)
    c = (f + 1) // 2 - 1  # 0-based kernel centre
    pad = np.pad(a, ((c, f - 1 - c), (c, f - 1 - c)), mode="symmetric")
    out = np.zeros_like(a)
    for dy in range(f):
        for dx in range(f):
            out += pad[dy : dy + a.shape[0], dx : dx + a.shape[1]]
    return (out / (f * f))[::f, ::f]


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("shape", [(90, 160), (97, 131)])
def test_wang_downsample_matches_ssim_m(f, shape):
    x = _still((200, 120))[: shape[0], : shape[1]]
    got = wang_downsample(x, f)
    ref = _ssim_m_downsample(x, f)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_auto_scale_factor_rounds_like_matlab():
    assert auto_scale_factor(1080, 1920) == 4  # round(4.22)
    assert auto_scale_factor(720, 1280) == 3  # round(2.81)
    assert auto_scale_factor(384, 512) == 2  # round(1.5) = 2 (half away from zero)
    assert auto_scale_factor(90, 160) == 1
    assert auto_scale_factor(3840, 2160) == 8


def test_scaled_ssim_is_skimage_on_downsampled_images():
    x = _still((640, 360))
    y = cv2.GaussianBlur(x, (5, 5), 1.5)
    f = auto_scale_factor(*x.shape)
    xs, ys = _ssim_m_downsample(x, f), _ssim_m_downsample(y, f)
    ref = sk(xs, ys, 255)
    got = ssim(wang_downsample(x, f), wang_downsample(y, f), data_range=255).ssim_full
    assert got == pytest.approx(ref, abs=2e-5)


@pytest.mark.parametrize("native", [True, False], ids=["c", "numpy"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("f", [2, 3, 4, 5, 6, 7, 8, 16])
@pytest.mark.parametrize("shape", [(90, 160), (97, 131)])
def test_integer_block_means_are_bit_identical_to_float_area_resampling(native, dtype, f, shape, monkeypatch):
    # The integer paths (C kernel, numpy; no float copy of the frame) must give exactly what the
    # float32 path gives.
    import qa.ssim as S

    if native and S._native is None:
        pytest.skip("qa._ssimkernel not built")
    if not native:
        monkeypatch.setattr(S, "_native", None)
    rng = np.random.default_rng(f)
    x = rng.integers(0, 256 if dtype == np.uint8 else 65536, shape).astype(dtype)
    got = wang_downsample(x, f)
    ref = wang_downsample(x.astype(np.float32), f)  # float input takes INTER_AREA on float32
    assert got.dtype == np.float32 and np.array_equal(got, ref)
    np.testing.assert_allclose(got, _ssim_m_downsample(x.astype(np.float64), f), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("f", [2, 3, 4, 7, 15, 16])
def test_integer_block_means_hold_the_largest_sums(dtype, f):
    # The C kernel sums 8-bit columns in uint16 (f * 255 at most) and 16-bit ones in uint32: the
    # largest block sums, at every border case (reflected edges, a partial last block), must come
    # out exactly as the float32 path's.
    import qa.ssim as S

    if S._native is None:
        pytest.skip("qa._ssimkernel not built")
    top = np.iinfo(dtype).max
    h, w = 5 * f + 3, 9 * f + 1
    for x in (np.full((h, w), top, dtype), (np.indices((h, w)).sum(axis=0) % 2 * top).astype(dtype)):
        got = wang_downsample(x, f)
        np.testing.assert_array_equal(got, wang_downsample(x.astype(np.float32), f))
    assert got.max() <= top
