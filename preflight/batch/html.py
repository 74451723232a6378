"""``preflight report``: one self-contained HTML page for a person deciding what to fix.

Layout: a summary (passed / failed / errored, and the reasons ranked by how many items they hit),
a table of every item (click a header to sort; a few lines of inline JavaScript), then one
section per item: findings, its transitions on a timeline, its per-frame curves (cut score,
motion, luma; SSIM outside for qa) as inline SVG, and thumbnails around each cut and of the worst
qa frames as PNG data URIs. Nothing is loaded from the network.

Thumbnails are decoded here, at report time, from the paths in the results (the report is made
where the files are, like the batch): results lines stay a few KB, and a report of a huge batch
can skip them (``thumbnails=False``). Only items that did not pass get thumbnails (about 30 KB
each as 160 px PNG), which keeps the page loadable for thousands of items. Plots use the small
curves the batch stored per item.
Hand-written SVG and string templates: a plotting or templating library would add a dependency
for about 150 lines of code here.
"""

from __future__ import annotations

import base64
import html
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .store import ItemRecord, Status
from .table import error_label, failure_label, item_kind, row

MAX_CUT_THUMBS = 6
"""Transitions per item that get thumbnails (the first ones)."""
MAX_QA_THUMBS = 3
"""Worst qa frames per item that get thumbnails."""
THUMB_WIDTH = 160

