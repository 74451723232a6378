"""The public API (``preflight.api``): lazy, typed and symmetric with the CLI; the string-valued
modes are enums that print and serialise exactly as the strings they replaced."""

from __future__ import annotations

import json
import subprocess
import sys

from fixtures import long
from preflight.check.shots import Transition, TransitionType
from preflight.check.verdict import Finding, Severity
from preflight.enums import TextEnum
from preflight.fix.plan import EncoderPlan, Plan, RateMode


def test_import_preflight_does_no_work():
    code = "import sys, preflight; print(sorted(m for m in sys.modules if m.startswith('preflight')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['preflight']"


def test_lazy_names_resolve_to_the_api():
    import preflight
    import preflight.api

    assert preflight.plan_fix is preflight.api.plan_fix and preflight.join is preflight.api.join
    assert issubclass(preflight.errors.FailedError, preflight.errors.PreflightError)


def test_text_enums_print_and_serialise_as_their_values():
    t = Transition("dissolve", 3, 9, 0.1, 0.3, 0.9)
    assert t.type is TransitionType.DISSOLVE and t.type == "dissolve"
    assert f"{t.type}" == str(t.type) == "dissolve" and f"{t.type:>9}" == " dissolve"
    assert json.dumps(t.to_dict()) == json.dumps({**t.to_dict(), "type": "dissolve"})
    f = Finding("x", "error", None, None, "m", "h")
    assert f.severity is Severity.ERROR and json.dumps(f.severity) == '"error"'
    enc = EncoderPlan(audio="aac", tonemap="pq", deinterlace="tff")
    assert [type(v).__name__ for v in (enc.audio, enc.tonemap, enc.deinterlace)] == ["AudioMode", "ToneMap",
                                                                                      "FieldOrder"]
    assert isinstance(RateMode("resample"), TextEnum)


def test_plan_fix_and_fix_agree(tmp_path):
    from preflight.api import fix, plan_fix

    src, _ = long.many_cuts(seconds=8, cuts=12)
    plan = plan_fix(src, preset="ultrafast")
    assert isinstance(plan, Plan) and plan.ok and len(plan.segments) == 2
    assert plan.rate.mode is RateMode.KEEP
    done = fix(src, tmp_path / "out", preset="ultrafast", anchors=["first"])
    bounds = [(s.start_frame, s.end_frame) for s in plan.segments]
    assert [(s.start_frame, s.end_frame) for s in done.plan.segments] == bounds
    assert (done.plan.rate, done.plan.size) == (plan.rate, plan.size)
    assert [p.name for p in done.segment_paths] == [s.file for s in done.manifest.segments]
    assert len(done.anchors) == 1 and done.anchors[0]["segment"] == 1
