"""``preflight fix --merge-range``: a dense burst of transitions makes a plan impossible; the
error says where the burst is and planning the range as one shot gets through."""

from __future__ import annotations

from fractions import Fraction

import click
import pytest

from preflight.check.shots import Transition
from preflight.cli.fix import parse_time_range
from preflight.fix.plan import make_plan
from preflight.fix.plan.segments import merged_out
from preflight.profile import load_profile
from tests.test_plan import make_probe

PROFILE = load_profile("aleph-2")  # 2-30 s segments, at most 10 transitions each
FPS = 30


def _cut(frame: int) -> Transition:
    return Transition("cut", frame, frame, frame / FPS, frame / FPS, 1.0)


def _strobe_clip() -> tuple[object, list[Transition]]:
    """20 s with a strobe read as 25 cuts every 2 frames from 8.0 s, and two ordinary cuts."""
    burst = [240 + 2 * k for k in range(25)]
    return make_probe(fps=Fraction(FPS), frames=20 * FPS), [_cut(90), *map(_cut, burst), _cut(480)]


def test_burst_is_located_and_merge_range_plans_through_it() -> None:
    probe, transitions = _strobe_clip()
    plan = make_plan(probe, transitions, PROFILE)
    assert not plan.ok
    assert "8.00-9.64 s" in (plan.problem or "")
    assert "--merge-range 8.00-9.64" in (plan.problem or "")
    merged = make_plan(probe, transitions, PROFILE, merge_ranges=[(8.0, 9.64)])
    assert merged.ok, merged.problem
    assert len(merged.transitions) == len(transitions)  # the plan still lists them all
    inside = sum(len(s.transitions) for s in merged.segments)
    assert inside == 2  # only the two ordinary cuts are planned
    # A range that misses part of the burst does not help.
    short = make_plan(probe, transitions, PROFILE, merge_ranges=[(8.0, 8.05)])
    assert not short.ok


def test_merged_out_keeps_transitions_crossing_the_range_edge() -> None:
    dissolve = Transition("dissolve", 100, 130, 100 / FPS, 130 / FPS, 1.0)
    kept = merged_out([_cut(50), dissolve, _cut(200)], [(3.0, 4.0), (6.0, 7.0)])
    assert kept == [_cut(50), dissolve]
    with pytest.raises(ValueError, match="start < end"):
        merged_out([], [(5.0, 5.0)])


@pytest.mark.parametrize("text, expected", [("8-9.5", (8.0, 9.5)), ("0.25-1", (0.25, 1.0))])
def test_parse_time_range(text: str, expected: tuple[float, float]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize("text", ["8", "9-8", "a-b", "-1-2", "1-inf", "1-1e400", "nan-2", "1-" + "9" * 400,
                                  "1" * 5000])
def test_parse_time_range_rejects(text: str) -> None:
    """Malformed, reversed or infinite ranges are refused, in a message of bounded length."""
    with pytest.raises(click.BadParameter) as info:
        parse_time_range(text)
    message = info.value.format_message()
    assert "\n" not in message and len(message) <= 200, (len(message), message[:300])
