"""Property-based test (hypothesis): the console scripts' option parsing, end to end.

Generated option values for every option of ``preflight check/fix/join`` and ``qa score``,
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
# No --heatmaps, no existing inputs: nothing is written and nothing is decoded.
QA_OPTIONS = ["--box", "--scale", "--max-offset", "--offset", "--min-mean", "--min-p5", "--worst",
              "--workers", "--csv", "--save-region", "--mask", "--mask-dir", "--mask-video"]
CHECK_OPTIONS = ["--profile", "--csv", "--detector", "--analysis-size"]
FIX_OPTIONS = ["--profile", "-o", "--crf", "--preset", "--aspect", "--anchor"]
JOIN_OPTIONS = ["-o", "--crf", "--preset"]


def options(names: list[str]) -> st.SearchStrategy[list[str]]:
    pair = st.tuples(st.sampled_from(names), st.one_of(VALUE, PATH))
    return st.lists(pair, max_size=4).map(lambda pairs: [x for p in pairs for x in p])


COMMANDS = st.one_of(
    st.tuples(st.just(qa_cli), options(QA_OPTIONS).map(lambda o: ["score", "src.mp4", "edt.mp4", *o])),
    st.tuples(st.just(preflight_cli), options(CHECK_OPTIONS).map(lambda o: ["check", "clip.mp4", "-q", *o])),
    st.tuples(st.just(preflight_cli),
              options(FIX_OPTIONS).map(lambda o: ["fix", "clip.mp4", "--dry-run", "-q", *o])),
    st.tuples(st.just(preflight_cli),
              options(JOIN_OPTIONS).map(lambda o: ["join", "manifest.json", "edited", "-q", *o])),
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
    assert not any(name in os.listdir(workdir) for name in ("out.csv", "out.mp4", "out.txt"))
