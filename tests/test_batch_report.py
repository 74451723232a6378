"""``preflight report``: the HTML page (rendered in headless Chromium) and the Parquet table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import bad
from fixtures import qa as FQ
from preflight.batch.html import common_folder, reasons, short_key
from preflight.batch.store import ItemRecord, Status
from preflight.batch.table import COLUMNS, error_label, failure_label
from preflight.cli.main import cli as preflight_cli
from qa.cli import cli as qa_cli
from tests.test_batch import compliant_clip, cut_clip

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless browser: install Debian's chromium (apt-get install -y chromium) to render it",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A check batch (passed, failed with a cut, unreadable) and a qa batch (passed, failed)."""
    d = tmp_path_factory.mktemp("report")
    clips = d / "clips"
    clips.mkdir()
    shutil.copy(compliant_clip(), clips / "good.mp4")
    shutil.copy(cut_clip(), clips / "cut.mp4")
    bad.text_as_mp4(clips)
    check = d / "check.jsonl"
    res = CliRunner().invoke(preflight_cli, ["check", str(clips), "--results", str(check), "-q"])
    assert res.exit_code == 3, res.output
    pair = FQ.box_pair(frames=24)
    x, y, w, h = pair.boxes[0]
    pairs = d / "pairs.csv"
    pairs.write_text(
        f'source,edited,box\n{pair.source},{pair.edited},"{x},{y},{w},{h}"\n{pair.source},{pair.edited},\n'
    )
    qa = d / "qa.jsonl"
    res = CliRunner().invoke(qa_cli, ["score", "--pairs", str(pairs), "--results", str(qa), "-q"])
    assert res.exit_code == 1, res.output
    html = d / "report.html"
    parquet = d / "table.parquet"
    res = CliRunner().invoke(
        preflight_cli, ["report", str(check), str(qa), "-o", str(html), "--parquet", str(parquet)]
    )
    assert res.exit_code == 0, res.output
    return html, parquet, check


def test_report_is_self_contained_and_shows_what_to_fix(results):
    html, _, _ = results
    text = html.read_text()
    assert not re.search(r"(src|href)=['\"](?!data:|#)", text)  # nothing loaded from anywhere
    assert "http://" not in text and "https://" not in text
    assert "<b>5</b>items" in text and "<b>2</b>passed" in text and "<b>2</b>failed" in text
    assert "<b>1</b>error" in text
    assert "duration_short (error)" in text and "qa gate: mean outside SSIM" in text
    assert "not judged: not a readable media file" in text
    # the failing cut clip: timeline, three plots, a thumbnail either side of its cut
    assert text.count("class='timeline'") == 2 and "before cut @ 0.80 s" in text and "after cut" in text
    assert "aria-label='cut score'" in text and "aria-label='mean luma'" in text
    assert "aria-label='motion (% of frame, max per bin)'" in text
    # the failing qa pair: SSIM plot with the gate line and its worst frames from both clips
    assert "SSIM outside the edit" in text and "edited frame" in text
    assert text.count("data:image/png;base64,") == 2 + 6


def test_parquet_table_reads_in_pyarrow_and_pandas(results):
    pq = pytest.importorskip("pyarrow.parquet")
    _, parquet, check = results
    table = pq.read_table(parquet)
    assert table.column_names == [name for name, _ in COLUMNS] and table.num_rows == 5
    listed = ["path", "status", "passed", "duration_s", "fps", "width", "height", "size_bytes", "cut_count",
              "worst_shake_pct", "exposure_flags", "ssim_outside_mean", "ssim_outside_p5"]  # issue 10's list
    assert set(listed) <= set(table.column_names)
    rows = {
        os.path.basename(r["key"].split("|")[0])
        + ("|" + r["key"].split("|")[2] if "|" in r["key"] else ""): r
        for r in table.to_pylist()
    }
    cut = rows["cut.mp4"]
    assert (cut["status"], cut["cut_count"], cut["passed"], cut["width"]) == ("failed", 1, False, 320)
    assert (cut["duration_s"], cut["fps"], cut["height"]) == (1.6, 25.0, 240) and cut["size_bytes"] > 0
    assert cut["worst_shake_pct"] >= 0 and cut["exposure_flags"] is not None
    assert cut["findings"] == "duration_short,resolution_low"
    first = json.loads(check.read_text().splitlines()[0])
    assert any(r["key"] == first["key"] and r["seconds"] == first["seconds"] for r in table.to_pylist())
    assert rows["notes.mp4"]["error"] and rows["notes.mp4"]["passed"] is None
    qa_rows = [r for r in table.to_pylist() if r["kind"] == "qa"]
    assert len(qa_rows) == 2 and all(0.5 < r["ssim_outside_mean"] < 1 for r in qa_rows)
    import pandas as pd  # in the test extra: a user's notebook reads the table this way
    frame = pd.read_parquet(parquet)
    assert len(frame) == 5 and frame.loc[frame["key"].str.endswith("cut.mp4"), "cut_count"].item() == 1


