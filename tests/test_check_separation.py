"""Measurement and verdict are separate: ``analyze`` knows no profile, ``verdict`` does the judging.

Ground truth: the fade-through-black fixture (shot A fades out, black hold, shot B fades in) and
a profile made strict by construction (every shot ``severe``, every non-held shot ``under``).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from fixtures.transitions import fades_black
from preflight.check import analyze as analyze_module
from preflight.check.analyze import analyze
from preflight.check.analyzers.exposure import ExposureAnalyzer
from preflight.check.result import check
from preflight.check.verdict import judge_shots
from preflight.profile import load_profile

ALEPH = load_profile("aleph-2")
# Every shake score reaches "severe"; any mean luma below 1.0 is "under"; any flicker counts.
STRICT = dataclasses.replace(
    ALEPH, name="strict", shake_thresholds_pct=(0.0, 0.0, 0.0), dark_mean_luma=1.0, flicker_std=-1.0,
)
MEASURING = [Path(analyze_module.__file__), *Path(analyze_module.__file__).parent.glob("analyzers/*.py")]


def test_measuring_code_takes_and_imports_no_profile():
    assert "profile" not in inspect.signature(analyze).parameters
    assert "profile" not in inspect.signature(ExposureAnalyzer.shot_exposure).parameters
    for path in MEASURING:
        tree = ast.parse(path.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in modules if m and m.split(".")[-1] == "profile"}, path.name


@pytest.fixture(scope="module")
def fade_clip():
    path, _truth = fades_black()
    measured = analyze(path)
    return path, measured, check(path, profile=ALEPH), check(path, profile=STRICT)


def test_one_analysis_serves_every_profile(fade_clip):
    """The measurements are the same whichever profile judges them later."""
    _path, measured, aleph, strict = fade_clip
    assert [t.type for t in measured.transitions] == ["fade_out", "fade_in"]
    for result in (aleph, strict):
        # repr: NaN sharpness (the black hold has no texture) compares equal as text only
        assert repr(result.analysis.shots) == repr(measured.shots)
        assert result.analysis.transitions == measured.transitions
        assert result.analysis.frame_count == measured.frame_count
    assert [v.measured for v in aleph.shots] == list(aleph.analysis.shots)


def test_each_profile_gets_its_own_classes_and_flags(fade_clip):
    _path, measured, aleph, strict = fade_clip
    assert len(measured.shots) == 3  # shot A, the black hold, shot B
    assert [v.shake_class for v in strict.shots] == ["severe"] * 3
    assert [v.shake_class for v in aleph.shots] == [
        ALEPH.shake_class(s.shake.score_pct) for s in measured.shots
    ]
    # The hold is all fade black: nothing outside it to judge, so never "under", even when
    # every other shot is under the strict profile's impossible limit.
    assert [("under" in v.exposure_flags) for v in strict.shots] == [True, False, True]
    assert all("flicker" in v.exposure_flags for v in strict.shots)
    assert all(v.exposure_flags == () for v in aleph.shots)
    assert repr(strict.shots) == repr(judge_shots(measured, STRICT))  # NaN: see above
    doc = strict.to_dict()
    assert [s["shake"]["class"] for s in doc["shots"]] == ["severe"] * 3
    assert doc["profile"] == "strict"
    assert {f["id"] for f in doc["findings"]} >= {"shake", "underexposed", "flicker"}
    assert not {"shake", "underexposed", "flicker"} & {f.id for f in aleph.findings}
