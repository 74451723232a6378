"""Region kinds: box parsing, mask size policy, per-frame masks, coarse-grid regions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from qa.errors import MaskError, QAUsageError
from qa.mask import BoxRegion, Grid, MaskDir, StaticMask, downsample_region, fit_mask, parse_box

GRID = Grid(width=320, height=180, display_width=320, display_height=180)


def test_parse_box_pixels_fractions_and_times():
    b = parse_box("10,20,30,40")
    assert (b.x, b.y, b.w, b.h, b.normalized, b.t0, b.t1) == (10, 20, 30, 40, False, None, None)
    f = parse_box("0.25, 0.5, 0.5, 0.25@1.5-3")
    assert f.normalized and (f.t0, f.t1) == (1.5, 3.0)
    assert f.pixel_rect(GRID) == (80, 90, 240, 135)
    open_end = parse_box("1,2,3,4@2-")
    assert (open_end.t0, open_end.t1) == (2.0, None)
    assert parse_box("1,2,3,4@-2").t1 == 2.0
    assert open_end.active(2.0) and open_end.active(99) and not open_end.active(1.99)


@pytest.mark.parametrize(
    "text, match",
    [
        ("1,2,3", "expected x,y,w,h"),
        ("a,b,c,d", "expected x,y,w,h"),
        ("1,2,0,4", "must be > 0"),
        ("0.5,0.5,0.6,0.2", "within 0-1"),
        ("1,2,3,4@5-2", "before start"),
    ],
)
def test_parse_box_rejects_bad_text(text, match):
    with pytest.raises(QAUsageError, match=match):
        parse_box(text)


def test_box_region_follows_time_ranges():
    region = BoxRegion([parse_box("0,0,10,10"), parse_box("100,50,20,20@1-2")])
    region.open(GRID, frame_count=90)
    m0 = region.mask_at(0, 0.0)
    m1 = region.mask_at(45, 1.5)
    assert m0.sum() == 100 and m1.sum() == 100 + 400
    assert region.mask_at(46, 1.5) is m1  # cached per set of active boxes
    assert not region.static()


def test_box_outside_the_frame_is_a_usage_error():
    region = BoxRegion([parse_box("400,10,20,20")])
    with pytest.raises(QAUsageError, match="outside"):
        region.open(GRID, frame_count=10)


def test_pixel_boxes_refer_to_the_displayed_size():
    # Anamorphic source: coded 240x180, displayed 320x180.
    grid = Grid(width=240, height=180, display_width=320, display_height=180)
    assert parse_box("160,0,160,90").pixel_rect(grid) == (120, 0, 240, 90)


def test_fit_mask_same_aspect_resamples_conservatively_with_warning():
    small = np.zeros((90, 160), np.uint8)
    small[10:20, 30:41] = 1
    warnings: list[str] = []
    big = fit_mask(small, GRID, name="m.png", warn=warnings.append)
    assert big.shape == (180, 320)
    ys, xs = np.nonzero(big)
    assert ys.min() <= 20 and ys.max() >= 39 and xs.min() <= 60 and xs.max() >= 81
    assert warnings and "resampled" in warnings[0]


def test_fit_mask_other_aspect_is_an_error():
    with pytest.raises(MaskError, match="aspect"):
        fit_mask(np.ones((100, 100), np.uint8), GRID, name="m.png")


def test_fit_mask_display_size_of_anamorphic_source_is_silent():
    grid = Grid(width=240, height=180, display_width=320, display_height=180)
    warnings: list[str] = []
    m = np.zeros((180, 320), np.uint8)
    m[:, 160:] = 1
    out = fit_mask(m, grid, name="m.png", warn=warnings.append)
    assert out.shape == (180, 240) and not warnings
    assert out[:, 121:].all() and not out[:, :119].any()


def test_static_mask_reads_white_as_edited(tmp_path):
    img = np.zeros((180, 320), np.uint8)
    img[40:80, 100:200] = 255
    img[0, 0] = 100  # dark gray is not edited
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), img)
    region = StaticMask(path)
    region.open(GRID, frame_count=10)
    m = region.mask_at(3, 0.1)
    assert m.sum() == 40 * 100 and m[50, 150] == 1 and m[0, 0] == 0
    assert region.describe()["coverage_pct"] == pytest.approx(100 * 4000 / (320 * 180), abs=1e-3)


def test_static_mask_errors(tmp_path):
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.zeros((180, 320), np.uint8))
    with pytest.raises(MaskError, match="empty"):
        StaticMask(empty).open(GRID, frame_count=1)
    with pytest.raises(MaskError, match="no such mask file"):
        StaticMask(tmp_path / "missing.png").open(GRID, frame_count=1)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(MaskError, match="not a readable image"):
        StaticMask(junk).open(GRID, frame_count=1)


def test_mask_dir_natural_order_and_count(tmp_path):
    for i in (1, 2, 10):
        img = np.zeros((180, 320), np.uint8)
        img[:, i : i + 1] = 255
        cv2.imwrite(str(tmp_path / f"m_{i}.png"), img)
    region = MaskDir(tmp_path)
    region.open(GRID, frame_count=3)
    assert [int(np.nonzero(region.mask_at(k, 0.0))[1][0]) for k in range(3)] == [1, 2, 10]
    with pytest.raises(MaskError, match="3 mask images but the source has 4 frames"):
        MaskDir(tmp_path).open(GRID, frame_count=4)


def test_downsample_region_marks_a_coarse_pixel_if_any_fine_one_is():
    m = np.zeros((12, 12), np.uint8)
    m[5, 7] = 1
    for f in (2, 3, 4):
        lead = (f - 1) // 2
        d = downsample_region(m, f)
        assert d.shape == (-(-12 // f),) * 2
        assert d.sum() == 1 and d[(5 + lead) // f, (7 + lead) // f] == 1


def test_make_region_builds_the_one_kind_given(tmp_path):
    from qa.batch import Pair
    from qa.mask import MaskVideo, make_region

    img = tmp_path / "m.png"
    cv2.imwrite(str(img), np.full((18, 32), 255, np.uint8))
    assert make_region() is None and make_region(boxes=()) is None
    assert isinstance(make_region(image=str(img)), StaticMask)
    assert isinstance(make_region(video="m.mp4"), MaskVideo)
    assert isinstance(make_region(folder=str(tmp_path)), MaskDir)
    boxes = make_region(boxes=["1,2,3,4", "5,6,7,8@1-2"])
    assert isinstance(boxes, BoxRegion) and [b.x for b in boxes.boxes] == [1, 5]
    with pytest.raises(ValueError, match="one region kind"):
        make_region(image=str(img), boxes=["1,2,3,4"])
    with pytest.raises(QAUsageError):
        make_region(boxes=["1,2"])
    # A PAIRS.csv row names its kind by the path: the same regions as the options give.
    assert isinstance(Pair("s", "e", mask=str(img)).region(), StaticMask)
    assert isinstance(Pair("s", "e", mask=str(tmp_path)).region(), MaskDir)
    assert isinstance(Pair("s", "e", mask="m.mp4").region(), MaskVideo)
    row = Pair("s", "e", box="1,2,3,4; ;5,6,7,8").region()
    assert isinstance(row, BoxRegion) and [b.x for b in row.boxes] == [1, 5]
    assert Pair("s", "e").region() is None
