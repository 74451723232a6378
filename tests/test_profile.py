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


# --------------------------------------------------------------------------- validation (issue 12)

def aleph_text() -> str:
    from importlib import resources

    return (resources.files("preflight") / "profiles" / "aleph-2.toml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("max_cuts = 10", "max_cuts = -1", "cuts.max_cuts"),
        ('"16:9", "9:16"', '"16:0", "9:16"', "aspect.conventional"),
        ("sizes = []", 'sizes = ["0x0"]', "output.sizes"),
        ("sizes = []", 'sizes = ["1281x720"]', "output.sizes"),
        ("max_s = 30.0", "max_s = inf", "duration.max_s"),
        ("max_s = 30.0", "max_s = nan", "duration.max_s"),
        ("min_s = 2.0", "min_s = 40.0", "duration.min_s"),
        ("min_s = 2.0", "min_s = -2.0", "duration.min_s"),
        ("constant = true", 'constant = "false"', "frame_rate.constant"),
        ("min_short_side = 480", "min_short_side = 0", "resolution.min_short_side"),
        ("min_fps = 24.0", "min_fps = 0", "frame_rate.min_fps"),
        ("max_anchors = 5", "max_anchors = 2.5", "anchors.max_anchors"),
        ("precision_s = 0.01", "precision_s = 0", "anchors.precision_s"),
        ("dark_mean_luma = 0.15", "dark_mean_luma = 0.9", "quality.dark_mean_luma"),
        ("max_cuts = 10", "max_cut = 10", "cuts.max_cut"),
    ],
    ids=["neg-cuts", "ratio-16:0", "size-0x0", "size-odd", "inf", "nan", "min>max", "neg-min",
         "bool-string", "side-0", "fps-0", "float-int", "precision-0", "dark>bright", "typo"],
)
def test_profile_validated_on_load(tmp_path, old, new, key):
    """Every value the issue found slipping through is refused, naming its key on one line."""
    text = aleph_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(UsageError) as info:
        load_profile(path)
    message = str(info.value)
    assert key in message and "\n" not in message and len(message) <= 300, message


def test_zero_fps_profile_refused_and_rate_search_bounded(monkeypatch):
    """min_fps = max_fps = 0 is refused on load; the planner's search is bounded regardless."""
    import dataclasses
    from fractions import Fraction

    from preflight.fix.plan import rate as plan

    with pytest.raises(UsageError, match=r"frame_rate\.min_fps"):
        from preflight.profile import profile_from_text

        profile_from_text(aleph_text().replace("min_fps = 24.0", "min_fps = 0").replace(
            "max_fps = 30.0", "max_fps = 0"))
    zero = dataclasses.replace(load_profile(), min_fps=0.0, max_fps=0.0)
    calls = []

    def counted(rate, profile):
        calls.append(rate)
        if len(calls) > 10_000:  # main searched up to 25e9 divisors: fail instead of hanging
            raise AssertionError("unbounded frame-rate search")
        return False

    monkeypatch.setattr(plan, "_in_range", counted)
    assert plan._integer_candidate(Fraction(25), zero) is None
