"""Exposure analyzer: range-aware statistics, graded real footage, flicker vs smooth changes."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from fixtures import exposure as graded
from preflight.check.analyzers.base import Analyzer
from preflight.check.analyzers.exposure import BLACK_LEVEL, WHITE_LEVEL, ExposureAnalyzer, ExposureResult
from preflight.check.shots import Shot
from preflight.check.verdict import exposure_flags
from preflight.media.decode import AnalysisGeometry, FrameBatch, iter_luma_batches
from preflight.media.probe import probe
from preflight.profile import load_profile

PROFILE = load_profile("aleph-2")
GEOMETRY = AnalysisGeometry(width=64, height=48, rotation=0, full_range=False, source_diagonal=80.0)


def run(path: Path | str) -> ExposureAnalyzer:
    geometry = AnalysisGeometry.for_probe(probe(str(path)))
    analyzer = ExposureAnalyzer()
    analyzer.start(geometry)
    for batch in iter_luma_batches(str(path), geometry):
        analyzer.process(batch)
    analyzer.finish()
    return analyzer


def clip_result(grade: str, *, full_range: bool = False) -> ExposureResult:
    clip = graded.graded_clip(grade, full_range=full_range)
    return run(clip.path).shot_exposure(Shot(0, clip.frames - 1))


def feed(frames: np.ndarray, *, full_range: bool, batch: int = 16) -> ExposureAnalyzer:
    """Run the analyzer on in-memory luma frames (N, H, W) uint8 at 25 fps."""
    geometry = dataclasses.replace(
        GEOMETRY, width=frames.shape[2], height=frames.shape[1], full_range=full_range
    )
    analyzer = ExposureAnalyzer()
    analyzer.start(geometry)
    for start in range(0, len(frames), batch):
        chunk = frames[start : start + batch]
        pts = np.arange(start, start + len(chunk), dtype=np.int64)
        analyzer.process(FrameBatch(start, pts, chunk, Fraction(1, 25)))
    analyzer.finish()
    return analyzer


def test_protocol_and_validation() -> None:
    assert isinstance(ExposureAnalyzer(), Analyzer)
    assert ExposureAnalyzer.name == "exposure"
    with pytest.raises(ValueError, match="flicker_window_s"):
        ExposureAnalyzer(flicker_window_s=0)


@pytest.mark.parametrize("full_range", [False, True])
def test_statistics_match_direct_numpy(full_range: bool) -> None:
    """The histogram path equals per-pixel normalisation + numpy reductions."""
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(40, 48, 64), dtype=np.uint8)
    frames[5] = 16  # limited-range black
    frames[6] = 235  # limited-range white
    signals = feed(frames, full_range=full_range).frame_signals()
    norm = frames / 255.0 if full_range else np.clip((frames.astype(np.float64) - 16) / 219, 0, 1)
    per_frame = (1, 2)
    np.testing.assert_allclose(signals["mean_luma"], norm.mean(axis=per_frame), atol=1e-6)
    np.testing.assert_allclose(signals["contrast"], norm.std(axis=per_frame), atol=1e-5)
    dark = 100 * (norm <= BLACK_LEVEL).mean(axis=per_frame)
    bright = 100 * (norm >= WHITE_LEVEL).mean(axis=per_frame)
    np.testing.assert_allclose(signals["dark_pct"], dark, atol=1e-4)
    np.testing.assert_allclose(signals["bright_pct"], bright, atol=1e-4)
    if not full_range:
        assert signals["mean_luma"][5] == 0 and signals["dark_pct"][5] == 100
        assert signals["mean_luma"][6] == pytest.approx(1) and signals["bright_pct"][6] == 100


def test_range_codes() -> None:
    """Code 16 is black and 235 white in limited range; in full range they are grey-ish."""
    frames = np.stack([np.full((48, 64), 16, np.uint8), np.full((48, 64), 235, np.uint8)])
    limited = feed(frames, full_range=False).frame_signals()["mean_luma"]
    full = feed(frames, full_range=True).frame_signals()["mean_luma"]
    np.testing.assert_allclose(limited, [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(full, [16 / 255, 235 / 255], atol=1e-6)


def test_shot_aggregation_uses_only_its_frames() -> None:
    dark = np.full((20, 48, 64), 20, np.uint8)
    bright = np.full((20, 48, 64), 232, np.uint8)
    analyzer = feed(np.concatenate([dark, bright]), full_range=False)
    first = analyzer.shot_exposure(Shot(0, 19))
    second = analyzer.shot_exposure(Shot(20, 39))
    assert exposure_flags(first, PROFILE) == ("under",) and exposure_flags(second, PROFILE) == ("over",)
    assert first.mean_luma == pytest.approx(4 / 219, abs=1e-6)
    assert first.flicker == pytest.approx(0.0, abs=1e-9)  # the step is at the shot boundary
    with pytest.raises(ValueError, match="outside"):
        analyzer.shot_exposure(Shot(30, 40))


def test_normal_clip_has_no_flags_and_true_mean() -> None:
    result = clip_result("normal")
    assert exposure_flags(result, PROFILE) == ()
    assert result.mean_luma == pytest.approx(graded.expected_mean_luma("normal").mean(), abs=0.01)
    assert result.dark_pct < 1 and result.bright_pct < 1
    assert 0.1 < result.contrast < 0.3


@pytest.mark.parametrize(
    ("grade", "flags"),
    [
        ("dark", ("under",)),
        ("crushed", ("under",)),
        ("bright", ("over",)),
        ("clipped", ("over",)),
        ("flicker", ("flicker",)),
        ("flicker_weak", ()),
        ("fade", ()),
        ("ae_step", ()),
        ("low_contrast", ()),
    ],
)
def test_graded_variants_flagged(grade: str, flags: tuple[str, ...]) -> None:
    result = clip_result(grade)
    assert exposure_flags(result, PROFILE) == flags, result
    assert result.mean_luma == pytest.approx(graded.expected_mean_luma(grade).mean(), abs=0.01)


def test_crushed_and_clipped_shares() -> None:
    crushed, clipped = clip_result("crushed"), clip_result("clipped")
    assert crushed.dark_pct > PROFILE.crushed_pct and crushed.mean_luma > PROFILE.dark_mean_luma
    assert clipped.bright_pct > PROFILE.clipped_pct and clipped.mean_luma < PROFILE.bright_mean_luma


@pytest.mark.parametrize("grade", ["flicker", "flicker_weak"])
def test_flicker_amplitude(grade: str) -> None:
    """A sinusoidal mean-luma swing of amplitude A reads A / sqrt(2)."""
    clip = graded.graded_clip(grade)
    result = run(clip.path).shot_exposure(Shot(0, clip.frames - 1))
    assert result.flicker == pytest.approx(clip.flicker_amplitude / math.sqrt(2), rel=0.2)


def test_smooth_changes_are_not_flicker() -> None:
    for grade in ("fade", "ae_step", "normal"):
        assert clip_result(grade).flicker < PROFILE.flicker_std * 0.75, grade


@pytest.mark.parametrize("grade", ["normal", "crushed", "clipped"])
def test_full_and_limited_range_agree(grade: str) -> None:
    limited = clip_result(grade)
    full = clip_result(grade, full_range=True)
    assert probe(str(graded.graded_clip(grade, full_range=True).path)).color_range == "full"
    assert full.mean_luma == pytest.approx(limited.mean_luma, abs=0.01)
    assert full.dark_pct == pytest.approx(limited.dark_pct, abs=2.0)
    assert full.bright_pct == pytest.approx(limited.bright_pct, abs=2.0)
    assert exposure_flags(full, PROFILE) == exposure_flags(limited, PROFILE)

