"""Property-based tests (hypothesis): --box with its time range, --anchor and the other CLI
option parsers never let anything but the project's own one-line errors escape.

Each test sees :data:`properties.EXAMPLES` (10^4) generated inputs, derandomized.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from pathlib import Path

import click
from hypothesis import given
from hypothesis import strategies as st
from properties import NUMBER_TEXT, PARSER_SETTINGS, PATH_TEXT, check_contract

from preflight.anchors.times import parse_at
from preflight.batch.runner import scheduler_address
from preflight.cli.fix import parse_time_range
from preflight.errors import MAX_MESSAGE
from preflight.fix.anchors import parse_anchor
from preflight.fix.plan import X264_PRESETS, validate_encoder_options
from preflight.media.outputs import check_output_path, same_file
from preflight.profile import load_profile
from preflight.services.fixrun import request_options
from preflight.services.requests import fill_template, parse_video_url
from preflight.services.table import SERVICES, parse_service
from qa.cli import _scale
from qa.mask import parse_box

SEP = st.sampled_from([",", " , ", ",,", ";", ""])
TIME_RANGE = st.one_of(
    st.just(""),
    st.builds(lambda a, b: f"@{a}-{b}", NUMBER_TEXT | st.just(""), NUMBER_TEXT | st.just("")),
    st.builds(lambda a: f"@{a}", st.text(max_size=12)),
)
BOX_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda nums, sep, rng: sep.join(nums) + rng,
        st.lists(NUMBER_TEXT, min_size=3, max_size=5),
        SEP,
        TIME_RANGE,
    ),
)


@PARSER_SETTINGS
@given(BOX_TEXT)
def test_box_parser(text: str) -> None:
    box = check_contract(parse_box, text)
    if box is not None:
        values = [box.x, box.y, box.w, box.h, *(t for t in (box.t0, box.t1) if t is not None)]
        assert all(math.isfinite(v) for v in values)
        assert box.w > 0 and box.h > 0 and box.x >= 0 and box.y >= 0
        assert box.t0 is None or box.t1 is None or box.t0 <= box.t1


@PARSER_SETTINGS
@given(st.one_of(NUMBER_TEXT, st.text(max_size=20)), TIME_RANGE)
def test_box_time_range(start: str, time_range: str) -> None:
    """The ``@t0-t1`` part on an otherwise valid box: times are finite, ordered, >= 0."""
    box = check_contract(parse_box, f"0.1,0.1,0.5,0.5{time_range or '@' + start}")
    if box is not None:
        for t in (box.t0, box.t1):
            assert t is None or (math.isfinite(t) and t >= 0)


ANCHOR_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda where, sep, image: f"{where}{sep}{image}",
        st.one_of(st.sampled_from(["first", "last", "FIRST", " last "]), NUMBER_TEXT),
        st.sampled_from(["", "=", " = ", "=="]),
        PATH_TEXT,
    ),
)


@PARSER_SETTINGS
@given(ANCHOR_TEXT)
def test_anchor_parser(text: str) -> None:
    spec = check_contract(parse_anchor, text)
    if spec is not None:
        assert spec.at in ("first", "last", "time")
        assert spec.seconds is None or (math.isfinite(spec.seconds) and spec.seconds >= 0)


@PARSER_SETTINGS
@given(st.one_of(NUMBER_TEXT, st.text(max_size=12), st.sampled_from(["full", "auto", " AUTO "])))
def test_scale_option(text: str) -> None:
    value = check_contract(_scale, text)
    assert value is None or value in ("full", "auto") or (isinstance(value, int) and value >= 1)


@PARSER_SETTINGS
@given(
    st.one_of(st.integers(), st.integers(min_value=10**3000, max_value=10**4000), st.booleans(), st.none()),
    st.one_of(st.sampled_from(X264_PRESETS), st.text(max_size=30), PATH_TEXT),
)
def test_crf_and_preset_options(crf: object, preset: str) -> None:
    check_contract(validate_encoder_options, crf=crf, preset=preset)


@PARSER_SETTINGS
@given(st.one_of(PATH_TEXT, st.sampled_from(["aleph-2", "gen4-aleph", "nope", "x.toml", "/dev/zero.toml"])))
def test_profile_option(text: str) -> None:
    """``--profile NAME|PATH``: a name, a path, or hostile text."""
    check_contract(load_profile, text)


# --------------------------------------------------------------------------- fix's --service family,
# --at, --merge-range, --scheduler (each 10^4 inputs; tests/test_services_parsers.py checks what
# valid values parse to with fewer examples)

ANY_TEXT = st.one_of(NUMBER_TEXT, PATH_TEXT, st.text(max_size=40))


@PARSER_SETTINGS
@given(st.one_of(ANY_TEXT, st.sampled_from(list(SERVICES)).map(lambda name: f" {name.upper()}\t")))
def test_service_option(text: str) -> None:
    service = check_contract(parse_service, text)
    assert service is None or service in SERVICES.values()


URL_FIELD = st.one_of(
    st.just("{file}"),
    st.sampled_from(["{file:d}", "{file!r}", "{file!x}", "{file:>99999999999999999999}", "{file.x}",
                     "{file[0]}", "{}", "{0}", "{name}", "{file", "file}", "{{file}}", "{file}{file}"]),
    st.text(alphabet="{}!:>0123456789dfilerx.[]", max_size=12),
)
URL_HOST = st.one_of(
    st.sampled_from(["bucket.example", "h.example:443", "h.example:99999", "h.example:x", "[::1]", "[::1", "",
                     "a b"]),
    st.text(max_size=15),
)
VIDEO_URL = st.one_of(
    ANY_TEXT,
    st.builds(lambda scheme, host, path, field: f"{scheme}{host}/{path}{field}",
              st.sampled_from(["https://", "http://", "ftp://", "https:/", "", "HTTPS://"]), URL_HOST,
              st.text(max_size=10), URL_FIELD),
)


@PARSER_SETTINGS
@given(VIDEO_URL)
def test_video_url_option(text: str) -> None:
    template = check_contract(parse_video_url, text)
    if template is not None:
        url = fill_template(template, "my clip #1.mp4")
        assert urllib.parse.urlsplit(url).scheme == "https" and not any(c.isspace() for c in url)


@PARSER_SETTINGS
@given(services=st.lists(st.one_of(st.sampled_from(list(SERVICES)), st.text(max_size=12)), max_size=3),
       prompt=st.one_of(st.none(), st.text(max_size=30), st.integers(0, 3000).map(lambda n: "p" * n)),
       video_url=st.one_of(st.none(), VIDEO_URL))
def test_service_prompt_and_video_url_together(services: list[str], prompt: str | None,
                                              video_url: str | None) -> None:
    check_contract(request_options, services, prompt=prompt, video_url=video_url)


@PARSER_SETTINGS
@given(st.one_of(ANY_TEXT, st.builds(lambda a, b: f"{a}.{b}", NUMBER_TEXT, NUMBER_TEXT)))
def test_at_option(text: str) -> None:
    value = check_contract(parse_at, text)
    assert value is None or (math.isfinite(value) and value >= 0)


@PARSER_SETTINGS
@given(st.one_of(ANY_TEXT, st.builds(lambda a, sep, b: f"{a}{sep}{b}",
                                     NUMBER_TEXT, st.sampled_from(["-", "--", " - "]), NUMBER_TEXT)))
def test_merge_range_option(text: str) -> None:
    try:
        lo, hi = parse_time_range(text)
    except click.BadParameter as exc:  # a click usage error (exit 2): one bounded line
        message = exc.format_message()
        assert "\n" not in message and len(message) <= MAX_MESSAGE, (len(message), message[:400])
        return
    assert 0 <= lo < hi < math.inf


@PARSER_SETTINGS
@given(st.one_of(ANY_TEXT, st.builds(lambda scheme, host, port: f"{scheme}{host}:{port}",
                                     st.sampled_from(["", "tcp://", "tls://", "ws://", "ftp://", "inproc://"]),
                                     URL_HOST, NUMBER_TEXT)))
def test_scheduler_option(text: str) -> None:
    address = check_contract(scheduler_address, text)
    if address is not None:
        parts = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")
        assert parts.hostname and parts.port is not None and 0 < parts.port < 65536


@PARSER_SETTINGS
@given(path=st.one_of(PATH_TEXT, st.sampled_from(["in.mp4", "./in.mp4", "masks/x.png", "masks", "new.csv"])),
       force=st.booleans())
def test_output_path_options(tmp_path_factory, path: str, force: bool) -> None:
    """``--csv``, ``--save-region``, ``--otio``, ``-o``, ``--parquet``: every output path is
    checked by :func:`check_output_path`; it never writes, and never accepts an input."""
    folder = _output_folder(tmp_path_factory)
    os.chdir(folder)
    before = sorted(os.listdir(folder))
    out = check_contract(check_output_path, path, inputs=["in.mp4", None], input_dirs=["masks"], force=force)
    assert sorted(os.listdir(folder)) == before
    if out is not None:
        assert not out.is_dir() and not same_file(out, "in.mp4") and not Path(path).resolve().is_relative_to(
            (folder / "masks").resolve())


_FOLDERS: dict[str, Path] = {}


def _output_folder(factory) -> Path:
    if "out" not in _FOLDERS:
        folder = factory.mktemp("outputs")
        (folder / "in.mp4").write_bytes(b"x")
        (folder / "masks").mkdir()
        _FOLDERS["out"] = folder
    return _FOLDERS["out"]
