"""--auto-region: the estimated region against the true one on generated edits."""

from __future__ import annotations

import numpy as np

from fixtures import qa as F
from qa.autoregion import AutoRegionEstimator
from qa.score import score


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    return float((a & b).sum() / max(1, (a | b).sum()))


def _per_frame(pair: F.Pair) -> tuple[list[float], int]:
    """Per-frame IoU where the truth has a region; count of other frames given a region > 1%."""
    est = None
    ious, false_frames = [], 0
    for i, (x, y) in enumerate(F.iter_luma_pairs(pair)):
        est = est or AutoRegionEstimator(*x.shape)
        m = est.update(x, y)
        truth = pair.region_mask(i)
        if truth.any():
            ious.append(_iou(m if m is not None else np.zeros_like(truth), truth))
        elif m is not None and m.mean() > 0.01:
            false_frames += 1
    return ious, false_frames


def test_recolored_moving_box_is_found_frame_by_frame():
    pair = F.box_pair(moving=True)
    ious, _ = _per_frame(pair)
    assert len(ious) == pair.frames
    assert np.mean(ious) >= 0.8 and np.min(ious) >= 0.7


def test_edit_present_in_some_frames_only():
    pair = F.box_pair(moving=True, edited_frames=range(10, 30))
    ious, false_frames = _per_frame(pair)
    assert np.mean(ious) >= 0.8
    # Right after the edit ends, the re-encoded clip still carries a few frames of faint ghosting
    # where the box was (inter prediction): real but small differences, not a false region.
    assert false_frames == 0


def test_replaced_background_strip_through_score():
    pair = F.strip_pair()
    r = score(pair.source, pair.edited, auto_region=True)
    truth = pair.region_mask(0)
    assert r.auto_region_union is not None
    assert _iou(r.auto_region_union, truth) >= 0.8
    big = r.region_boxes[0]
    assert (big.x, big.w) == (0, pair.size[0]) and abs(big.y) <= 4 and abs(big.h - 86) <= 8
    assert (big.first_frame, big.last_frame) == (0, pair.frames - 1)
    # With the strip excluded, the rest of the picture is re-encoding noise only.
    whole = score(pair.source, pair.edited)
    assert r.ssim_outside.mean > 0.95 > whole.ssim_outside.mean


def test_unedited_pair_finds_nothing():
    pair = F.offset_pair(0)
    r = score(pair.source, pair.edited, auto_region=True)
    assert r.region["frames_with_region"] <= 2
    assert r.ssim_outside.mean > 0.95
