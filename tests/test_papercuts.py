"""Issue 12, item 5: papercuts a user noticed, one test each."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fixtures import long
from fixtures.transitions import fades_black
from preflight.cli.main import cli


@pytest.fixture(scope="module")
def fade_check():
    """``preflight check`` of a fade out to black, 10 black frames, fade in: table and JSON."""
    path, _ = fades_black()
    runner = CliRunner()
    table = runner.invoke(cli, ["check", str(path), "-q"])
    doc = json.loads(runner.invoke(cli, ["check", str(path), "-q", "--json"]).stdout)
    return table.stdout, doc


def test_each_hint_prints_under_its_finding(fade_check):
    table, doc = fade_check
    lines = table.splitlines()
    assert len(doc["findings"]) >= 1
    for f in doc["findings"]:
        row = next(i for i, ln in enumerate(lines) if re.match(rf"{f['severity']}\s+{f['id']}\s", ln))
        assert lines[row + 1] == f"  hint: {f['hint']}", lines[row : row + 2]


def test_table_shows_a_dash_where_json_has_null(fade_check):
    table, doc = fade_check
    held = [i for i, s in enumerate(doc["shots"], start=1) if s["sharpness"] is None]
    assert held, doc["shots"]  # the black hold has no texture: sharpness null
    assert "nan" not in table
    for k in held:
        row = next(ln for ln in table.splitlines() if ln.startswith(f"{k} "))
        assert row.split()[-1] == "-", row


def test_black_frames_of_a_fade_are_not_underexposed(fade_check):
    _, doc = fade_check
    assert [t["type"] for t in doc["transitions"]] == ["fade_out", "fade_in"]
    assert all("under" not in s["exposure"]["flags"] for s in doc["shots"]), doc["shots"]
    assert "underexposed" not in [f["id"] for f in doc["findings"]]


def test_fade_hold_leaves_a_dark_graded_shot_flagged():
    """Only flat frames touching a fade through black are spared: a dark (not flat) shot after
    the same fade, and flat black with no fade beside it, are still underexposed."""
    from preflight.check.analyzers.exposure import HOLD_FLAT_PCT, fade_hold
    from preflight.check.shots import Shot, Transition

    fade_out = Transition("fade_out", 10, 19, 0.4, 0.8, 1.0, via="black")
    fade_in = Transition("fade_in", 40, 49, 1.6, 2.0, 1.0, via="black")
    shot = Shot(20, 39)
    dark = np.array([100.0] * 5 + [60.0] * 10 + [100.0] * 5)
    none = np.zeros(20)
    hold = fade_hold(shot, dark, none, [fade_out, fade_in])
    assert hold.tolist() == [True] * 5 + [False] * 10 + [True] * 5
    assert not fade_hold(shot, dark, none, []).any()
    assert not fade_hold(Shot(21, 40), dark, none, [fade_out]).any()  # not adjacent
    assert fade_hold(shot, none + HOLD_FLAT_PCT, none, [fade_in]).all()
    white_in = Transition("fade_in", 40, 49, 1.6, 2.0, 1.0, via="white")
    assert not fade_hold(shot, none + 100.0, none, [white_in]).any()


# --------------------------------------------------------------------------- preflight fix


def _fix(*args: object):
    from preflight.cli.fix import fix_command

    return CliRunner().invoke(fix_command, [*map(str, args), "--preset", "ultrafast"], prog_name="preflight")


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory) -> Path:
    """6 s phone clip, 180x320 displayed: fix warns that it upscales it."""
    return long.rotated_phone()[0]


def test_fix_quiet_prints_no_plan_and_each_warning_prints_once(small_clip, tmp_path):
    r = _fix(small_clip, "-o", tmp_path / "a", "-q")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [  # only what was written
        f"wrote 1 segment(s) and {tmp_path / 'a' / 'manifest.json'}",
        f"wrote {tmp_path / 'a' / 'segments.otio'}",
    ]
    assert r.stderr == ""
    r = _fix(small_clip, "-o", tmp_path / "b")
    assert r.exit_code == 0, r.stderr
    assert "frame rate" in r.stdout  # the plan
    both = r.stdout + r.stderr
    assert both.count("below what the profile needs") == 1, both


def test_fix_default_folders_of_same_stem_inputs_differ(small_clip, tmp_path):
    """``clip.mov`` and ``clip.mkv`` side by side: ``clip.mov_fixed/`` and ``clip.mkv_fixed/``; a
    lone ``solo.mov`` (a sidecar ``solo.srt`` does not count) keeps ``solo_fixed/``."""
    from preflight.fix.segments import default_output_dir

    for name in ("clip.mov", "clip.mkv", "solo.mov"):
        shutil.copy(small_clip, tmp_path / name)
    (tmp_path / "solo.srt").write_text("1\n")
    assert default_output_dir(tmp_path / "solo.mov") == tmp_path / "solo_fixed"
    for name in ("clip.mov", "clip.mkv"):
        r = _fix(tmp_path / name, "-q")
        assert r.exit_code == 0, r.stderr
        assert (tmp_path / f"{name}_fixed" / "manifest.json").exists()
    assert not (tmp_path / "clip_fixed").exists()
    shutil.copy(small_clip, tmp_path / "clip.webm")  # the third name: three distinct folders
    folders = {default_output_dir(tmp_path / n) for n in ("clip.mkv", "clip.mov", "clip.webm")}
    assert folders == {tmp_path / f"clip.{ext}_fixed" for ext in ("mkv", "mov", "webm")}


def test_square_pixel_odd_size_is_displayed_as_coded(tmp_path):
    """641x359 with SAR 1:1 (4:4:4 allows odd sizes): displayed 641x359, not rounded to even."""
    from fixtures.synth import write_clip
    from preflight.media.probe import probe

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (359, 641, 3), dtype=np.uint8) for _ in range(3)]
    info = probe(write_clip(tmp_path / "odd.mp4", frames, fps=25, pix_fmt="yuv444p"))
    assert (info.width, info.height, info.sar) == (641, 359, 1)
    assert (info.display_width, info.display_height) == (641, 359)


def test_qa_help_names_no_profile():
    from qa.cli import cli as qa_cli

    for args in (["--help"], ["score", "--help"], ["anchors", "--help"]):
        r = CliRunner().invoke(qa_cli, args)
        assert r.exit_code == 0 and "Exit codes" in r.output
        assert "profile" not in r.output.lower(), r.output


def test_join_says_when_the_edited_segments_lost_the_audio(tmp_path):
    """The source has audio, the editor returned video-only segments: join warns and names
    --source-audio; with it, the warning goes and the joined clip has audio."""
    import av

    from preflight.cli.fix import join_command
    from preflight.media.probe import probe

    src, _ = long.many_cuts(seconds=10, cuts=12)  # AAC audio
    assert probe(src).audio
    fixed = tmp_path / "fixed"
    assert _fix(src, "-o", fixed, "-q").exit_code == 0
    edited = tmp_path / "edited"
    edited.mkdir()
    for seg in fixed.glob("*.mp4"):  # video stream copied, audio dropped
        with av.open(str(seg)) as inp, av.open(str(edited / seg.name), "w") as out:
            vin = inp.streams.video[0]
            vout = out.add_stream_from_template(vin)
            for packet in inp.demux(vin):
                if packet.dts is not None:
                    packet.stream = vout
                    out.mux(packet)
    runner = CliRunner()
    manifest = str(fixed / "manifest.json")
    r = runner.invoke(join_command, [manifest, str(edited), "-o", str(tmp_path / "a.mp4")])
    assert r.exit_code == 0, r.stderr
    assert "no edited segment has audio" in r.stderr and "--source-audio" in r.stderr
    r = runner.invoke(join_command, [manifest, str(edited), "-o", str(tmp_path / "b.mp4"), "--source-audio"])
    assert r.exit_code == 0, r.stderr
    assert "no edited segment has audio" not in r.stderr and probe(tmp_path / "b.mp4").audio