def test_labels_and_ranking():
    assert failure_label("mean outside SSIM 0.8895 < 0.9000 (--min-mean)") == "mean outside SSIM"
    assert error_label("clips/a.mp4: not a readable media file (Invalid data)") == "not a readable media file"
    recs = [
        ItemRecord(
            key=f"k{i}",
            status=Status.FAILED,
            exit_code=1,
            error=None,
            seconds=0,
            result={
                "schema": "preflight.check/1",
                "findings": [{"id": "a", "severity": "error"}]
                + ([{"id": "b", "severity": "warning"}] if i == 0 else []),
            },
        )
        for i in range(3)
    ]
    assert reasons(recs) == [("a (error)", 3), ("b (warning)", 1)]
    folder = common_folder(["/x/y/a.mp4|/x/y/b.mp4|", "/x/z/c.mp4"])
    assert folder == "/x" and short_key("/x/y/a.mp4|/x/y/b.mp4|", folder) == "y/a.mp4 | y/b.mp4"


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def console_messages(stderr: str) -> list[str]:
    """Console output of the page (Chromium logs it as ``INFO:CONSOLE`` lines with --enable-logging)."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


@needs_browser
def test_console_capture_sees_a_page_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>notDefined();</script></body></html>")
    msgs = console_messages(_chromium("--dump-dom", page.as_uri()).stderr)
    assert any("notDefined" in m for m in msgs), msgs


@needs_browser
def test_report_renders_in_headless_chromium(results, tmp_path):
    html, _, _ = results
    dom = _chromium("--dump-dom", html.as_uri())
    assert console_messages(dom.stderr) == []
    assert 'data-ready="1"' in dom.stdout  # the inline script ran to its end
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,1600", f"--screenshot={shot}", html.as_uri())
    import cv2

    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1280)
    # the summary cards are drawn: the passed card's green and the failed card's red are on screen
    top = img[:300].reshape(-1, 3).astype(int)
    assert ((abs(top - (0x32, 0x7D, 0x2E)) < 12).all(axis=1)).sum() > 500  # BGR of #2e7d32
    assert ((abs(top - (0x28, 0x28, 0xC6)) < 12).all(axis=1)).sum() > 500  # BGR of #c62828
    keep = os.environ.get("PREFLIGHT_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


@needs_browser
def test_items_table_sorts_on_a_header_click_in_chromium(results, tmp_path):
    """Click the duration header twice: ascending, then descending; empty cells stay together."""
    html, _, _ = results
    probe = """<script>
var th=document.querySelector("th[data-col='duration_s']"),seen=[];
function column(){var i=th.cellIndex;return Array.prototype.map.call(
document.querySelectorAll('#items tbody tr'),function(r){return r.cells[i].dataset.v;}).join(',');}
seen.push(column());th.click();seen.push(column());th.click();seen.push(column());
document.body.setAttribute('data-sorted',seen.join('|'));
</script></body>"""
    page = tmp_path / "sort.html"
    page.write_text(html.read_text().replace("</body>", probe))
    dom = _chromium("--dump-dom", page.as_uri())
    assert console_messages(dom.stderr) == []
    found = re.search(r'data-sorted="([^"]*)"', dom.stdout)
    assert found, dom.stdout[-500:]
    before, asc, desc = (col.split(",") for col in found.group(1).split("|"))
    assert len(asc) == len(desc) == len(before) == 5 and sorted(asc) == sorted(before)
    numbers = [float(v) for v in asc if v]
    assert numbers == sorted(numbers) and len(numbers) == 2
    assert [float(v) for v in desc if v] == sorted(numbers, reverse=True)
    assert asc[: asc.count("")] == [""] * asc.count("") and desc[-desc.count(""):] == [""] * desc.count("")