_TABLE_COLUMNS = (
    ("key", "item"),
    ("status", "status"),
    ("findings", "findings"),
    ("duration_s", "s"),
    ("fps", "fps"),
    ("width", "w"),
    ("height", "h"),
    ("cut_count", "cuts"),
    ("worst_shake_pct", "worst shake %"),
    ("exposure_flags", "exposure"),
    ("ssim_outside_mean", "SSIM out mean"),
    ("ssim_outside_p5", "SSIM out p5"),
    ("seconds", "run s"),
)

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}.wrap{overflow-x:auto}
td a{word-break:break-all}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:0}
.cards{display:flex;gap:12px;margin:8px 0 16px}.card{padding:10px 18px;border-radius:8px;color:#fff}
.card b{display:block;font-size:26px}.passed{background:#2e7d32}.failed{background:#c62828}
.error{background:#6a1b9a}.total{background:#455a64}
table{border-collapse:collapse;width:100%}#reasons{width:auto;min-width:420px}
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}
th{background:#f3f3f3;cursor:pointer;user-select:none;white-space:nowrap}td.num{text-align:right}
.st{padding:1px 6px;border-radius:4px;color:#fff;font-size:12px}
section.item{border:1px solid #ddd;border-radius:8px;padding:12px;margin:14px 0}
.thumbs{display:flex;flex-wrap:wrap;gap:8px}.thumbs figure{margin:0;font-size:11px;color:#555}
.thumbs img{display:block;border:1px solid #ccc}.muted{color:#777}code{font-size:12px}
ul.find{margin:4px 0 8px;padding-left:20px}.sev-error{color:#c62828}.sev-warning{color:#ef6c00}
"""

_JS = """
document.querySelectorAll('th[data-col]').forEach(function(th){th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,asc=th.dataset.dir!=='asc';
th.dataset.dir=asc?'asc':'desc';
var rows=Array.prototype.slice.call(b.rows);rows.sort(function(x,y){
var a=x.cells[i].dataset.v,c=y.cells[i].dataset.v,na=parseFloat(a),nc=parseFloat(c);
var r=(!isNaN(na)&&!isNaN(nc))?na-nc:String(a).localeCompare(String(c));return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});});});
document.body.setAttribute('data-ready','1');
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def reasons(records: Sequence[ItemRecord]) -> list[tuple[str, int]]:
    """Why items did not pass, ranked: finding ids (severity), qa gate failures, errors; with item counts.

    Passed items count too: a warning on a passed item is still a reason to look.
    """
    counts: Counter[str] = Counter()
    for r in records:
        if r.status is Status.ERROR:
            counts[f"not judged: {error_label(r.error or '')}"] += 1
        elif r.result is not None and item_kind(r) == "qa":
            counts.update({f"qa gate: {failure_label(f)}" for f in r.result.get("failures") or []})
        elif r.result is not None:
            counts.update({f"{f['id']} ({f['severity']})" for f in r.result.get("findings") or []})
    return counts.most_common()


def render_report(
    records: Sequence[ItemRecord], *, thumbnails: bool = True, title: str = "Batch report"
) -> str:
    """The whole HTML page for ``records``, failed and errored items first."""
    order = {Status.ERROR: 0, Status.FAILED: 1, Status.PASSED: 2}
    items = sorted(records, key=lambda r: (order[r.status], r.key))
    status_counts = Counter(r.status for r in records)
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>",
        "<div class='cards'>",
        f"<div class='card total'><b>{len(records)}</b>items</div>",
    ]
    parts += [f"<div class='card {s.value}'><b>{status_counts.get(s, 0)}</b>{s.value}</div>" for s in Status]
    parts.append("</div><h2>Why items did not pass</h2>")
    ranked = reasons(records)
    if ranked:
        parts.append("<table id='reasons'><thead><tr><th>reason</th><th>items</th></tr></thead><tbody>")
        parts += [f"<tr><td>{_e(k)}</td><td class='num'>{n}</td></tr>" for k, n in ranked]
        parts.append("</tbody></table>")
    else:
        parts.append("<p>Every item passed.</p>")
    parts.append(_items_table(items))
    parts.append("<h2>Items</h2>")
    folder = common_folder(r.key for r in items)
    parts += [_item_section(i, r, folder=folder, thumbnails=thumbnails) for i, r in enumerate(items)]
    parts.append(f"<script>{_JS}</script></body></html>\n")
    return "".join(parts)


def common_folder(keys: Iterable[str]) -> str:
    """The folder every path in ``keys`` (qa keys: each ``|`` part) lies in, or ``""``."""
    paths = [p for k in keys for p in k.split("|") if p and ("/" in p or os.sep in p)]
    try:
        folder = os.path.commonpath(paths) if paths else ""
    except ValueError:  # absolute and relative paths mixed
        return ""
    folder = folder if all(p != folder for p in paths) else os.path.dirname(folder)
    return "" if folder in ("", os.sep) else folder


def short_key(key: str, folder: str) -> str:
    """``key`` with ``folder`` taken off each path (qa keys read ``source | edited | region``)."""
    parts = [os.path.relpath(p, folder) if folder and p.startswith(folder) else p for p in key.split("|")]
    return " | ".join(p for p in parts if p)


def _items_table(items: Sequence[ItemRecord]) -> str:
    head = "".join(f"<th data-col='{c}'>{_e(label)}</th>" for c, label in _TABLE_COLUMNS)
    folder = common_folder(r.key for r in items)
    body = []
    for i, r in enumerate(items):
        cells = []
        values = row(r)
        for col, _ in _TABLE_COLUMNS:
            v = values[col]
            sort = "" if v is None else v
            if col == "key":
                text = f"<a href='#item-{i}' title='{_e(v)}'>{_e(short_key(str(v), folder))}</a>"
            elif col == "status":
                text = f"<span class='st {_e(v)}'>{_e(v)}</span>"
            elif col == "findings":
                text = _e(
                    str(v or "").replace(",", ", ")
                    if r.status is not Status.ERROR
                    else error_label(r.error or "")
                )
            else:
                text = _e(f"{v:.4g}" if isinstance(v, float) else v)
            num = " class='num'" if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells.append(f"<td{num} data-v='{_e(sort)}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f"Paths relative to {folder}; click a header to sort." if folder else "Click a header to sort."
    return (
        f"<h2>All items</h2><p class='muted'>{_e(note)}"
        f"</p><div class='wrap'><table id='items'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _item_section(index: int, r: ItemRecord, *, folder: str, thumbnails: bool) -> str:
    out = [
        f"<section class='item' id='item-{index}'><h3><span class='st {r.status.value}'>{r.status.value}"
        f"</span> <span title='{_e(r.key)}'>{_e(short_key(r.key, folder))}</span></h3>"
    ]
    if r.status is Status.ERROR:
        out.append(f"<p><code>{_e(r.error)}</code> (exit code {r.exit_code})</p></section>")
        return "".join(out)
    doc = r.result or {}
    signals = r.signals or {}
    thumbnails = thumbnails and r.status is not Status.PASSED
    if item_kind(r) == "qa":
        out.append(_qa_body(doc, signals, thumbnails=thumbnails))
    else:
        out.append(_check_body(doc, signals, thumbnails=thumbnails))
    out.append("</section>")
    return "".join(out)


def _check_body(doc: Mapping[str, Any], signals: Mapping[str, Any], *, thumbnails: bool) -> str:
    findings = doc.get("findings") or []
    out = ["<ul class='find'>"]
    out += [
        f"<li class='sev-{_e(f['severity'])}'><b>{_e(f['id'])}</b>: {_e(f['message'])}"
        + (f" <span class='muted'>hint: {_e(f.get('hint'))}</span>" if f.get("hint") else "")
        + "</li>"
        for f in findings
    ]
    out.append("</ul>" if findings else "</ul><p class='muted'>No findings.</p>")
    duration = float((doc.get("probe") or {}).get("duration_s") or 0.0)
    transitions = doc.get("transitions") or []
    out.append(timeline_svg(duration, doc.get("shots") or [], transitions))
    marks = [float(t["start_s"]) for t in transitions]
    for name, label in (
        ("cut_score", "cut score"),
        ("motion", "motion (% of frame, max per bin)"),
        ("luma", "mean luma"),
    ):
        if signals.get(name):
            out.append(
                plot_svg(signals[name], signals.get("span_s", [0, duration]), label=label, marks=marks)
            )
    if thumbnails and transitions:
        wanted = {}
        for t in transitions[:MAX_CUT_THUMBS]:
            wanted[max(0, int(t["start_frame"]) - 1)] = f"before {t['type']} @ {t['start_s']:.2f} s"
            wanted[int(t["end_frame"])] = f"after {t['type']} @ {t['end_s']:.2f} s"
        out.append(_thumb_strip(str(doc.get("path", "")), wanted))
    return "".join(out)


def _qa_body(doc: Mapping[str, Any], signals: Mapping[str, Any], *, thumbnails: bool) -> str:
    ssim = doc.get("ssim_outside") or {}
    gate = doc.get("gate") or {}
    failures = doc.get("failures") or []
    out = [
        f"<p>SSIM outside: mean {_e(ssim.get('mean'))}, p5 {_e(ssim.get('p5'))}, min {_e(ssim.get('min'))}"
        f" <span class='muted'>(gate: mean &ge; {_e(gate.get('min_mean'))}, p5 &ge; {_e(gate.get('min_p5'))})"
        "</span></p>"
    ]
    if failures:
        out.append(
            "<ul class='find'>" + "".join(f"<li class='sev-error'>{_e(f)}</li>" for f in failures) + "</ul>"
        )
    worst = doc.get("worst_frames") or []
    if signals.get("ssim_outside"):
        out.append(
            plot_svg(
                signals["ssim_outside"],
                signals.get("span_s", [0, 0]),
                label="SSIM outside the edit (min per bin)",
                marks=[float(w["time_s"]) for w in worst[:3]],
                ref=gate.get("min_mean"),
            )
        )
    if thumbnails and worst:
        for side, key in (("source", "frame"), ("edited", "edited_frame")):
            wanted = {
                int(w[key]): f"{side} frame {w[key]}, SSIM {w['ssim_outside']}" for w in worst[:MAX_QA_THUMBS]
            }
            out.append(_thumb_strip(str(doc.get(side, "")), wanted))
    return "".join(out)


def timeline_svg(
    duration: float,
    shots: Sequence[Mapping[str, Any]],
    transitions: Sequence[Mapping[str, Any]],
    *,
    width: int = 900,
) -> str:
    """Shots as alternating bands on a time axis, transitions as red marks (ranges for dissolves)."""
    if duration <= 0:
        return ""
    x = lambda t: 10 + (width - 20) * min(max(float(t) / duration, 0.0), 1.0)  # noqa: E731
    parts = [
        f"<svg class='timeline' width='{width}' height='44' viewBox='0 0 {width} 44' role='img' "
        f"aria-label='timeline'><title>shots and transitions over {duration:.2f} s</title>"
    ]
    for i, s in enumerate(shots):
        x0, x1 = x(s["start_s"]), x(s["end_s"])
        parts.append(
            f"<rect x='{x0:.1f}' y='8' width='{max(x1 - x0, 1):.1f}' height='18' "
            f"fill='{'#90caf9' if i % 2 == 0 else '#64b5f6'}'><title>shot {i + 1}: "
            f"{s['start_s']:.2f}-{s['end_s']:.2f} s</title></rect>"
        )
    for t in transitions:
        x0, x1 = x(t["start_s"]), x(t["end_s"])
        parts.append(
            f"<rect x='{x0 - 1:.1f}' y='4' width='{max(x1 - x0, 0) + 2:.1f}' height='26' fill='#d32f2f' "
            f"opacity='0.8'><title>{_e(t['type'])} {t['start_s']:.2f}-{t['end_s']:.2f} s</title></rect>"
        )
    parts.append(
        f"<text x='10' y='42' font-size='11'>0 s</text><text x='{width - 10}' y='42' font-size='11' "
        f"text-anchor='end'>{duration:.2f} s</text></svg>"
    )
    return "".join(parts)


def plot_svg(
    values: Sequence[float | None],
    span: Sequence[float],
    *,
    label: str,
    marks: Iterable[float] = (),
    ref: float | None = None,
    width: int = 900,
    height: int = 90,
) -> str:
    """A line plot of ``values`` spread evenly over ``span`` seconds, with vertical marks and a reference."""
    finite = [v for v in values if v is not None]
    if not finite:
        return ""
    t0, t1 = float(span[0]), float(span[-1])
    lo, hi = (
        min(finite + ([ref] if ref is not None else [])),
        max(finite + ([ref] if ref is not None else [])),
    )
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    top, bottom, left, right = 16, height - 14, 50, width - 10
    sx = lambda t: left + (right - left) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.0)  # noqa: E731
    sy = lambda v: bottom - (bottom - top) * (v - lo) / (hi - lo)  # noqa: E731
    n = len(values)
    points = " ".join(
        f"{sx(t0 + (t1 - t0) * i / max(n - 1, 1)):.1f},{sy(v):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
    parts = [
        f"<svg class='plot' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{_e(label)}'><text x='{left}' y='11' font-size='11'>{_e(label)}</text>",
        f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#999'/>",
        f"<text x='{left - 4}' y='{top + 4}' font-size='10' text-anchor='end'>{hi:.3g}</text>",
        f"<text x='{left - 4}' y='{bottom}' font-size='10' text-anchor='end'>{lo:.3g}</text>",
    ]
    for m in marks:
        parts.append(
            f"<line x1='{sx(m):.1f}' y1='{top}' x2='{sx(m):.1f}' y2='{bottom}' stroke='#d32f2f' "
            "stroke-dasharray='3,2'/>"
        )
    if ref is not None:
        parts.append(
            f"<line x1='{left}' y1='{sy(ref):.1f}' x2='{right}' y2='{sy(ref):.1f}' stroke='#ef6c00' "
            "stroke-dasharray='6,3'/>"
        )
    parts.append(f"<polyline fill='none' stroke='#1565c0' stroke-width='1.5' points='{points}'/></svg>")
    return "".join(parts)


def _thumb_strip(path: str, wanted: Mapping[int, str]) -> str:
    thumbs = grab_thumbnails(path, sorted(wanted))
    if not thumbs:
        return f"<p class='muted'>No thumbnails: {_e(path)} could not be read at report time.</p>"
    figs = [
        f"<figure><img alt='frame {i}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption>{_e(wanted[i])}</figcaption></figure>"
        for i, png in sorted(thumbs.items())
    ]
    return f"<div class='thumbs'>{''.join(figs)}</div>"


def grab_thumbnails(path: str, frames: Sequence[int], *, width: int = THUMB_WIDTH) -> dict[int, bytes]:
    """PNG bytes of the given frame indices (decode order from the start; stops after the last one).

    Returns an empty dict when the file cannot be read (the report says so instead of failing).
    """
    import cv2

    from ..errors import PreflightError
    from ..media.decode import iter_frames

    wanted = set(frames)
    if not wanted or not os.path.isfile(path):
        return {}
    out: dict[int, bytes] = {}
    last = max(wanted)
    try:
        for i, frame in enumerate(iter_frames(path, fast=True)):
            if i in wanted:
                h = max(2, round(frame.height * width / frame.width / 2) * 2)
                rgb = frame.reformat(width=width, height=h, format="bgr24").to_ndarray()
                ok, buf = cv2.imencode(".png", rgb, [cv2.IMWRITE_PNG_COMPRESSION, 9])
                if ok:
                    out[i] = buf.tobytes()
            if i >= last:
                break
    except (PreflightError, OSError, ValueError):
        return out
    return out
