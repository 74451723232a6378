"""Alignment and the whole pass: offsets, resolution and rate changes, per-shot pooling."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from fixtures import qa as F
from preflight.check.shots import Shot
from preflight.media.probe import probe
from qa.align import OffsetSearch, _value_lut, estimate_offset, plan_alignment, search_range
from qa.errors import AlignmentError, QAUsageError
from qa.mask import BoxRegion, parse_box
from qa.score import score


@pytest.mark.parametrize("k", [1, 2, 3, -1, -3])
def test_constant_offsets_are_recovered_exactly(k):
    pair = F.offset_pair(k)
    r = score(pair.source, pair.edited)
    assert r.offset.frames == k and r.offset.method == "detected"
    assert r.frames_compared == pair.frames - abs(k)
    # Paired frames really are the same pictures: re-encoding noise only.
    assert r.ssim_outside.min > 0.95
    assert np.array_equal(r.frames.edited_frame, r.frames.source_frame + k)


def test_wrong_forced_offset_scores_worse_than_detected():
    pair = F.offset_pair(2)
    good = score(pair.source, pair.edited)
    bad = score(pair.source, pair.edited, offset=0)
    assert bad.offset.method == "forced" and bad.ssim_outside.mean < good.ssim_outside.mean - 0.02


def test_estimate_offset_on_synthetic_signals():
    rng = np.random.default_rng(1)
    frames = [rng.uniform(0, 255, (9, 16)).astype(np.float32) for _ in range(40)]
    times = [i / 30 for i in range(40)]
    edited = [frames[0]] * 2 + frames[:-2]  # delayed by 2
    est = estimate_offset(frames, times, edited, times, max_offset=5, source_period=1 / 30)
    assert est.frames == 2 and est.method == "detected"
    assert min(est.costs.values()) == est.costs[2] == 0.0
    static = [frames[0]] * 40
    est = estimate_offset(static, times, static, times, max_offset=5, source_period=1 / 30)
    assert est.frames == 0 and est.method == "static"


def test_edited_at_720p_against_a_1080p_source():
    pair = F.scaled_pair()
    r = score(pair.source, pair.edited)
    assert r.grid_size == (1920, 1080)
    assert r.ssim_outside.mean >= 0.95
    assert any("resampled" in n for n in r.notes)


def test_half_frame_rate_pairs_by_timestamp():
    pair = F.rate_pair()
    r = score(pair.source, pair.edited)
    assert r.frames_compared == pair.frames and r.offset.frames == 0
    # Source frame i (i/30 s) pairs with the 15 fps frame nearest in time.
    assert np.all(np.abs(r.frames.edited_frame - r.frames.source_frame / 2) <= 0.5)
    even = r.frames.source_frame % 2 == 0
    # Even frames exist in the edited clip; odd ones are a neighbour (motion lowers them).
    assert r.frames.ssim_full[even].mean() > r.frames.ssim_full[~even].mean()


def test_durations_beyond_tolerance_are_an_error_naming_both():
    pair = F.length_pair()
    msg = r"durations differ: source 1\.333 s \(40 frames.*edited 0\.800 s"
    with pytest.raises(AlignmentError, match=msg):
        score(pair.source, pair.edited)


def test_another_aspect_ratio_is_an_error():
    pair = F.crop_pair()
    with pytest.raises(AlignmentError, match="aspect ratio differs"):
        plan_alignment(probe(pair.source), probe(pair.edited))


def test_value_lut_converts_depth_and_range():
    pair = F.rate_pair()
    plan = plan_alignment(probe(pair.source), probe(pair.source))
    assert _value_lut(plan, 8) is None
    lut10 = _value_lut(plan, 10)
    assert lut10.dtype == np.uint8 and lut10[940] == 235 and lut10[64] == 16
    full = plan.__class__(**{**plan.__dict__, "range_conversion": "full->limited"})
    lut = _value_lut(full, 8)
    assert lut[0] == 16 and lut[255] == 235


def test_per_shot_pooling_with_explicit_shots():
    pair = F.box_pair(edited_frames=range(20, 40))
    shots = [Shot(0, 19), Shot(20, 39)]
    r = score(pair.source, pair.edited, shots=shots, worst=3)
    assert r.shots_method == "given" and len(r.per_shot) == 2
    first, second = r.per_shot
    assert first.frames_compared == 20 and second.frames_compared == 20
    # The unmasked edit lives in shot 2 only.
    assert second.ssim_outside.mean < first.ssim_outside.mean - 0.05
    assert all(20 <= w.frame <= 39 for w in r.worst)
    # Pooled numbers agree with the per-frame table.
    sel = r.frames.source_frame >= 20
    assert second.ssim_outside.mean == pytest.approx(r.frames.ssim_outside[sel].mean())
    assert second.ssim_outside.min == pytest.approx(r.frames.ssim_outside[sel].min())


def test_shots_are_detected_in_the_same_pass():
    pair = F.box_pair(clip="bikes", size=(320, 136), frames=60)
    r = score(pair.source, pair.edited)
    if r.shots_method == "single":
        pytest.skip("preflight.analyzers.transitions is not available")
    # skv_bikes has a cut at frame 30 (fixtures/ground_truth.json).
    assert [(s.start_frame, s.end_frame) for s in r.per_shot] == [(0, 29), (30, 59)]


def test_mask_excludes_the_edit_end_to_end():
    pair = F.box_pair(lossless=True, frames=12)
    x, y, w, h = pair.boxes[0]
    whole = score(pair.source, pair.edited)
    masked = score(pair.source, pair.edited, region=BoxRegion([parse_box(f"{x},{y},{w},{h}")]))
    assert whole.ssim_outside.mean < 0.95
    assert masked.ssim_outside.min >= 0.99999
    assert masked.inside_change is not None and masked.inside_change.mean > 0.5
    # A box one pixel short on the right leaves an edited column outside: the score drops.
    short = score(pair.source, pair.edited, region=BoxRegion([parse_box(f"{x},{y},{w - 1},{h}")]))
    assert short.ssim_outside.mean < 0.9999


def test_scale_auto_uses_wang_factor():
    pair = F.scaled_pair()
    r = score(pair.source, pair.edited, scale="auto")
    assert r.scale_factor == 4 and r.grid_size == (480, 270)
    assert r.ssim_outside.mean >= 0.95


@pytest.mark.parametrize(
    "ref, dis, mean",
    [
        ("skv_carphone_pristine.mp4", "skv_carphone_distorted.mp4", 0.7464268),
        ("vmaf_sparks_ref_480x270_10bit.y4m", "vmaf_sparks_dis_480x270_10bit.y4m", 0.9956776),
    ],
)
def test_whole_pass_on_real_pairs_equals_the_reference(ref, dis, mean):
    from fixtures.synth import MEDIA

    r = score(MEDIA / ref, MEDIA / dis)
    assert r.offset.frames == 0
    assert r.ssim_full.mean == pytest.approx(mean, abs=1e-5)
    # No region: the outside score is the whole-frame score.
    np.testing.assert_allclose(r.frames.ssim_outside, r.frames.ssim_full, atol=1e-9)
    assert r.data_range == (1023 if "10bit" in ref else 255)


def test_whole_pass_per_frame_equals_skimage_on_a_generated_pair():
    from skimage.metrics import structural_similarity

    pair = F.box_pair(moving=True, frames=20)
    r = score(pair.source, pair.edited, max_offset=0)
    opts = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False, "data_range": 255}
    ref = [structural_similarity(x, y, **opts) for x, y in F.iter_luma_pairs(pair)]
    assert len(ref) == len(r.frames) == 20
    assert np.abs(r.frames.ssim_full - np.asarray(ref)).max() < 1e-4


# --------------------------------------------------------------------------- still openings (issue 8.3)
def _box_region(pair: F.Pair) -> BoxRegion:
    x, y, w, h = pair.boxes[0]
    return BoxRegion([parse_box(f"{x},{y},{w},{h}")])


@pytest.mark.parametrize("k", range(-5, 6))
def test_offsets_after_a_three_second_still_opening_are_recovered_exactly(k):
    # 3 s of one noisy frame: the opening cannot tell offsets apart; the motion and the cut
    # after it pin the alignment.
    pair = F.still_offset_pair(k)
    warnings: list[str] = []
    r = score(pair.source, pair.edited, region=_box_region(pair), on_warning=warnings.append)
    assert r.offset.frames == k
    ev = r.offset_evidence
    assert ev is not None and ev.decided and ev.offset == k
    # Decided where the still ends (75) as seen at the candidate offsets (-5..+5), not before.
    assert ev.decided_at_frame >= 70 and ev.margin_frames >= 1 and ev.confidence >= 0.5
    assert not any("too little motion" in w for w in warnings)
    assert r.frames_compared == pair.frames - max(0, -k)
    assert np.array_equal(r.frames.edited_frame, r.frames.source_frame + k)
    assert r.ssim_outside.min > 0.95
    assert r.to_dict()["offset_evidence"]["offset"] == k


@pytest.mark.slow
def test_still_real_footage_with_two_dropped_frames(tmp_path):
    """The observed case: real footage opening on a still shot, the edit's first two frames dropped
    (edited frame i = source frame i + 2), a recoloured box."""
    from fixtures.synth import SHARED_MEDIA, write_clip

    src = SHARED_MEDIA / "psd_testvideo.mp4"  # still photographs; first cut at frame 30
    if not src.exists():
        pytest.skip("shared media absent")
    import av

    box = (64, 48, 320, 180)

    def frames():
        with av.open(str(src)) as c:
            for i, f in enumerate(c.decode(video=0)):
                if i >= 2:
                    yield F.recolor(f.to_ndarray(format="rgb24"), box)

    edited = tmp_path / "edited.mp4"
    write_clip(edited, frames(), fps=Fraction(30000, 1001), crf=18, preset="ultrafast")
    region = BoxRegion([parse_box(",".join(map(str, box)))])
    r = score(src, edited, region=region, scale="auto")
    assert r.offset.frames == -2 and r.offset_evidence.decided
    assert r.ssim_outside.mean > 0.97
    assert np.array_equal(r.frames.edited_frame, r.frames.source_frame - 2)


def test_evidence_past_the_memory_budget_reads_the_opening_again(monkeypatch):
    # Held luma is bounded: when the still opening outlasts the budget, the frames are let go and
    # both clips are read again from the start with the offset known; the result is the same.
    import qa.opening as S

    pair = F.still_offset_pair(-2)
    held = score(pair.source, pair.edited, region=_box_region(pair))
    monkeypatch.setattr(S, "PREFIX_BUDGET_BYTES", 2 * 320 * 240)
    monkeypatch.setattr(S, "HOLD_FRAMES_MIN", 2)
    again = score(pair.source, pair.edited, region=_box_region(pair))
    assert not held.offset_evidence.redecoded and again.offset_evidence.redecoded
    assert again.offset.frames == held.offset.frames == -2
    assert again.frames_compared == held.frames_compared == pair.frames - 2
    np.testing.assert_array_equal(again.frames.edited_frame, held.frames.edited_frame)
    np.testing.assert_array_equal(again.frames.ssim_outside, held.frames.ssim_outside)
    assert [s.to_dict() for s in again.per_shot] == [s.to_dict() for s in held.per_shot]


def test_search_evidence_on_synthetic_thumbnails():
    rng = np.random.default_rng(3)

    def noisy(x: np.ndarray) -> np.ndarray:  # thumbnails are rounded area means: noise mostly rounds away
        return np.rint(x + rng.normal(0, 0.3, x.shape)).astype(np.float32)

    still = rng.uniform(0, 255, (9, 16))
    scene = [still] * 60 + [rng.uniform(0, 255, (9, 16)) for _ in range(10)]
    frames = [noisy(x) for x in scene]
    times = [i / 25 for i in range(len(frames))]
    k = 3
    edited = [noisy(x) for x in [scene[0]] * k + scene]
    search = OffsetSearch(max_offset=5, source_period=1 / 25, edited_period=1 / 25)
    for t, f in zip(times, frames, strict=True):
        search.add_source(t, f)
        while search.wants_edited(t) and edited:
            j = len(frames) + k - len(edited)
            search.add_edited(j / 25, edited.pop(0))
    ev = search.evidence()
    # Nothing in the still part rules anything out; the first changing frame does.
    assert ev.decided and ev.offset == k and ev.decided_at_frame == 60
    assert search.best() == k and ev.agreement == 1.0
    # A still clip never decides.
    flat = OffsetSearch(max_offset=5, source_period=1 / 25, edited_period=1 / 25)
    for t, f in zip(times[:60], frames[:60], strict=True):
        flat.add_edited(t, f)
        flat.add_source(t, f)
    flat.end_edited()
    assert not flat.evidence().decided and flat.evidence().confidence == 0.0


# --------------------------------------------------------------------------- --max-offset bounds (issue 12.3)
def test_huge_max_offset_searches_no_further_than_the_clip():
    pair = F.offset_pair(2)
    r = score(pair.source, pair.edited, max_offset=100_000_000)
    assert r.offset.frames == 2
    # Offsets -47..47 on a 48-frame clip: nothing further pairs a frame.
    assert r.offset_evidence.candidates == 2 * (pair.frames - 1) + 1
    assert len(r.offset.costs) <= 2 * 64 + 1
    assert search_range(100_000_000, 48, 46) == 47 and search_range(3, 48, 48) == 3
    assert search_range(5, 4, 4) == 5  # the default range is never narrowed


def test_max_offset_does_not_widen_the_duration_tolerance():
    # An edit holding 20% of the source's frames must not pass because the search range is wide.
    pair = F.length_pair(edited_frames=8)
    for m in (5, 40, 1000):
        with pytest.raises(AlignmentError, match="durations differ"):
            score(pair.source, pair.edited, max_offset=m)
    sp = probe(pair.source)
    wide, default = plan_alignment(sp, sp, max_offset=500), plan_alignment(sp, sp)
    assert wide.duration_tolerance_s == default.duration_tolerance_s


def test_negative_max_offset_is_a_usage_error():
    pair = F.offset_pair(0)
    with pytest.raises(QAUsageError, match="max_offset"):
        score(pair.source, pair.edited, max_offset=-1)
