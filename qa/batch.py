"""``qa score --pairs PAIRS.csv``: the pairs file and the per-pair batch task.

PAIRS.csv has a header naming ``source`` and ``edited`` and optionally ``mask`` and ``box``
(any order, no other columns). Relative paths are relative to the CSV's folder. ``mask`` is a
mask image, a mask video, or a folder of per-frame masks (as ``--mask``, ``--mask-video``,
``--mask-dir``); ``box`` is one or more ``x,y,w,h[@t0-t1]`` separated by ``;`` (quote the cell:
it holds commas). A row gives at most one of them. An item's key is ``source|edited|mask`` (the
box text stands in for the mask; empty when the row has neither).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from preflight.batch.store import ItemRecord
from preflight.batch.tasks import Outcome, Signals, reduce_curve, run_item
from preflight.errors import preview

from .align import DEFAULT_MAX_OFFSET
from .errors import QAInputError, QAUsageError
from .gate import DEFAULT_MIN_MEAN, DEFAULT_MIN_P5, DEFAULT_WORST, Gate
from .mask import IMAGE_SUFFIXES, Region, make_region, parse_box

COLUMNS = ("source", "edited", "mask", "box")


@dataclass(frozen=True)
class Pair:
    """One row of PAIRS.csv, paths already joined to the CSV's folder."""

    source: str
    edited: str
    mask: str | None = None
    box: str | None = None

    @property
    def key(self) -> str:
        return f"{self.source}|{self.edited}|{self.mask or self.box or ''}"

    def region(self) -> Region | None:
        """The region this row names (a mask image, video or folder, or boxes), or ``None``."""
        if self.box:
            return make_region(boxes=[b for b in self.box.split(";") if b.strip()])
        if not self.mask:
            return None
        if os.path.isdir(self.mask):
            return make_region(folder=self.mask)
        if os.path.splitext(self.mask)[1].lower() in IMAGE_SUFFIXES:
            return make_region(image=self.mask)
        return make_region(video=self.mask)


def read_pairs(path: str) -> list[Pair]:
    """Every pair of a PAIRS.csv file, validated before any decoding.

    Raises
    ------
    qa.errors.QAInputError
        The file cannot be read.
    qa.errors.QAUsageError
        A missing or unknown column, an empty cell, a row with both mask and box, a malformed
        box, or the same pair twice; the message names the line.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise QAInputError(path, f"cannot read the pairs file ({exc})") from None
    if not rows:
        raise QAUsageError(f"{_shown(path)}: empty; expected a header line with source,edited[,mask][,box]")
    header = [h.strip().lower() for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or not {"source", "edited"} <= set(header) or len(set(header)) != len(header):
        raise QAUsageError(
            f"{_shown(path)}: line 1: header {preview(','.join(rows[0]))} must name source and edited, "
            "optionally mask and box, each once"
        )
    base = os.path.dirname(path)
    pairs: list[Pair] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise QAUsageError(
                f"{_shown(path)}: line {number}: {len(row)} fields, the header has {len(header)}"
            )
        where = f"{_shown(path)}: line {number}"
        pair = _pair(dict(zip(header, (c.strip() for c in row), strict=True)), base, where)
        if pair.key in seen:
            raise QAUsageError(f"{where}: same pair as line {seen[pair.key]}")
        seen[pair.key] = number
        pairs.append(pair)
    if not pairs:
        raise QAUsageError(f"{_shown(path)}: no pairs below the header")
    return pairs


def _shown(path: str) -> str:
    """``path`` as a message shows it: abbreviated when long or unprintable."""
    return path if len(path) <= 120 and path.isprintable() else preview(path, 120)


def _pair(cells: Mapping[str, str], base: str, where: str) -> Pair:
    for col in ("source", "edited"):
        if not cells[col]:
            raise QAUsageError(f"{where}: empty {col}")
    mask, box = cells.get("mask") or None, cells.get("box") or None
    if mask and box:
        raise QAUsageError(f"{where}: give a mask or a box, not both")
    if box:
        for b in box.split(";"):
            try:
                parse_box(b)
            except QAUsageError as exc:
                raise QAUsageError(f"{where}: {exc}") from None

    def join(p: str | None) -> str | None:
        return os.path.normpath(os.path.join(base, p)) if p else None

    return Pair(
        source=join(cells["source"]) or "", edited=join(cells["edited"]) or "", mask=join(mask), box=box
    )


@dataclass(frozen=True)
class ScoreOptions:
    """The per-pair options of ``qa score`` (keyword arguments of :func:`qa.score.score`)."""

    auto_region: bool = False
    scale: str | int = "full"
    max_offset: int = DEFAULT_MAX_OFFSET
    offset: int | None = None
    min_mean: float = DEFAULT_MIN_MEAN
    min_p5: float = DEFAULT_MIN_P5
    worst: int = DEFAULT_WORST
    workers: int = 2

    def score_kwargs(self) -> dict[str, Any]:
        return {
            "auto_region": self.auto_region,
            "scale": self.scale,
            "max_offset": self.max_offset,
            "offset": self.offset,
            "gate": Gate(min_mean=self.min_mean, min_p5=self.min_p5),
            "worst": self.worst,
            "workers": self.workers,
        }


def score_item(pair: Pair, *, options: ScoreOptions, outcome: Outcome) -> ItemRecord:
    """``qa score SOURCE EDITED [region] --json`` as a batch item."""

    def work() -> tuple[Mapping[str, Any], bool, Signals]:
        from .score import score

        result = score(pair.source, pair.edited, region=pair.region(), **options.score_kwargs())
        t = result.frames.time_s
        signals: Signals = {
            "span_s": [float(t[0]), float(t[-1])] if len(t) else [0.0, 0.0],
            "ssim_outside": reduce_curve(result.frames.ssim_outside, keep="min"),
        }
        return result.to_dict(), result.passed, signals

    return run_item(pair.key, work, outcome)
