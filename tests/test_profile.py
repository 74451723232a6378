from __future__ import annotations

from fractions import Fraction

import pytest

from preflight.errors import UsageError
from preflight.profile import builtin_profiles, load_profile


def test_builtin_profiles_load():
    assert builtin_profiles() == ["aleph-2", "gen4-aleph"]
    a = load_profile()
    assert a.name == "aleph-2"
    assert (a.min_duration_s, a.max_duration_s) == (2.0, 30.0)
    assert (a.min_short_side, a.max_short_side) == (480, 1080)
    assert (a.min_fps, a.max_fps, a.max_cuts, a.max_anchors) == (24.0, 30.0, 10, 5)
    assert dict(a.aspect_ratios)["21:9"] == Fraction(7, 3)
    g = load_profile("gen4-aleph")
    assert (1280, 720) in g.output_sizes and g.max_anchors == 0


def test_shake_classes_follow_thresholds():
    p = load_profile()
    lo, mid, hi = p.shake_thresholds_pct
    assert p.shake_class(0.0) == "stable"
    assert p.shake_class(lo) == "moderate"
    assert p.shake_class(mid) == "handheld"
    assert p.shake_class(hi * 2) == "severe"


def test_nearest_aspect():
    p = load_profile()
    assert p.nearest_aspect(1920 / 1080)[0] == "16:9"
    assert p.nearest_aspect(1080 / 1920)[0] == "9:16"
    name, _ratio, err = p.nearest_aspect(2.0)
    assert name == "16:9" and err > p.aspect_tolerance
    assert p.nearest_aspect(2.39)[0] == "21:9"


def test_user_profile_file(tmp_path):
    from importlib import resources

    src = load_profile().source

    text = (resources.files("preflight") / "profiles" / "aleph-2.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text.replace("max_cuts = 10", "max_cuts = 3"))
    assert load_profile(path).max_cuts == 3
    assert src == "aleph-2"


@pytest.mark.parametrize(
    ("content", "needle"),
    [("name = [", "not valid TOML"), ('name = "x"\n', "missing table")],
)
def test_bad_profile_files(tmp_path, content, needle):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(UsageError, match=needle):
        load_profile(path)


def test_unknown_profile_name():
    with pytest.raises(UsageError, match="unknown profile 'nope'"):
        load_profile("nope")
