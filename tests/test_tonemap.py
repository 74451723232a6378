"""HDR -> SDR: the transfer functions against the standards' own numbers, the EETF's defining
properties, the LUT file, and `preflight fix` end to end on tagged 10-bit PQ and HLG test cards."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

from fixtures.container import hdr_clip
from preflight.fix.execute import fix_file
from preflight.media.decode import luma_plane
from preflight.media.probe import probe
from preflight.media.tonemap import (
    bt2390_eetf,
    hdr_to_sdr,
    hlg_display_light,
    hlg_inverse_oetf,
    pq_eotf,
    pq_inverse_eotf,
    sdr_lut,
    write_cube,
)
from preflight.profile import load_profile
from tests.headers import assert_declared_matches_decoded

# SMPTE ST 2084 / BT.2100 reference points: PQ signal for 100, 203 and 1000 cd/m^2 (10-bit codes
# 520, 592 and 769 in full range; published in ITU-R BT.2408 Table 1 / BT.2390).
PQ_POINTS = [(0.0, 0.0), (100.0, 0.5081), (203.0, 0.5807), (1000.0, 0.7518), (10000.0, 1.0)]


@pytest.mark.parametrize(("nits", "signal"), PQ_POINTS)
def test_pq_matches_st2084(nits, signal):
    assert float(pq_inverse_eotf(nits)) == pytest.approx(signal, abs=1e-4 if nits else 1e-6)
    if nits:
        assert float(pq_eotf(signal)) == pytest.approx(nits, rel=2e-3)


def test_pq_round_trip():
    nits = np.geomspace(0.01, 10000, 200)
    np.testing.assert_allclose(pq_eotf(pq_inverse_eotf(nits)), nits, rtol=1e-9)


def test_hlg_inverse_oetf_and_reference_white():
    assert float(hlg_inverse_oetf(0.5)) == pytest.approx(1 / 12, abs=1e-12)  # the curve's joint
    assert float(hlg_inverse_oetf(1.0)) == pytest.approx(1.0, abs=1e-7)
    left, right = hlg_inverse_oetf(0.5 - 1e-9), hlg_inverse_oetf(0.5 + 1e-9)
    assert abs(float(right - left)) < 1e-7  # continuous
    # BT.2408: HLG reference white is 75% signal, shown at 203 cd/m^2 on a 1000 cd/m^2 display.
    grey = hlg_display_light(np.array([0.75, 0.75, 0.75]))
    assert float(grey[0]) == pytest.approx(203, rel=0.02)


def test_bt2390_eetf_properties():
    nits = np.linspace(0, 1000, 2001)
    out = bt2390_eetf(nits, source_peak=1000, target_peak=100)
    assert np.all(np.diff(out) >= 0)  # monotonic
    assert float(out[-1]) == pytest.approx(100, rel=1e-6)  # source peak -> target peak
    assert out.max() <= 100 + 1e-9
    low = nits <= 25  # below the knee (~30 cd/m^2 for 1000 -> 100) nothing changes
    np.testing.assert_allclose(out[low], nits[low], rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="target_peak"):
        bt2390_eetf(nits, source_peak=100, target_peak=1000)


def test_greys_stay_grey_and_known_levels():
    levels = pq_inverse_eotf(np.array([0.0, 5.0, 20.0, 1000.0]))
    sdr = hdr_to_sdr(np.repeat(levels[:, None], 3, axis=1), "pq")
    assert np.abs(sdr - sdr[:, :1]).max() < 1e-3
    # Below the knee the light is kept: 5 and 20 cd/m^2 on a 100 cd/m^2 BT.1886 display.
    np.testing.assert_allclose(sdr[:, 0], [0.0, 0.05 ** (1 / 2.4), 0.2 ** (1 / 2.4), 1.0], atol=2e-4)
    # A saturated BT.2020 green is outside BT.709: clipped into range, still mostly green.
    g = hdr_to_sdr(np.array([0.0, 0.6, 0.0]), "pq")
    assert g.min() >= 0 and g.max() <= 1 and g[1] > 0.8 and g[0] == 0


def test_cube_file_round_trip(tmp_path):
    lut = sdr_lut("hlg", 9)
    path = write_cube(lut, tmp_path / "x.cube")
    lines = path.read_text().splitlines()
    assert lines[0] == "LUT_3D_SIZE 9"
    rows = np.loadtxt(lines[3:])
    # .cube order: red varies fastest, then green, then blue.
    assert np.abs(rows[1] - lut[1, 0, 0]).max() < 1e-6
    assert np.abs(rows[9] - lut[0, 1, 0]).max() < 1e-6
    assert np.abs(rows[81] - lut[0, 0, 1]).max() < 1e-6
    assert np.abs(rows.reshape(9, 9, 9, 3).transpose(2, 1, 0, 3) - lut).max() < 1e-6


def _band_luma(path, bands) -> list[float]:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        y = luma_plane(frame).astype(np.float64)
    w = y.shape[1]
    scale = w / bands[-1][1]
    # Middle half of each band (away from scaling and chroma edges).
    return [float(y[:, round((x0 + (x1 - x0) / 4) * scale) : round((x1 - (x1 - x0) / 4) * scale)].mean())
            for x0, x1 in bands]


@pytest.mark.parametrize("transfer", ["pq", "hlg"])
def test_fix_tone_maps_hdr_to_tagged_sdr(tmp_path, transfer):
    """End to end through FFmpeg (matrices, ranges, the LUT's orientation and interpolation):
    every band lands on the SDR level the formulas give, within 2 of 219 codes."""
    if transfer == "pq":
        levels = tuple(float(pq_inverse_eotf(n)) for n in (0.0, 5.0, 20.0, 100.0, 400.0, 1000.0))
    else:
        levels = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
    src, truth = hdr_clip(transfer, levels)
    plan, result = fix_file(
        str(src), profile=load_profile("aleph-2"), output_dir=tmp_path, preset="ultrafast"
    )
    assert plan.encoder.tonemap == transfer
    out = probe(str(result.segment_paths[0]))
    assert (out.bit_depth, out.hdr, out.color_transfer) == (8, None, "bt709")
    assert_declared_matches_decoded(result.segment_paths[0])
    got = _band_luma(result.segment_paths[0], truth["bands"])
    want = [16 + 219 * float(hdr_to_sdr(np.array([e, e, e]), transfer)[0]) for e in levels]
    print(f"{transfer}: SDR luma per band {np.round(got, 1).tolist()}, formulas "
          f"{np.round(want, 1).tolist()}")  # pytest -s
    assert np.abs(np.array(got) - want).max() <= 2.0, (got, want)
    assert got[0] == pytest.approx(16, abs=1) and got[-1] == pytest.approx(235, abs=1)
    assert all(math.isfinite(v) for v in got) and np.all(np.diff(got) > 0)
