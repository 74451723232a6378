"""Pooling and the gate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from preflight.check.shots import Shot
from qa.gate import Gate, pool, pool_shots, worst_frames


def test_pool_mean_min_p5_and_nan():
    v = np.linspace(0.5, 1.0, 101)
    p = pool(np.append(v, np.nan))
    assert p.count == 101
    assert p.mean == pytest.approx(0.75) and p.min == 0.5
    assert p.p5 == pytest.approx(0.525)  # linear interpolation between order statistics
    empty = pool([math.nan])
    assert empty.count == 0 and math.isnan(empty.mean)


def test_gate_both_thresholds():
    g = Gate(min_mean=0.9, min_p5=0.8)
    assert g.failures(pool([0.95] * 20)) == []
    low_tail = [0.99] * 18 + [0.5] * 2  # mean 0.941 passes, p5 0.5 does not
    fails = g.failures(pool(low_tail))
    assert len(fails) == 1 and "--min-p5" in fails[0]
    assert len(g.failures(pool([0.7] * 10))) == 2
    with pytest.raises(ValueError, match="min_mean"):
        Gate(min_mean=2.0)


def test_pool_shots_and_worst_frames():
    idx = np.arange(10)
    ssim = np.array([0.9, 0.8, 0.95, 0.99, 0.7, 0.99, 0.98, np.nan, 0.97, 0.96])
    psnr = np.full(10, 40.0)
    shots = pool_shots([Shot(0, 4), Shot(5, 9)], idx, ssim, psnr)
    assert shots[0].frames_compared == 5 and shots[0].ssim_outside.min == 0.7
    assert shots[1].frames_compared == 4 and shots[1].ssim_outside.mean == pytest.approx(0.975)
    assert worst_frames(idx, ssim, 3) == [(4, 0.7), (1, 0.8), (0, 0.9)]
