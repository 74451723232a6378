"""Pure tests of the fix plan: frame-rate policy, size/aspect policy, optimal segmentation.

Segment plans are checked for validity on every case, and for optimality against brute force
(every subset of boundaries) on small cases and against an independent pure-Python solver
restricted to shot boundaries on the large ones.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from preflight.check.shots import Transition
from preflight.fix.plan import NoPlanError, make_plan, validate_encoder_options
from preflight.fix.plan.rate import plan_rate
from preflight.fix.plan.segments import (
    Span,
    count_inside,
    frame_limits,
    segmentation_cost,
    segmentation_problems,
    shot_boundary_flags,
    solve_segments,
)
from preflight.fix.plan.size import plan_aspect, plan_size
from preflight.media.probe import AudioInfo, Probe
from preflight.profile import load_profile

PROFILE = load_profile("aleph-2")


def make_probe(
    *,
    width: int = 1920,
    height: int = 1080,
    fps: Fraction | float = Fraction(30),
    frames: int | None = None,
    seconds: float = 10.0,
    vfr: bool = False,
    sar: Fraction = Fraction(1),
    rotation: int = 0,
    audio: tuple[AudioInfo, ...] = (),
    bit_depth: int = 8,
    hdr: str | None = None,
) -> Probe:
    """A Probe as :func:`preflight.probe.probe` would report it for such a clip."""
    rate = Fraction(fps).limit_denominator(100000)
    n = frames if frames is not None else round(seconds * rate)
    dw = max(2, round(width * float(sar) / 2) * 2)
    dh = height
    if rotation % 180:
        dw, dh = dh, dw
    return Probe(
        path="clip.mp4", container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", width=width, height=height,
        sar=sar, rotation=rotation, display_width=dw, display_height=dh,
        pix_fmt="yuv420p10le" if bit_depth > 8 else "yuv420p", bit_depth=bit_depth, color_range="limited",
        color_transfer="smpte2084" if hdr else "bt709", hdr=hdr, field_order="progressive",
        time_base=Fraction(1, 90000), fps_declared=rate, fps_measured=float(rate), vfr=vfr,
        frame_count=n, start_pts=0, duration_s=float(n / rate), size_bytes=1, audio=audio,
    )


# --------------------------------------------------------------------------- frame rate


@pytest.mark.parametrize(
    ("src", "want", "mode", "step"),
    [
        (Fraction(60), Fraction(30), "decimate", 2),
        (Fraction(50), Fraction(25), "decimate", 2),
        (Fraction(48), Fraction(24), "decimate", 2),
        (Fraction(120), Fraction(30), "decimate", 4),
        (Fraction(100), Fraction(25), "decimate", 4),
        (Fraction(60000, 1001), Fraction(30000, 1001), "decimate", 2),
        (Fraction(30), Fraction(30), "keep", 1),
        (Fraction(25), Fraction(25), "keep", 1),
        (Fraction(24), Fraction(24), "keep", 1),
        (Fraction(30000, 1001), Fraction(30000, 1001), "keep", 1),
        (Fraction(24000, 1001), Fraction(24), "conform", 1),
        (Fraction(15), Fraction(30), "repeat", 2),
        (Fraction(12), Fraction(24), "repeat", 2),
        (Fraction(40), Fraction(30), "resample", 1),
        (Fraction(20), Fraction(24), "resample", 1),
    ],
)
def test_frame_rate_table(src, want, mode, step):
    rate, warnings = plan_rate(make_probe(fps=src, seconds=10), PROFILE)
    assert rate.fps == want
    assert rate.mode == mode
    assert rate.step == step
    assert PROFILE.min_fps <= float(rate.fps) <= PROFILE.max_fps
    # Repetition and irregular resampling are warned; keep/decimate/conform are not.
    assert bool(warnings) == (mode in ("repeat", "resample"))


def test_ntsc_conform_retimes_never_duplicates():
    p = make_probe(fps=Fraction(24000, 1001), frames=2400)
    rate, _ = plan_rate(p, PROFILE)
    assert rate.retime == Fraction(1001, 1000)
    assert rate.frame_count == p.frame_count  # every frame once, none added
    assert [rate.source_index(k) for k in range(5)] == [0, 1, 2, 3, 4]
    assert "retim" in rate.reason and "no frame duplicated" in rate.reason
    assert rate.source_seconds(2400) == pytest.approx(2400 * 1001 / 24000)


def test_decimation_frame_mapping_and_count():
    rate, _ = plan_rate(make_probe(fps=60, frames=3601), PROFILE)
    assert rate.frame_count == 1801  # frames 0, 2, ..., 3600
    assert rate.source_index(1800) == 3600
    assert rate.output_frame_of_source(3, 3 / 60) == 2  # a cut at odd frame 3 shows at output 2
    rate, _ = plan_rate(make_probe(fps=15, frames=100), PROFILE)
    assert rate.frame_count == 200 and rate.source_index(199) == 99


def test_vfr_becomes_cfr_at_whole_rate():
    rate, warnings = plan_rate(make_probe(fps=Fraction(16), seconds=10, vfr=True), PROFILE)
    assert (rate.mode, rate.fps, rate.frame_count) == ("resample", 24, 240)
    assert warnings
    rate, _ = plan_rate(make_probe(fps=29.6, seconds=10, vfr=True), PROFILE)
    assert rate.fps == 30 and rate.mode == "resample"


def test_rate_policy_follows_profile_limits():
    pal_only = dataclasses.replace(PROFILE, min_fps=25.0, max_fps=25.0)
    rate, _ = plan_rate(make_probe(fps=50), pal_only)
    assert rate.fps == 25 and rate.mode == "decimate"
    rate, warnings = plan_rate(make_probe(fps=30), pal_only)
    assert rate.fps == 25 and rate.mode == "resample" and warnings


# --------------------------------------------------------------------------- size and aspect


def _size(probe: Probe, aspect: str | None = None):
    a, aw = plan_aspect(probe, PROFILE, mode=aspect)
    s, sw = plan_size(probe, PROFILE, a)
    return a, s, aw + sw


@pytest.mark.parametrize(
    ("kw", "want", "warned"),
    [
        ({"width": 3840, "height": 2160}, (1920, 1080), False),
        ({"width": 640, "height": 360}, (854, 480), True),
        ({"width": 1080, "height": 1920}, (1080, 1920), False),
        ({"width": 704, "height": 576, "sar": Fraction(16, 11)}, (1024, 576), False),
        ({"width": 1920, "height": 1080, "rotation": 90}, (1080, 1920), False),
        ({"width": 640, "height": 360, "rotation": 90}, (480, 854), True),
        ({"width": 1280, "height": 720}, (1280, 720), False),
    ],
    ids=["4k", "360p-upscale", "portrait", "anamorphic-pal", "phone-rot90", "phone-rot90-small", "720p"],
)
def test_size_policy(kw, want, warned):
    p = make_probe(**kw)
    _a, s, warnings = _size(p)
    assert (s.width, s.height) == want
    assert s.width % 2 == 0 and s.height % 2 == 0
    assert PROFILE.min_short_side <= min(s.width, s.height) <= PROFILE.max_short_side
    # Displayed aspect kept (SAR and rotation applied), within one pixel of rounding.
    assert abs(s.width / s.height - p.display_aspect) < 2.5 / min(s.width, s.height)
    assert s.rotation == kw.get("rotation", 0)
    assert any("upscaled" in w for w in warnings) == warned


@pytest.mark.parametrize("mode", ["pad", "crop"])
def test_aspect_conform(mode):
    p = make_probe(width=800, height=224)  # 3.57:1, vidstab side-by-side
    a, s, _ = _size(p, aspect=mode)
    assert not a.conventional and a.nearest == "21:9" and a.mode == mode
    assert abs((s.width / s.height) / (21 / 9) - 1) <= PROFILE.aspect_tolerance
    assert min(s.width, s.height) == 480
    if mode == "pad":
        assert s.pad is not None and s.scaled_width <= s.width and s.scaled_height <= s.height
        assert s.pad[1] * 2 + s.scaled_height <= s.height and s.pad[1] % 2 == 0
    else:
        assert s.crop is not None and s.scaled_width >= s.width and s.scaled_height >= s.height
        assert s.crop[0] + s.width <= s.scaled_width and s.crop[0] % 2 == 0


def test_nonconventional_aspect_reported_not_changed():
    a, s, warnings = _size(make_probe(width=800, height=224))
    assert not a.conventional and a.mode is None
    assert any("not conventional" in w for w in warnings)
    assert s.pad is None and s.crop is None
    assert abs(s.width / s.height - 800 / 224) < 0.02


def test_encoder_settings_and_validation():
    p = make_probe(audio=(AudioInfo(1, "aac", 48000, 2, 10.0),), bit_depth=10, hdr="PQ (SMPTE 2084)")
    plan = make_plan(p, [], PROFILE, crf=20, preset="fast")
    e = plan.encoder
    assert (e.codec, e.profile, e.pix_fmt, e.crf, e.preset, e.movflags) == (
        "libx264", "High", "yuv420p", 20, "fast", "+faststart"
    )
    assert e.audio == "copy"
    assert any("10-bit" in w for w in plan.warnings) and any("HDR" in w for w in plan.warnings)
    assert e.tonemap == "pq" and "BT.2390" in e.reason
    conform = make_plan(make_probe(fps=Fraction(24000, 1001), audio=(AudioInfo(1, "aac", 48000, 2, 10.01),)),
                        [], PROFILE)
    assert conform.encoder.audio == "aac" and "atempo" in conform.encoder.audio_reason
    pcm = make_plan(make_probe(audio=(AudioInfo(1, "pcm_s16le", 48000, 2, 10.0),)), [], PROFILE)
    assert pcm.encoder.audio == "aac"
    for crf, preset in [(52, "fast"), (-1, "fast"), (18, "warp")]:
        with pytest.raises(ValueError, match=r"crf|preset"):
            validate_encoder_options(crf=crf, preset=preset)


# --------------------------------------------------------------------------- segmentation


def brute_force(n: int, spans: list[Span], min_f: int, max_f: int, max_cuts: int):
    """Minimum cost over every subset of boundaries (reference for small n)."""
    flags = shot_boundary_flags(spans, n)
    best = None
    for r in range(0, n):
        for inner in itertools.combinations(range(1, n), r):
            bounds = (0, *inner, n)
            if segmentation_problems(bounds, spans, min_frames=min_f, max_frames=max_f, max_cuts=max_cuts):
                continue
            key = segmentation_cost(bounds, flags).key()
            if best is None or key < best:
                best = key
    return best


def shot_boundary_reference(n: int, spans: list[Span], min_f: int, max_f: int, max_cuts: int):
    """Independent exact solver over shot boundaries only, plain Python: the optimum of a case
    with any valid all-shot-boundary plan has no in-shot split, so this must match."""
    flags = shot_boundary_flags(spans, n)
    cands = [p for p in range(n + 1) if flags[p]]
    best: dict[int, tuple[int, int] | None] = {0: (0, 0)}
    for p in cands[1:]:
        options = []
        for q in cands:
            if q >= p:
                break
            if best.get(q) is None or not min_f <= p - q <= max_f or count_inside(spans, q, p) > max_cuts:
                continue
            b, c = best[q]
            options.append((b + 1, c + (p - q) ** 2))
        best[p] = min(options) if options else None
    return None if best.get(n) is None else (0, *best[n])


def cuts_at(frames: list[int]) -> list[Span]:
    return [Span("cut", f, f) for f in frames]


def check_valid(bounds, spans, min_f, max_f, max_cuts, n):
    assert bounds[0] == 0 and bounds[-1] == n
    assert list(bounds) == sorted(set(bounds))
    assert not segmentation_problems(bounds, spans, min_frames=min_f, max_frames=max_f, max_cuts=max_cuts)


def test_brute_force_small_cases():
    rng = np.random.default_rng(7)
    checked = infeasible = 0
    for _ in range(60):
        n = int(rng.integers(6, 15))
        min_f, max_f = int(rng.integers(2, 4)), int(rng.integers(4, 8))
        max_cuts = int(rng.integers(0, 3))
        spans: list[Span] = []
        pos = 1
        while pos < n:
            pos += int(rng.integers(1, 5))
            if pos >= n:
                break
            if rng.random() < 0.3 and pos + 1 < n:
                spans.append(Span("dissolve", pos, pos + 1))
                pos += 2
            else:
                spans.append(Span("cut", pos, pos))
        ref = brute_force(n, spans, min_f, max_f, max_cuts)
        try:
            bounds = solve_segments(n, spans, min_frames=min_f, max_frames=max_f, max_cuts=max_cuts)
        except NoPlanError:
            assert ref is None, (n, spans, min_f, max_f, max_cuts)
            infeasible += 1
            continue
        check_valid(bounds, spans, min_f, max_f, max_cuts, n)
        assert segmentation_cost(bounds, shot_boundary_flags(spans, n)).key() == ref
        checked += 1
    assert checked >= 30 and infeasible >= 1


def _plan_for(seconds: float, cut_seconds: list[float], fps: int = 30, gradual=()):
    n = round(seconds * fps)
    transitions = [Transition("cut", round(t * fps), round(t * fps), t, t, 1.0) for t in cut_seconds]
    for kind, a, b in gradual:
        transitions.append(Transition(kind, round(a * fps), round(b * fps), a, b, 1.0))
    return make_plan(make_probe(fps=fps, frames=n), transitions, PROFILE)


def _plan_bounds(plan):
    return (0, *[s.end_frame for s in plan.segments])


def _check_plan(plan):
    assert plan.ok, plan.problem
    min_f, max_f = frame_limits(plan.fps, PROFILE)
    bounds = _plan_bounds(plan)
    check_valid(bounds, list(plan.spans), min_f, max_f, PROFILE.max_cuts, plan.frame_count)
    for s in plan.segments:
        assert PROFILE.min_duration_s <= s.duration_s <= PROFILE.max_duration_s + 1e-9
        assert len(s.transitions) <= PROFILE.max_cuts
    json.dumps(plan.to_dict())
    return bounds


def test_95s_with_25_cuts():
    rng = np.random.default_rng(95)
    cuts = sorted(float(x) for x in rng.choice(np.arange(1, 94, 0.5), 25, replace=False))
    plan = _plan_for(95, cuts)
    bounds = _check_plan(plan)
    assert len(plan.segments) == 4  # ceil(95 / 30)
    assert not any(s.in_shot for s in plan.segments)
    min_f, max_f = frame_limits(plan.fps, PROFILE)
    ref = shot_boundary_reference(plan.frame_count, list(plan.spans), min_f, max_f, PROFILE.max_cuts)
    assert segmentation_cost(bounds, shot_boundary_flags(plan.spans, plan.frame_count)).key() == ref


def test_31s_without_cuts_splits_evenly_inside_the_shot():
    plan = _plan_for(31, [])
    _check_plan(plan)
    assert [s.frame_count for s in plan.segments] == [465, 465]
    assert plan.segments[1].in_shot and "inside a shot" in plan.segments[1].boundary


def test_12_cuts_in_20s_split_at_a_shot():
    cuts = [1.5 * i for i in range(1, 13)]  # 1.5 ... 18 s
    plan = _plan_for(20, cuts)
    bounds = _check_plan(plan)
    assert len(plan.segments) == 2 and not plan.segments[1].in_shot
    assert bounds[1] in {round(c * 30) for c in cuts}
    # Most balanced shot boundary: 9 s or 10.5 s (both leave <= 10 cuts a side); 10.5 is closer to 10.
    assert bounds[1] == 315


def test_cut_half_a_second_before_the_30s_mark():
    plan = _plan_for(40, [29.5])
    _check_plan(plan)
    assert [s.end_frame for s in plan.segments] == [885, 1200]  # at the cut, not at 30 s
    assert plan.segments[1].boundary.startswith("at the cut")


def test_cut_exactly_at_30s():
    plan = _plan_for(60, [30.0])
    _check_plan(plan)
    assert [s.frame_count for s in plan.segments] == [900, 900]


def test_single_long_shot_has_no_tiny_tail():
    plan = _plan_for(62, [])
    _check_plan(plan)
    lengths = [s.frame_count for s in plan.segments]
    assert len(lengths) == 3 and max(lengths) - min(lengths) <= 1  # 20.67 s each, not 30/30/2


def test_long_shot_between_short_ones_needs_an_in_shot_split():
    # Shots 1 s / 29.5 s / 1 s: no shot-boundary split is valid (1 s < 2 s minimum, 30.5 s > 30).
    plan = _plan_for(31.5, [1.0, 30.5])
    _check_plan(plan)
    assert len(plan.segments) == 2 and sum(s.in_shot for s in plan.segments) == 1
    assert abs(plan.segments[0].frame_count - plan.segments[1].frame_count) <= 1


def test_no_split_needed():
    plan = _plan_for(25, [2.0 * i for i in range(1, 11)])
    _check_plan(plan)
    assert len(plan.segments) == 1 and plan.split_reason.startswith("no split")


def test_too_short_says_why():
    plan = _plan_for(1.5, [])
    assert not plan.ok and not plan.segments
    assert "shorter than the profile minimum" in plan.problem


def test_cut_density_infeasible_says_why():
    plan = _plan_for(4, [0.15 * i for i in range(1, 26)])
    assert not plan.ok
    assert "transitions fall within" in plan.problem


def test_dissolve_is_not_split():
    # A 1.5 s dissolve straddling the 30 s mark in a 45 s clip: split before or after it.
    plan = _plan_for(45, [], gradual=[("dissolve", 28.0, 31.0)])
    _check_plan(plan)
    b = plan.segments[1].start_frame
    assert b in (28 * 30, 31 * 30 + 1)
    assert not plan.segments[1].in_shot
    assert sum(len(s.transitions) for s in plan.segments) == 1


def test_ntsc_segments_in_output_frames():
    n = 1440  # 60.06 s at 23.976, 60 s at 24 after conforming
    p = make_probe(fps=Fraction(24000, 1001), frames=n)
    plan = make_plan(p, [], PROFILE)
    _check_plan(plan)
    assert plan.fps == 24 and [s.frame_count for s in plan.segments] == [720, 720]
    assert plan.segments[1].source_start_s == pytest.approx(720 * 1001 / 24000)


def test_decimated_cuts_map_to_output_frames():
    # 60 fps with cuts on odd frames: they appear at the next kept frame.
    cuts = [301, 1201, 2403]
    trans = [Transition("cut", c, c, c / 60, c / 60, 1.0) for c in cuts]
    plan = make_plan(make_probe(fps=60, frames=3600), trans, PROFILE)
    _check_plan(plan)
    assert [s.start for s in plan.spans] == [151, 601, 1202]
    # Two 30 s halves would split inside a shot; three segments at cuts are preferred.
    assert [s.start_frame for s in plan.segments] == [0, 601, 1202]
    assert not any(s.in_shot for s in plan.segments)


def test_many_random_long_cases_match_reference():
    rng = np.random.default_rng(11)
    for _ in range(6):
        seconds = float(rng.uniform(35, 150))
        k = int(rng.integers(5, 40))
        cuts = sorted({round(float(x), 1) for x in rng.uniform(0.5, seconds - 0.5, k)})
        plan = _plan_for(seconds, cuts, fps=24)
        bounds = _check_plan(plan)
        min_f, max_f = frame_limits(plan.fps, PROFILE)
        ref = shot_boundary_reference(plan.frame_count, list(plan.spans), min_f, max_f, PROFILE.max_cuts)
        key = segmentation_cost(bounds, shot_boundary_flags(plan.spans, plan.frame_count)).key()
        if ref is not None:
            assert key == ref
        assert len(plan.segments) >= math.ceil(seconds / PROFILE.max_duration_s - 1e-9)


def test_solver_scales_to_an_hour():
    # An hour at 30 fps: a solver quadratic in frames would not finish within the CI budget
    # (speed itself is measured by benchmarks, not asserted here).
    n = 30 * 3600
    spans = cuts_at(list(range(97, n, 211)))
    bounds = solve_segments(n, spans, min_frames=60, max_frames=900, max_cuts=10)
    check_valid(bounds, spans, 60, 900, 10, n)


# --------------------------------------------------------------------------- fixed output sizes
GEN4 = load_profile("gen4-aleph")


@pytest.mark.parametrize(
    ("kw", "aspect", "want", "pad", "crop"),
    [
        ({"width": 1920, "height": 1080}, None, (1280, 720), None, None),
        ({"width": 3840, "height": 2160}, None, (1280, 720), None, None),
        ({"width": 1080, "height": 1920}, None, (720, 1280), None, None),
        ({"width": 640, "height": 480}, None, (640, 480), None, None),
        ({"width": 1000, "height": 1000}, None, (960, 960), None, None),
        ({"width": 1920, "height": 816}, None, (1584, 672), None, None),  # 2.35:1, 0.2% from 1584x672
        ({"width": 1920, "height": 800}, None, (1584, 672), (0, 6), None),  # 2.4:1: padded to 21:9
        ({"width": 1920, "height": 1080, "rotation": 90}, None, (720, 1280), None, None),
        ({"width": 704, "height": 576, "sar": Fraction(12, 11)}, None, (640, 480), None, None),  # 4:3 PAL
        ({"width": 1440, "height": 1080}, None, (1104, 832), None, None),  # 4:3 HD: the larger 4:3
        ({"width": 1500, "height": 1000}, None, (1104, 832), (0, 48), None),  # 3:2 -> padded 4:3
        ({"width": 1500, "height": 1000}, "crop", (1104, 832), None, (72, 0)),
        ({"width": 640, "height": 360}, None, (848, 480), None, None),  # the smaller 16:9, upscaled, warned
    ],
    ids=["1080p", "4k", "portrait", "vga", "square", "scope", "2.4:1", "phone-rot90", "pal-4:3", "hd-4:3",
         "3:2-pad", "3:2-crop", "360p"],
)
def test_fixed_output_sizes(kw, aspect, want, pad, crop):
    """A profile with fixed output sizes always gets one of them, nearest in shape."""
    p = make_probe(**kw)
    a, aw = plan_aspect(p, GEN4, mode=aspect)
    s, sw = plan_size(p, GEN4, a)
    assert (s.width, s.height) == want
    assert (s.width, s.height) in GEN4.output_sizes
    assert (s.pad, s.crop) == (pad, crop)
    assert not any("reject" in w for w in aw)  # conformed, so nothing the editor will refuse
    assert any("upscaled" in w for w in sw) == (kw["width"] == 640 and kw["height"] == 360)
    if pad:  # picture fitted inside, centred
        assert s.scaled_width + 2 * pad[0] == s.width and s.scaled_height + 2 * pad[1] == s.height
    if crop:
        assert s.scaled_width - 2 * crop[0] == s.width and s.scaled_height - 2 * crop[1] == s.height
