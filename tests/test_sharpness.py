"""Sharpness analyzer: reference implementation of Crété-Roffet et al. 2007 and graded blur."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from fixtures import exposure as graded
from fixtures.synth import MEDIA
from preflight.check.analyzers.base import Analyzer
from preflight.check.analyzers.sharpness import SharpnessAnalyzer, SharpnessResult, frame_sharpness
from preflight.check.shots import Shot
from preflight.media.decode import AnalysisGeometry, FrameBatch, iter_luma_batches
from preflight.media.probe import probe
from preflight.profile import load_profile

PROFILE = load_profile("aleph-2")


def reference(frame: np.ndarray) -> float:
    """Crété-Roffet 2007 written out per frame: re-blur with a 9-tap mean along each axis, compare
    absolute neighbour differences, 1 - blur = min over the two axes of sum(V) / sum(D_F).
    Sums over positions whose filter support lies inside the frame."""
    f = frame.astype(np.float64)
    out = []
    for axis in (0, 1):
        blurred = uniform_filter1d(f, 9, axis=axis)
        d_f = np.abs(np.diff(f, axis=axis))
        d_b = np.abs(np.diff(blurred, axis=axis))
        v = np.maximum(0.0, d_f - d_b)
        inside = [slice(None), slice(None)]
        inside[axis] = slice(4, f.shape[axis] - 5)  # pairs (x-1, x), x = 5 .. n-5
        out.append(v[tuple(inside)].sum() / d_f[tuple(inside)].sum())
    return min(out)


def luma_of(path: Path | str) -> tuple[AnalysisGeometry, list[FrameBatch]]:
    geometry = AnalysisGeometry.for_probe(probe(str(path)))
    return geometry, list(iter_luma_batches(str(path), geometry))


def shot_value(path: Path | str) -> SharpnessResult:
    geometry, batches = luma_of(path)
    analyzer = SharpnessAnalyzer()
    analyzer.start(geometry)
    for batch in batches:
        analyzer.process(batch)
    analyzer.finish()
    n = sum(len(b) for b in batches)
    return analyzer.shot_sharpness(Shot(0, n - 1))


def test_protocol() -> None:
    assert isinstance(SharpnessAnalyzer(), Analyzer)
    assert SharpnessAnalyzer.name == "sharpness"
    tiny = AnalysisGeometry(width=8, height=8, rotation=0, full_range=False, source_diagonal=11.3)
    with pytest.raises(ValueError, match="too small"):
        SharpnessAnalyzer().start(tiny)
    with pytest.raises(ValueError, match="uint8"):
        frame_sharpness(np.zeros((2, 20, 20), np.float32))


@pytest.mark.parametrize("clip", ["skv_bikes.mp4", "foreman_cif_handheld.mp4"])
def test_matches_reference_implementation(clip: str) -> None:
    _, batches = luma_of(MEDIA / clip)
    luma = batches[1].luma
    expected = np.array([reference(f) for f in luma])
    np.testing.assert_allclose(frame_sharpness(luma), expected, atol=1e-9)


def test_frames_do_not_mix_in_a_batch() -> None:
    """Stacking a batch into one tall image must not let frames bleed into each other."""
    _, batches = luma_of(MEDIA / "skv_bikes.mp4")
    luma = batches[0].luma[:6].copy()
    luma[1] = 255 - luma[1]
    luma[3] = 0
    together = frame_sharpness(luma)
    alone = np.array([frame_sharpness(f[None])[0] for f in luma])
    np.testing.assert_array_equal(np.isnan(together), np.isnan(alone))
    np.testing.assert_allclose(together[~np.isnan(alone)], alone[~np.isnan(alone)], atol=1e-12)
    assert math.isnan(together[3])  # flat frame: undefined


def test_gain_and_offset_invariance() -> None:
    rng = np.random.default_rng(0)
    base = cv_blurred_noise(rng)
    scaled = np.clip(np.rint(base.astype(np.float64) * 0.5 + 60), 0, 255).astype(np.uint8)
    a, b = frame_sharpness(np.stack([base, scaled]))
    assert b == pytest.approx(a, abs=0.02)


def cv_blurred_noise(rng: np.random.Generator) -> np.ndarray:
    import cv2

    noise = rng.normal(128, 60, size=(120, 160)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.0), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def graded_values() -> dict[str, float]:
    """Shot sharpness of the real bikes shot at 320 px and its blurred / low-contrast grades."""
    return {
        grade: shot_value(graded.graded_clip(grade, width=320).path).value
        for grade in ("normal", "gauss2", "gauss4", "motion", "low_contrast")
    }


def test_blur_lowers_sharpness_monotonically(graded_values: dict[str, float]) -> None:
    v = graded_values
    assert v["normal"] > v["gauss2"] > v["gauss4"], v
    assert v["motion"] < v["normal"] - 0.2, v


def test_blurred_below_threshold_original_above(graded_values: dict[str, float]) -> None:
    v = graded_values
    assert v["normal"] > PROFILE.soft_sharpness, v
    for grade in ("gauss2", "gauss4", "motion"):
        assert v[grade] < PROFILE.soft_sharpness, (grade, v)


def test_low_contrast_sharp_stays_sharp(graded_values: dict[str, float]) -> None:
    v = graded_values
    assert v["low_contrast"] > PROFILE.soft_sharpness
    assert v["low_contrast"] == pytest.approx(v["normal"], abs=0.05)


def test_real_clips_not_soft() -> None:
    for clip in ("skv_bikes.mp4", "foreman_cif_handheld.mp4", "skv_carphone_pristine.mp4"):
        result = shot_value(MEDIA / clip)
        assert result.value > PROFILE.soft_sharpness, (clip, result)
        assert 0 <= result.low <= result.value <= 1
        assert result.measured_share == 1.0


def test_flat_shot_is_unmeasured_not_soft() -> None:
    geometry = AnalysisGeometry(width=64, height=48, rotation=0, full_range=False, source_diagonal=80.0)
    analyzer = SharpnessAnalyzer()
    analyzer.start(geometry)
    frames = np.full((10, 48, 64), 16, np.uint8)
    analyzer.process(FrameBatch(0, np.arange(10, dtype=np.int64), frames, Fraction(1, 25)))
    analyzer.finish()
    result = analyzer.shot_sharpness(Shot(0, 9))
    assert math.isnan(result.value) and result.measured_share == 0.0
    assert not result.value < PROFILE.soft_sharpness  # never flagged soft
    assert np.isnan(analyzer.frame_signals()["value"]).all()
    with pytest.raises(ValueError, match="outside"):
        analyzer.shot_sharpness(Shot(5, 10))

