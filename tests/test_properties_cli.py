"""Property-based test (hypothesis): the console scripts' option parsing, end to end.

Generated option values and flags for the options of ``preflight check/fix/join/anchors/report`` and
``qa score/anchors``,
through click's ``CliRunner``. The inputs named do not exist, so each command stops at its first
file access: what is exercised is click's typing plus the commands' own parsing and validation.
The property: never exit 4 (internal error), never a traceback, and a project error is one line.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from properties import NUMBER_TEXT, PARSER_SETTINGS, PATH_TEXT

from preflight.cli.main import cli as preflight_cli
from qa.cli import cli as qa_cli

VALUE = st.one_of(NUMBER_TEXT, st.text(max_size=12), st.sampled_from(["0", "1", "-1", "full", "auto"]))
PATH = st.one_of(st.sampled_from(["out.csv", "sub/out.csv", "missing.mp4", "out.txt", "out.mp4"]), PATH_TEXT)
SPECIAL = {  # options whose values have a shape of their own: near-valid ones reach deeper
    "--service": st.sampled_from(["runway", "RUNWARE ", "cometapi", "nope", ""]),
    "--video-url": st.sampled_from(["https://b.example/{file}", "https://b.example/{file:d}", "http://x/{file}"]),
    "--merge-range": st.sampled_from(["1-2", "2-1", "1-inf", "nan-1", "-1-2", "1e400-1e401"]),
    "--at": st.sampled_from(["1", "1.5", "-1", "1e400", "nan"]),
    "--box": st.sampled_from(["0.1,0.1,0.5,0.5", "0,0,10,10@0-1", "0,0,10,10@1-0", "1,1,1,1"]),
}
# No --heatmaps, --results, --jobs or --scheduler, no existing inputs: nothing is written, nothing
# decoded, no batch started and no cluster contacted (those parsers have tests of their own).
QA_OPTIONS = ["--box", "--scale", "--max-offset", "--offset", "--min-mean", "--min-p5", "--worst",
              "--workers", "--csv", "--save-region", "--mask", "--mask-dir", "--mask-video", "--pairs"]
QA_FLAGS = ["--auto-region", "--json", "--force", "-q"]
QA_ANCHORS_OPTIONS = ["--mask", "--box", "--max-delta-e"]
QA_ANCHORS_FLAGS = ["--auto-region", "--json", "-q"]
CHECK_OPTIONS = ["--profile", "--csv", "--detector", "--analysis-size", "--otio"]
CHECK_FLAGS = ["--json", "--force", "--full-decode"]
FIX_OPTIONS = ["--profile", "-o", "--crf", "--preset", "--aspect", "--anchor", "--service", "--prompt",
               "--video-url", "--merge-range"]
FIX_FLAGS = ["--json", "--force", "--edl"]
JOIN_OPTIONS = ["-o", "--crf", "--preset"]
JOIN_FLAGS = ["--source-audio", "--force", "--json"]
ANCHORS_OPTIONS = ["-o", "--at"]
ANCHORS_FLAGS = ["--force", "--json"]
REPORT_OPTIONS = ["-o", "--parquet"]
REPORT_FLAGS = ["--thumbnails", "--no-thumbnails"]


def options(names: list[str], flags: list[str]) -> st.SearchStrategy[list[str]]:
    def value(name: str) -> st.SearchStrategy[str]:
        special = SPECIAL.get(name)
        plain = st.one_of(VALUE, PATH)
        return plain if special is None else st.one_of(special, plain)

    pair = st.sampled_from(names).flatmap(lambda name: value(name).map(lambda v: [name, v]))
    flag = st.sampled_from(flags).map(lambda f: [f])
    return st.lists(st.one_of(pair, pair, flag), max_size=4).map(lambda parts: [x for p in parts for x in p])


def command(cli, head: list[str], names: list[str], flags: list[str]):
    return st.tuples(st.just(cli), options(names, flags).map(lambda o: [*head, *o]))


COMMANDS = st.one_of(
    command(qa_cli, ["score", "src.mp4", "edt.mp4"], QA_OPTIONS, QA_FLAGS),
    command(qa_cli, ["anchors", "manifest.json", "edited"], QA_ANCHORS_OPTIONS, QA_ANCHORS_FLAGS),
    command(preflight_cli, ["check", "clip.mp4", "-q"], CHECK_OPTIONS, CHECK_FLAGS),
    command(preflight_cli, ["fix", "clip.mp4", "--dry-run", "-q"], FIX_OPTIONS, FIX_FLAGS),
    command(preflight_cli, ["join", "manifest.json", "edited", "-q"], JOIN_OPTIONS, JOIN_FLAGS),
    command(preflight_cli, ["anchors", "clip.mp4"], ANCHORS_OPTIONS, ANCHORS_FLAGS),
    command(preflight_cli, ["report", "results.jsonl"], REPORT_OPTIONS, REPORT_FLAGS),
)


@pytest.fixture(scope="module")
def workdir():
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield tmp
        finally:
            os.chdir(old)


@PARSER_SETTINGS
@given(COMMANDS)
def test_cli_options(workdir, command) -> None:
    cli, argv = command
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code in (1, 2, 3), (argv, result.exit_code, result.output[-300:], result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert all(len(line) <= 320 for line in lines), lines
    assert os.listdir(workdir) == [], (argv, os.listdir(workdir))  # nothing written, no folder made
