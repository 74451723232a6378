"""Property-based tests of ``qa score --pairs PAIRS.csv`` (issue 12: every parser of user input).

The pairs file is generated as text: headers with known, unknown, repeated and missing
columns; rows with paths (hostile ones included), box cells (valid, malformed, huge numbers,
``;``-separated lists), empty cells, ragged rows, quoting, BOMs and odd encodings. The contract:
:func:`qa.batch.read_pairs` returns pairs whose every path lies under the CSV's folder or is
absolute as given, or raises a project error with one bounded line (``tests/properties.py``).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile

from hypothesis import given
from hypothesis import strategies as st
from properties import NUMBER_TEXT, PARSER_SETTINGS, PATH_TEXT, check_contract

from qa.batch import COLUMNS, read_pairs

_DIR = tempfile.mkdtemp(prefix="pairs-prop-")
_CSV = os.path.join(_DIR, "pairs.csv")

HEADER = st.lists(
    st.one_of(st.sampled_from([*COLUMNS, *(c.upper() for c in COLUMNS), " source ", "extra", ""]),
              st.text(max_size=8)),
    min_size=0, max_size=6,
)
BOX = st.one_of(
    st.lists(NUMBER_TEXT, min_size=0, max_size=6).map(",".join),
    st.tuples(NUMBER_TEXT, NUMBER_TEXT).map(lambda t: f"0,0,10,10@{t[0]}-{t[1]}"),
    st.lists(st.just("0.1,0.1,0.5,0.5"), min_size=1, max_size=300).map(";".join),
)
CELL = st.one_of(PATH_TEXT, BOX, st.text(max_size=20))


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@PARSER_SETTINGS
@given(
    header=HEADER,
    rows=st.lists(st.lists(CELL, min_size=0, max_size=6), min_size=0, max_size=5),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
)
def test_pairs_file(header: list[str], rows: list[list[str]], encoding: str) -> None:
    data = _csv_text(header, rows).encode(encoding, errors="replace")
    with open(_CSV, "wb") as f:
        f.write(data)
    pairs = check_contract(read_pairs, _CSV)
    if pairs is None:
        return
    assert pairs, "an empty list must be an error"
    keys = [p.key for p in pairs]
    assert len(set(keys)) == len(keys)
    for p in pairs:
        assert p.source and p.edited
        assert not (p.mask and p.box)
        assert p.box is None or p.region() is not None  # a valid box cell builds its region
