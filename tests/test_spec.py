"""The verdict is pure: findings from a probe + analysis + profile, checked rule by rule."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from preflight.check.analyze import Analysis, ShotMeasurement
from preflight.check.analyzers.exposure import ExposureResult, LumaLevels
from preflight.check.analyzers.shake import ShakeResult
from preflight.check.analyzers.sharpness import SharpnessResult
from preflight.check.shots import Transition
from preflight.check.verdict import evaluate, exposure_flags, judge_shot, judge_shots, passed
from preflight.media.decode import AnalysisGeometry
from preflight.media.probe import Probe
from preflight.profile import load_profile

PROFILE = load_profile("aleph-2")


def make_probe(**overrides) -> Probe:
    base = dict(
        path="clip.mp4", container="mov,mp4", codec="h264", width=1920, height=1080,
        sar=Fraction(1), rotation=0, display_width=1920, display_height=1080, pix_fmt="yuv420p",
        bit_depth=8, color_range="limited", color_transfer="bt709", hdr=None,
        field_order="progressive", time_base=Fraction(1, 30), fps_declared=Fraction(30),
        fps_measured=30.0, vfr=False, frame_count=300, start_pts=0, duration_s=10.0,
        size_bytes=1, audio=(),
    )
    base.update(overrides)
    return Probe(**base)


def make_shot(start=0, end=299, *, shake=0.05, luma=0.45, dark=0.0, bright=0.0, flicker=0.001, sharp=0.6,
              outside_holds=True):
    """A measured shot; ``outside_holds`` False: every frame holds a fade (nothing to judge)."""
    levels = LumaLevels(mean_luma=luma, dark_pct=dark, bright_pct=bright) if outside_holds else None
    return ShotMeasurement(
        start_frame=start, end_frame=end, start_s=start / 30, end_s=(end + 1) / 30,
        shake=ShakeResult(score_pct=shake, jitter_rms_px=shake * 22.0, frames=end - start + 1,
                          reliable_share=1.0, pan_speed_pct=0.0),
        exposure=ExposureResult(mean_luma=luma, dark_pct=dark, bright_pct=bright, contrast=0.2,
                                flicker=flicker, frames=end - start + 1, outside_holds=levels),
        sharpness=SharpnessResult(value=sharp, low=sharp, frames=end - start + 1, measured_share=1.0),
    )


def make_analysis(probe: Probe | None = None, *, cuts=0, shots=None, warnings=()) -> Analysis:
    probe = probe or make_probe()
    n = probe.frame_count
    transitions = tuple(
        Transition("cut", f, f, f / 30, f / 30, 0.9) for f in np.linspace(10, n - 10, cuts, dtype=int)
    )
    return Analysis(
        probe=probe,
        geometry=AnalysisGeometry(320, 180, 0, False, 2202.9),
        frame_count=n,
        pts=np.arange(n, dtype=np.int64),
        time_base=Fraction(1, 30),
        transitions=transitions,
        shots=tuple(shots or [make_shot(0, n - 1)]),
        signals={},
        comparisons={},
        warnings=tuple(warnings),
    )


def ids(findings, severity=None):
    return {f.id for f in findings if severity is None or f.severity == severity}


def test_compliant_clip_has_no_findings():
    findings = evaluate(make_analysis(), PROFILE)
    assert findings == () and passed(findings)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"duration_s": 1.5}, "duration_short"),
        ({"duration_s": 31.0}, "duration_long"),
        ({"display_width": 640, "display_height": 360}, "resolution_low"),
        ({"display_width": 3840, "display_height": 2160}, "resolution_high"),
        ({"fps_measured": 60.0}, "frame_rate_range"),
        ({"fps_measured": 23.0}, "frame_rate_range"),
        ({"vfr": True}, "frame_rate_variable"),
        ({"display_width": 1200, "display_height": 600}, "aspect_unconventional"),
    ],
)
def test_each_hard_rule_is_an_error(overrides, expected):
    findings = evaluate(make_analysis(make_probe(**overrides)), PROFILE)
    assert ids(findings, "error") == {expected}
    assert not passed(findings)
    (f,) = [f for f in findings if f.id == expected]
    assert f.message and f.hint and f.limit is not None


def test_boundaries_are_inclusive():
    p = make_probe(duration_s=30.0, display_width=854, display_height=480, fps_measured=24.0)
    assert passed(evaluate(make_analysis(p), PROFILE))
    p = make_probe(duration_s=2.0, fps_measured=30.0, display_width=1080, display_height=1920)
    assert passed(evaluate(make_analysis(p), PROFILE))


def test_ntsc_rates_are_in_range():
    assert passed(evaluate(make_analysis(make_probe(fps_measured=24000 / 1001)), PROFILE)) is False
    assert passed(evaluate(make_analysis(make_probe(fps_measured=30000 / 1001)), PROFILE))


def test_cut_limit():
    assert passed(evaluate(make_analysis(cuts=10), PROFILE))
    findings = evaluate(make_analysis(cuts=11), PROFILE)
    (f,) = [f for f in findings if f.id == "too_many_cuts"]
    assert (f.value, f.limit, f.severity) == (11, 10, "error")
    assert "2 segments" in f.hint


def test_quality_problems_are_warnings_only():
    shots = [
        make_shot(0, 99, shake=0.9),
        make_shot(100, 199, luma=0.05, dark=60.0),
        make_shot(200, 299, sharp=0.01, flicker=0.05, luma=0.95, bright=40.0),
    ]
    findings = evaluate(make_analysis(shots=shots), PROFILE)
    assert passed(findings)
    assert ids(findings, "warning") == {"shake", "underexposed", "overexposed", "flicker", "soft"}
    shake = next(f for f in findings if f.id == "shake")
    assert "shot 1" in shake.message and "handheld" in shake.message


def test_moderate_shake_is_not_reported():
    findings = evaluate(make_analysis(shots=[make_shot(shake=0.3)]), PROFILE)
    assert "shake" not in ids(findings)


def test_format_warnings_and_decode_damage():
    p = make_probe(bit_depth=10, hdr="PQ (SMPTE 2084)", field_order="tt")
    findings = evaluate(make_analysis(p, warnings=("clip.mp4: 3 damaged packet(s)",)), PROFILE)
    assert ids(findings, "warning") == {"bit_depth", "hdr", "interlaced", "damaged_stream"}


def test_gen4_output_sizes():
    gen4 = load_profile("gen4-aleph")
    probe = make_probe(duration_s=5.0, width=1280, height=720, display_width=1280, display_height=720)
    assert "output_size" not in ids(evaluate(make_analysis(probe), gen4))
    odd = dataclasses.replace(probe, display_width=1024, display_height=576)
    assert "output_size" in ids(evaluate(make_analysis(odd), gen4))


def test_errors_sorted_first():
    p = make_probe(bit_depth=10, duration_s=40.0)
    findings = evaluate(make_analysis(p), PROFILE)
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != "error")


# ---------------------------------------------------------------- measurements x profile -> verdict

# A lenient profile: shake classes twice as wide, darker/brighter limits, a larger flicker swing.
LENIENT = dataclasses.replace(
    PROFILE, name="lenient", shake_thresholds_pct=(0.3, 1.0, 3.0), dark_mean_luma=0.10,
    crushed_pct=40.0, bright_mean_luma=0.95, flicker_std=0.05,
)


def hand_built_shots() -> list[ShotMeasurement]:
    """Four measured shots whose verdict under PROFILE and LENIENT is known by construction."""
    # A fade's black hold at the start of shot 3: overall means dark, outside the hold normal.
    held = make_shot(200, 249, luma=0.08, dark=55.0)
    held = dataclasses.replace(held, exposure=dataclasses.replace(
        held.exposure, outside_holds=LumaLevels(mean_luma=0.40, dark_pct=30.0, bright_pct=0.0)))
    return [
        make_shot(0, 99, shake=0.6, luma=0.12, dark=10.0, flicker=0.03),
        make_shot(100, 199, shake=2.0, luma=0.0, dark=100.0, outside_holds=False),
        held,
        make_shot(250, 299, shake=0.2, luma=0.90, bright=5.0),
    ]


@pytest.mark.parametrize(
    ("profile", "classes", "flags", "warnings"),
    [
        (
            PROFILE,
            ["handheld", "severe", "stable", "moderate"],
            [("under", "flicker"), (), ("under",), ("over",)],
            ["shake", "underexposed", "flicker", "shake", "underexposed", "overexposed"],
        ),
        (
            LENIENT,
            ["moderate", "handheld", "stable", "stable"],
            [(), (), (), ()],
            ["shake"],
        ),
    ],
)
def test_verdict_applies_each_profile_to_the_same_measurements(profile, classes, flags, warnings):
    """Shake class and exposure flags come from the profile alone: the same hand-built
    measurements give each profile's own classes, flags and warnings. Shot 2 holds a fade from
    end to end (nothing outside the hold to judge): never under, however dark."""
    analysis = make_analysis(shots=hand_built_shots())
    judged = judge_shots(analysis, profile)
    assert [v.measured for v in judged] == list(analysis.shots)
    assert [v.shake_class for v in judged] == classes
    assert [v.exposure_flags for v in judged] == flags
    quality = [f.id for f in evaluate(analysis, profile) if f.id in {
        "shake", "underexposed", "overexposed", "flicker", "soft"}]
    assert quality == warnings


def test_shot_json_carries_the_verdict_of_its_profile():
    shot = hand_built_shots()[0]
    strict, lenient = judge_shot(shot, PROFILE).to_dict(), judge_shot(shot, LENIENT).to_dict()
    assert (strict["shake"]["class"], strict["exposure"]["flags"]) == ("handheld", ["under", "flicker"])
    assert (lenient["shake"]["class"], lenient["exposure"]["flags"]) == ("moderate", [])
    for doc in (strict, lenient):
        doc["shake"].pop("class"), doc["exposure"].pop("flags")
    assert strict == lenient  # the measured numbers do not depend on the profile


def test_exposure_flags_use_the_frames_outside_fade_holds():
    """``under``/``over`` read ``outside_holds``, not the overall means; ``flicker`` the shot."""
    dark_overall = ExposureResult(mean_luma=0.02, dark_pct=90.0, bright_pct=0.0, contrast=0.1,
                                  flicker=0.0, frames=30,
                                  outside_holds=LumaLevels(mean_luma=0.5, dark_pct=1.0, bright_pct=1.0))
    assert exposure_flags(dark_overall, PROFILE) == ()
    bright_inside = dataclasses.replace(
        dark_overall, outside_holds=LumaLevels(mean_luma=0.5, dark_pct=1.0, bright_pct=21.0))
    assert exposure_flags(bright_inside, PROFILE) == ("over",)
    assert exposure_flags(bright_inside, LENIENT) == ("over",)  # clipped_pct 20 in both
    all_held = dataclasses.replace(dark_overall, outside_holds=None, flicker=0.03)
    assert exposure_flags(all_held, PROFILE) == ("flicker",)
    assert exposure_flags(all_held, LENIENT) == ()
