"""Flat rows of batch results: one per item, the columns of the HTML table and the Parquet file.

Reading results files and flattening them is the one mechanism behind both outputs of
``preflight report``: the HTML report sorts and shows these rows, ``--parquet`` stores them with
a fixed Arrow schema (so an all-null column still has a type and pandas, polars and duckdb read
it alike).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import UsageError
from .store import ItemRecord, read_records

COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "string"),
    ("kind", "string"),
    ("status", "string"),
    ("passed", "bool"),
    ("exit_code", "int64"),
    ("error", "string"),
    ("seconds", "float64"),
    ("path", "string"),
    ("source", "string"),
    ("edited", "string"),
    ("duration_s", "float64"),
    ("fps", "float64"),
    ("width", "int64"),
    ("height", "int64"),
    ("size_bytes", "int64"),
    ("codec", "string"),
    ("cut_count", "int64"),
    ("worst_shake_pct", "float64"),
    ("worst_shake_class", "string"),
    ("exposure_flags", "string"),
    ("findings", "string"),
    ("errors", "int64"),
    ("warnings", "int64"),
    ("ssim_outside_mean", "float64"),
    ("ssim_outside_p5", "float64"),
    ("ssim_outside_min", "float64"),
    ("psnr_outside_mean", "float64"),
    ("frames_compared", "int64"),
    ("offset_frames", "int64"),
)
"""(name, Arrow type) of every column, in order. ``findings`` and ``exposure_flags`` are
comma-separated ids (one string column each, so every reader handles them)."""


def load_results(paths: Sequence[str]) -> list[ItemRecord]:
    """The records of every results file; a key recorded in several files keeps its last record."""
    if not paths:
        raise UsageError("give at least one results file")
    merged: dict[str, ItemRecord] = {}
    for p in paths:
        for r in read_records(p):
            merged[r.key] = r
    return list(merged.values())


def item_kind(record: ItemRecord) -> str:
    """``"qa"`` for a qa pair, ``"check"`` for a clip."""
    if record.result is not None:
        return "qa" if str(record.result.get("schema", "")).startswith("qa.") else "check"
    return "qa" if "|" in record.key else "check"


def row(record: ItemRecord) -> dict[str, Any]:
    """One flat row (every name of :data:`COLUMNS`, ``None`` where it does not apply)."""
    out: dict[str, Any] = dict.fromkeys(name for name, _ in COLUMNS)
    doc: Mapping[str, Any] = record.result or {}
    out.update(
        key=record.key,
        kind=item_kind(record),
        status=record.status.value,
        passed=doc.get("passed") if record.result is not None else None,
        exit_code=record.exit_code,
        error=record.error,
        seconds=record.seconds,
    )
    if out["kind"] == "qa":
        source, edited, *_ = [*record.key.split("|"), "", ""]
        out.update(source=doc.get("source", source), edited=doc.get("edited", edited))
        _qa_columns(out, doc)
    else:
        out["path"] = doc.get("path", record.key)
        _check_columns(out, doc)
    return out


def _check_columns(out: dict[str, Any], doc: Mapping[str, Any]) -> None:
    probe = doc.get("probe") or {}
    shots = doc.get("shots") or []
    findings = doc.get("findings") or []
    out.update(
        duration_s=probe.get("duration_s"),
        fps=probe.get("fps"),
        width=probe.get("display_width"),
        height=probe.get("display_height"),
        size_bytes=probe.get("size_bytes"),
        codec=probe.get("codec"),
        cut_count=doc.get("cut_count"),
    )
    if shots:
        worst = max(shots, key=lambda s: s["shake"]["score_pct"])
        out.update(worst_shake_pct=worst["shake"]["score_pct"], worst_shake_class=worst["shake"]["class"])
        flags = dict.fromkeys(f for s in shots for f in s["exposure"]["flags"])
        out["exposure_flags"] = ",".join(flags)
    if doc:
        out.update(
            findings=",".join(dict.fromkeys(f["id"] for f in findings)),
            errors=sum(f["severity"] == "error" for f in findings),
            warnings=sum(f["severity"] != "error" for f in findings),
        )


def _qa_columns(out: dict[str, Any], doc: Mapping[str, Any]) -> None:
    if not doc:
        return
    ssim = doc.get("ssim_outside") or {}
    out.update(
        ssim_outside_mean=ssim.get("mean"),
        ssim_outside_p5=ssim.get("p5"),
        ssim_outside_min=ssim.get("min"),
        psnr_outside_mean=(doc.get("psnr_outside") or {}).get("mean"),
        frames_compared=doc.get("frames_compared"),
        offset_frames=doc.get("offset_frames"),
        findings=",".join(failure_label(f) for f in doc.get("failures") or []),
        errors=len(doc.get("failures") or []),
        warnings=0,
    )


def failure_label(text: str) -> str:
    """A gate failure sans numbers: ``"mean outside SSIM 0.88 < 0.90"`` -> ``"mean outside SSIM"``."""
    return re.split(r"\s[-+]?\d", text, maxsplit=1)[0].strip()


def error_label(message: str) -> str:
    """An error line without the path it names and its parenthesised detail."""
    head, sep, rest = message.partition(": ")
    if sep and (os.sep in head or "." in head):
        message = rest
    return re.sub(r"\s*\(.*\)\s*$", "", message).strip() or message


def write_parquet(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """The rows as a Parquet file, written to a temporary name then renamed.

    Raises
    ------
    preflight.errors.UsageError
        pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("--parquet needs pyarrow: pip install 'video-preflight[report]'") from None
    from ..media.outputs import atomic_path

    schema = pa.schema(
        [(name, getattr(pa, kind)() if kind != "bool" else pa.bool_()) for name, kind in COLUMNS]
    )
    table = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
