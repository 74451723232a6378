"""Property-based tests (hypothesis): profiles (TOML text and parsed dicts) and manifests (JSON
text) never let anything but the project's own one-line errors escape.

Inputs are mostly *near-valid* documents (one key replaced, removed or added), where validation
bugs hide, plus arbitrary text. Each test sees :data:`properties.EXAMPLES` (10^4) inputs.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import tempfile
from importlib import resources
from pathlib import Path

from conftest import manifest_doc
from hypothesis import given
from hypothesis import strategies as st
from properties import NUMBER_TEXT, PARSER_SETTINGS, PATH_TEXT, check_contract

from preflight.batch.store import ItemRecord, Status, read_records
from preflight.fix.manifest import manifest_from_text
from preflight.profile import profile_from_dict, profile_from_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ALEPH_TEXT = (resources.files("preflight") / "profiles" / "aleph-2.toml").read_text()
ALEPH = tomllib.loads(ALEPH_TEXT)
KEYS = [(table, key) for table, value in ALEPH.items() if isinstance(value, dict) for key in value]
KEYS += [("", key) for key, value in ALEPH.items() if not isinstance(value, dict)]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    NUMBER_TEXT,
    st.sampled_from(["16:9", "16:0", "0:0", "1280x720", "0x0", "1281x720", "x", "stable", "severe"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
)


@st.composite
def near_valid_profile(draw) -> dict:
    """The aleph-2 profile with one to three keys replaced, removed, or added."""
    doc = copy.deepcopy(ALEPH)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        table, key = draw(st.sampled_from(KEYS))
        holder = doc.get(table) if table else doc
        if not isinstance(holder, dict):
            continue
        action = draw(st.sampled_from(["replace", "replace", "remove", "add", "table"]))
        if action == "replace":
            holder[key] = draw(VALUES)
        elif action == "remove":
            holder.pop(key, None)
        elif action == "add":
            holder[draw(st.text(max_size=12))] = draw(VALUES)
        elif table:
            doc[table] = draw(VALUES)
    return doc


@PARSER_SETTINGS
@given(st.one_of(near_valid_profile(), st.dictionaries(st.text(max_size=10), VALUES, max_size=5), VALUES))
def test_profile_dict(doc) -> None:
    profile = check_contract(profile_from_dict, doc)
    if profile is not None:
        numbers = [profile.min_duration_s, profile.max_duration_s, profile.min_fps, profile.max_fps]
        assert all(math.isfinite(v) and v >= 0 for v in numbers)
        assert profile.min_fps > 0 and profile.min_fps <= profile.max_fps
        assert 2 <= profile.min_short_side <= profile.max_short_side
        assert isinstance(profile.constant_fps, bool) and profile.max_cuts >= 0
        assert all(r > 0 for _name, r in profile.aspect_ratios)
        assert all(w > 0 and h > 0 and w % 2 == 0 and h % 2 == 0 for w, h in profile.output_sizes)


LINES = ALEPH_TEXT.splitlines()
VALUE_LINES = [i for i, line in enumerate(LINES) if " = " in line and not line.startswith("#")]


@st.composite
def near_valid_toml(draw) -> str:
    """aleph-2.toml with one value's text replaced by generated text (often not valid TOML)."""
    lines = list(LINES)
    i = draw(st.sampled_from(VALUE_LINES))
    key = lines[i].split(" = ")[0]
    value = draw(st.one_of(NUMBER_TEXT, st.text(max_size=20), st.sampled_from(
        ['"false"', "inf", "nan", "-inf", '["0x0"]', '["16:0"]', "[[[[[[[[1]]]]]]]]", "{}", "1979-05-27"])))
    lines[i] = f"{key} = {value}"
    return "\n".join(lines)


@PARSER_SETTINGS
@given(st.one_of(near_valid_toml(), st.text(max_size=200),
                 st.integers(min_value=1, max_value=5000).map(lambda n: "a = " + "[" * n + "]" * n)))
def test_profile_toml_text(text: str) -> None:
    check_contract(profile_from_text, text, source="generated.toml")


