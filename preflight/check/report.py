"""Human-readable tables and the per-frame CSV for ``preflight check``."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence

from ..media.outputs import write_text_atomic
from .result import CheckResult


def format_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Left-aligned plain-text table (no external dependency, copy-pastes cleanly)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return _num(value, ".3f")
    return str(value)


def _num(value: float | None, spec: str) -> str:
    """``value`` formatted, or ``-`` where JSON says null (no measurement: NaN, None)."""
    if value is None or not math.isfinite(value):
        return "-"
    return format(value, spec)


def render_check(result: CheckResult) -> str:
    """The report printed by ``preflight check`` without ``--json``."""
    a = result.analysis
    p = a.probe
    verdict = "PASS" if result.passed else "FAIL"
    out = io.StringIO()
    out.write(f"{p.path}: {verdict} against profile {result.profile.name}\n\n")
    rate = f"{p.fps:.3f} FPS" + (" (VFR)" if p.vfr else "")
    out.write(
        f"  {p.codec} {p.width}x{p.height}"
        + (f" SAR {p.sar.numerator}:{p.sar.denominator}" if p.sar != 1 else "")
        + (f" rotated {p.rotation}°" if p.rotation else "")
        + f" -> displayed {p.display_width}x{p.display_height}, {rate}, "
        f"{p.duration_s:.2f} s, {a.frame_count} frames, {p.pix_fmt} ({p.bit_depth}-bit)"
        + (f", audio: {', '.join(x.codec for x in p.audio)}" if p.audio else ", no audio")
        + "\n\n"
    )
    if a.transitions:
        rows = [
            (t.type + (f" ({t.via})" if t.via else ""), t.start_frame, t.end_frame,
             f"{t.start_s:.2f}", f"{t.end_s:.2f}", t.confidence)
            for t in a.transitions
        ]
        out.write(f"Transitions: {len(a.transitions)} (limit {result.profile.max_cuts})\n")
        out.write(format_table(rows, ["type", "start", "end", "start s", "end s", "conf"]))
        out.write("\n\n")
    else:
        out.write("Transitions: none (one continuous shot)\n\n")
    shot_rows = []
    for i, judged in enumerate(result.shots, start=1):
        s = judged.measured
        shot_rows.append(
            (i, f"{s.start_frame}-{s.end_frame}", f"{s.start_s:.2f}-{s.end_s:.2f}",
             f"{_num(s.shake.score_pct, '.2f')}% {judged.shake_class}", s.exposure.mean_luma,
             f"{s.exposure.dark_pct:.1f}/{s.exposure.bright_pct:.1f}",
             ",".join(judged.exposure_flags) or "-", s.sharpness.value)
        )
    out.write(format_table(
        shot_rows, ["shot", "frames", "seconds", "shake", "luma", "dark/bright %", "exposure", "sharpness"]
    ))
    out.write("\n\n")
    if result.findings:
        rows = [(f.severity, f.id, f.message) for f in result.findings]
        head, rule, *lines = format_table(rows, ["severity", "finding", "message"]).split("\n")
        out.write(f"{head}\n{rule}\n")
        for f, line in zip(result.findings, lines, strict=True):  # each hint under its finding
            out.write(f"{line}\n" + (f"  hint: {f.hint}\n" if f.hint else ""))
    else:
        out.write("No findings.\n")
    for name, found in a.comparisons.items():
        frames = ", ".join(str(t.start_frame) for t in found) or "none"
        out.write(f"PySceneDetect {name}: {len(found)} cut(s) at frames {frames}\n")
    return out.getvalue()


def write_frame_csv(result: CheckResult, path: str | os.PathLike[str]) -> None:
    """Every per-frame signal, one row per decoded frame, written atomically."""
    a = result.analysis
    names = sorted(a.signals)
    seconds = a.seconds
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["frame", "pts", "time_s", *names])
    columns = [a.signals[n] for n in names]
    for i in range(a.frame_count):
        writer.writerow([
            i, int(a.pts[i]), f"{seconds[i]:.6f}",
            *(_csv_value(col[i]) if i < len(col) else "" for col in columns),
        ])
    write_text_atomic(path, buf.getvalue())


def _csv_value(value: object) -> str:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if f != f:  # NaN: no measurement for this frame (e.g. first frame of a motion signal)
        return ""
    return f"{f:.6g}"
