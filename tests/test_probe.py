"""Probe reads container facts without decoding: checked against clips built with known truth."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

from fixtures import container
from fixtures.synth import MEDIA, SHARED_MEDIA
from preflight.media.probe import probe


def test_vfr_detected_and_rate_measured():
    path, truth = container.vfr_clip()
    p = probe(path)
    assert p.vfr is True
    assert p.frame_count == truth["frames"]
    assert p.fps == pytest.approx(truth["mean_fps"], rel=0.02)


def test_constant_rate_is_not_vfr():
    p = probe(MEDIA / "skv_bikes.mp4")
    assert p.vfr is False
    assert p.fps == pytest.approx(25.0)
    assert p.frame_count == 250
    assert p.duration_s == pytest.approx(10.0, abs=1e-6)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_from_display_matrix(rotation):
    path, truth = container.rotated_phone_clip(rotation)
    p = probe(path)
    assert p.rotation == truth["rotation"]
    assert (p.display_width, p.display_height) == truth["display"]
    # The decoder's frame-level view (PyAV: counter-clockwise) agrees with our box parser.
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
    assert (-frame.rotation) % 360 == rotation
    assert p.audio and p.audio[0].codec == "aac"


def test_sar_applied_to_display_size():
    path, truth = container.anamorphic_clip()
    p = probe(path)
    assert p.sar == truth["sar"]
    assert (p.display_width, p.display_height) == truth["display"]
    assert p.display_aspect == pytest.approx(16 / 9, rel=0.01)


def test_odd_size_and_bit_depth():
    path, truth = container.odd_size_clip()
    p = probe(path)
    assert (p.display_width, p.display_height) == truth["display"]
    assert p.fps == pytest.approx(truth["fps"])
    path, truth = container.ten_bit_clip()
    assert probe(path).bit_depth == truth["bit_depth"]


def test_y4m_ten_bit_real_clip():
    p = probe(MEDIA / "vmaf_sparks_ref_480x270_10bit.y4m")
    assert p.bit_depth == 10 and p.frame_count == 5 and p.pix_fmt == "yuv420p10le"


def test_carphone_anamorphic_real_clip():
    p = probe(MEDIA / "skv_carphone_pristine.mp4")
    assert p.sar == Fraction(128, 117)
    assert p.display_width == 192 and p.display_height == 144


@pytest.mark.skipif(not SHARED_MEDIA.exists(), reason="../shared/media absent")
def test_shared_rotated_and_vfr_clips():
    p = probe(SHARED_MEDIA / "psd_goldeneye_10s.mp4")
    assert p.rotation == 90 and (p.display_width, p.display_height) == (544, 1280)
    q = probe(SHARED_MEDIA / "psd_goldeneye_vfr_drop3.mp4")
    assert q.vfr and q.frame_count == 160


def test_area_downscale_matches_block_mean():
    import numpy as np

    from preflight.media.decode import area_downscale

    img = (np.random.default_rng(0).random((1080, 1920)) * 255).astype(np.uint8)
    ref = img.reshape(180, 6, 320, 6).mean(axis=(1, 3))
    out = area_downscale(img, (320, 180))
    assert out.shape == (180, 320) and out.dtype == np.uint8
    assert np.abs(out - ref).max() <= 1.0  # two roundings at most
    odd = area_downscale(img[:1001, :1777], (320, 180))
    assert odd.shape == (180, 320)


def test_area_downscale_into_reused_buffers_gives_the_same_pixels():
    import numpy as np

    from preflight.media.decode import area_downscale

    rng = np.random.default_rng(1)
    scratch: dict = {}
    for shape, size in [((1080, 1920), (320, 180)), ((1080, 1920), (320, 180)), ((1001, 1777), (320, 180)),
                        ((720, 1280), (320, 180))]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        ref = area_downscale(img, size)
        got = area_downscale(img, size, scratch=scratch)
        assert np.array_equal(got, ref)
        # The halving steps wrote into kept buffers (the final step may be a fresh block mean);
        # with the C kernel, 1080p's last halving and block mean are one pass into kept sums.
        kept = {(b.shape, b.dtype.str) for b in scratch.values()}
        assert ((shape[0] // 2, shape[1] // 2), "|u1") in kept or ((size[1], size[0]), "<u2") in kept


def test_declared_header_recorded_without_decoding():
    """The header fields an ingest reads first (ffprobe's format.duration, stream duration,
    avg_frame_rate, nb_frames), for an honest clip and one whose last packet lies."""
    src, _ = container.rate_clip(30, audio=False)
    d = probe(src).declared
    assert d is not None
    assert (d.container_s, d.stream_s, d.average_rate, d.frames) == (
        pytest.approx(4.0), pytest.approx(4.0), Fraction(30), 120)
    lying, truth = container.lying_header_clip(src, 17.0)
    p = probe(lying)
    assert p.frame_count == truth["frames"] and p.duration_s == pytest.approx(truth["decoded_s"])
    assert p.declared.stream_s > truth["decoded_s"] + 16 and p.declared.container_s > truth["decoded_s"] + 16
    assert float(p.declared.average_rate) < 6
    assert "declared" not in p.to_dict()  # `preflight probe --json` is unchanged