MANIFEST = manifest_doc(count=2, anchors=[
    {"spec": "last", "segment": 2, "at": "last", "time_s": 1.96, "source_time_s": 3.96, "image": None}
])
MANIFEST["segments"][1]["anchors"] = [{"at": "last", "time_s": 1.96, "source_time_s": 3.96, "image": None}]
MANIFEST_PATHS = [
    ("schema",), ("source",), ("source", "path"), ("output",), ("output", "width"), ("output", "height"),
    ("output", "fps"), ("output", "retime"), ("plan",), ("plan", "encoder"), ("plan", "encoder", "crf"),
    ("plan", "encoder", "preset"), ("segments",), ("segments", 0), ("segments", 1, "index"),
    ("segments", 0, "file"), ("segments", 1, "file"), ("segments", 0, "frame_count"),
    ("segments", 1, "start_frame"), ("segments", 0, "end_frame"), ("segments", 1, "sha256"),
    ("segments", 0, "bytes"), ("segments", 0, "source", "time_base"), ("segments", 1, "source", "start_pts"),
    ("segments", 0, "audio"), ("segments", 1, "anchors"), ("segments", 0, "requests"), ("anchors",),
    ("anchors", 0, "segment"), ("anchors", 0, "image"), ("anchors", 0, "time_s"), ("output", "audio"),
    ("output", "frame_count"), ("tool",), ("profile",), ("source", "probe"),
]


@st.composite
def near_valid_manifest(draw) -> str:
    doc = copy.deepcopy(MANIFEST)
    path = draw(st.sampled_from(MANIFEST_PATHS))
    holder = doc
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = draw(st.one_of(VALUES, PATH_TEXT))
    return json.dumps(doc)


HOSTILE_JSON = st.one_of(
    st.integers(min_value=1, max_value=6000).map(lambda n: '{"a": ' + "9" * n + "}"),
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(["NaN", "Infinity", "-Infinity", '{"a": 1e999}', "", "\ufeff{}", "null"]),
)


@PARSER_SETTINGS
@given(st.one_of(near_valid_manifest(), HOSTILE_JSON, st.text(max_size=200)))
def test_manifest_json_text(text: str) -> None:
    manifest = check_contract(manifest_from_text, text, path=Path("generated.json"))
    if manifest is not None:
        out = manifest.output
        assert out.width % 2 == 0 and out.height % 2 == 0 and out.fps > 0
        for seg in manifest.segments:
            assert "/" not in seg.file and "*" not in seg.file and seg.file not in (".", "..")


# --------------------------------------------------------------------------- results files
# `preflight report FILE.jsonl` and resuming a batch (`--results`) read files a user may edit.


RECORD = ItemRecord("a.mp4", Status.FAILED, 1, {"schema": "preflight.check/1"}, None, 1.5,
                    signals={"dx": [0.0, None]}).to_dict()
RECORD_KEYS = [*RECORD, "extra"]


@st.composite
def near_valid_record_line(draw) -> str:
    doc = copy.deepcopy(RECORD)
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        key = draw(st.sampled_from(RECORD_KEYS))
        if draw(st.booleans()):
            doc[key] = draw(st.one_of(VALUES, PATH_TEXT))
        else:
            doc.pop(key, None)
    return json.dumps(doc)


RESULTS_LINE = st.one_of(near_valid_record_line(), st.just(json.dumps(RECORD)), HOSTILE_JSON,
                         st.text(max_size=60))
_RESULTS = Path(tempfile.mkdtemp(prefix="results-prop-")) / "results.jsonl"


@PARSER_SETTINGS
@given(lines=st.lists(RESULTS_LINE, min_size=0, max_size=4), torn=st.booleans())
def test_results_file(lines: list[str], torn: bool) -> None:
    text = "\n".join(lines) + ("" if torn else "\n")
    _RESULTS.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    records = check_contract(read_records, str(_RESULTS))
    for r in records or ():
        assert isinstance(r.key, str) and isinstance(r.status, Status) and 0 <= r.exit_code <= 255
        assert math.isfinite(r.seconds) and (r.result is None or isinstance(r.result, dict))
