"""Property-based tests of the new option parsers: --service, --anchor with images, --video-url, --at."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from preflight.anchors.times import parse_at
from preflight.errors import UsageError
from preflight.fix.anchors import parse_anchor
from preflight.services.requests import fill_template, parse_video_url
from preflight.services.table import SERVICES, parse_service

SETTINGS = settings(max_examples=2000, deadline=None, derandomize=True)
decimal = st.builds(
    lambda i, f: f"{i}.{f}" if f else str(i),
    st.integers(0, 10**6),
    st.one_of(st.just(""), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
)


@SETTINGS
@given(name=st.sampled_from(list(SERVICES)), pad=st.sampled_from(["", " ", "\t"]), upper=st.booleans())
def test_service_names_parse_in_any_case(name, pad, upper):
    text = pad + (name.upper() if upper else name) + pad
    assert parse_service(text) is SERVICES[name]


@SETTINGS
@given(st.text(max_size=20))
def test_unknown_service_is_a_usage_error(text):
    assume(text.strip().lower() not in SERVICES)
    with pytest.raises(UsageError, match="unknown service"):
        parse_service(text)


@pytest.fixture(scope="module")
def img(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("img") / "ref.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n")
    return p


@SETTINGS
@given(t=decimal)
def test_anchor_time_with_image(img, t):
    a = parse_anchor(f"{t}={img}")
    assert a.at == "time" and a.seconds == float(t) and a.image == str(img.resolve())


@SETTINGS
@given(where=st.sampled_from(["first", "last", "FIRST", " last "]))
def test_anchor_first_last_with_image(img, where):
    a = parse_anchor(f"{where}={img}")
    assert a.at == where.strip().lower() and a.seconds is None and a.image == str(img.resolve())


@SETTINGS
@given(text=st.text(max_size=30))
def test_anchor_garbage_is_a_usage_error_or_parses(text):
    try:
        a = parse_anchor(text)
    except UsageError:
        return
    assert a.at in ("first", "last", "time")
    assert a.seconds is None or a.seconds >= 0


@SETTINGS
@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    path=st.from_regex(r"(/[A-Za-z0-9_.-]{1,8}){0,3}/", fullmatch=True),
    name=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=20
    ),
)
def test_video_url_template_fills_a_quoted_name(host, path, name):
    assume(name not in (".", ".."))
    template = parse_video_url(f"https://{host}{path}{{file}}")
    url = fill_template(template, f"/some/dir/{name}")
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == host
    assert urllib.parse.unquote(parts.path) == f"{path}{name}"
    assert not any(c.isspace() for c in url)


@SETTINGS
@given(text=st.text(max_size=40))
def test_video_url_garbage_is_a_usage_error_or_https(text):
    try:
        template = parse_video_url(text)
    except UsageError:
        return
    assert urllib.parse.urlsplit(fill_template(template, "a.mp4")).scheme == "https"


@SETTINGS
@given(t=decimal, pad=st.sampled_from(["", " "]))
def test_at_parses_decimal_seconds(t, pad):
    assert parse_at(pad + t + pad) == float(t)


@SETTINGS
@given(text=st.text(max_size=20))
def test_at_garbage_is_a_usage_error_or_seconds(text):
    try:
        value = parse_at(text)
    except UsageError:
        return
    assert value >= 0 and value == float(text)


@pytest.mark.parametrize("text", ["https://h.example/{file:d}", "https://h.example/{file!x}", "https://h.example/{file!r}",
                                  "https://h.example/{file:>99999999999999999999}", "https://h.example:99999/{file}",
                                  "https://[::1/{file}", "https://h.example/" + "{file}" * 2 + "{x}"])
def test_video_url_refuses_format_specs_bad_ports_and_brackets(text):
    """Each of these escaped as Python's ValueError (exit 4) or was accepted and made a broken URL."""
    with pytest.raises(UsageError, match="--video-url"):
        parse_video_url(text)
