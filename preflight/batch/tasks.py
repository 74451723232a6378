"""Per-item work of a batch: one function call in a worker process -> one :class:`ItemRecord`.

Each task calls the library function the single-item command calls and keeps its ``--json``
document, so a line's ``result`` equals what ``preflight check FILE --json`` prints. Exit codes
are not decided here: the caller passes ``outcome``, the CLI's mapping from "passed", "failed"
or an exception to an exit code and one-line message (:func:`preflight.cli.batch.item_outcome`).

Tasks are module-level functions of picklable arguments, so a ``ProcessPoolExecutor`` and a
Dask worker run them alike.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..jsondoc import plain
from ..media.decode import DEFAULT_ANALYSIS_SIZE
from ..profile import Profile
from .store import ItemRecord, Status

Outcome = Callable[[bool | BaseException], tuple[int, str | None]]
"""``outcome(True)`` -> (exit code, None) for a pass, ``outcome(False)`` for a failure,
``outcome(exc)`` -> (exit code, one-line message) for an error."""

Signals = dict[str, list[float | None]]
Work = Callable[[], tuple[Mapping[str, Any], bool, Signals | None]]

MAX_SIGNAL_POINTS = 200
"""Per-frame curves are reduced to at most this many points per item (a results line stays a few KB)."""


def run_item(key: str, work: Work, outcome: Outcome) -> ItemRecord:
    """Run ``work`` and record its document, verdict and timing, or the error it raised."""
    start = time.perf_counter()
    try:
        doc, passed, signals = work()
        document = plain(doc)
    except Exception as exc:  # every error of one item becomes its line; the batch goes on
        code, message = outcome(exc)
        return ItemRecord(
            key=key,
            status=Status.ERROR,
            exit_code=code,
            result=None,
            error=message,
            seconds=time.perf_counter() - start,
        )
    code, _ = outcome(passed)
    return ItemRecord(
        key=key,
        status=Status.PASSED if passed else Status.FAILED,
        exit_code=code,
        result=document,
        error=None,
        seconds=time.perf_counter() - start,
        signals=signals,
    )


def reduce_curve(
    values: np.ndarray, *, points: int = MAX_SIGNAL_POINTS, keep: str = "mean"
) -> list[float | None]:
    """``values`` in at most ``points`` equal bins, each its ``keep`` ("mean", "max", "min"), 3 digits.

    NaN bins (no measurement) become ``None``.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size > points:
        edges = np.linspace(0, v.size, points + 1).astype(int)
        bins = [v[a:b] for a, b in itertools.pairwise(edges)]
        with warnings.catch_warnings():  # "All-NaN slice": a bin without a measurement
            warnings.simplefilter("ignore", RuntimeWarning)
            reduce = {"mean": np.nanmean, "max": np.nanmax, "min": np.nanmin}[keep]
            v = np.array([reduce(b) for b in bins])
    return [float(f"{x:.3g}") if math.isfinite(x) else None for x in v.tolist()]


@dataclass(frozen=True)
class CheckOptions:
    """The per-item options of ``preflight check`` (the same for every item of a batch)."""

    profile: Profile | str = "aleph-2"
    detectors: Sequence[str] = ()
    analysis_size: int = DEFAULT_ANALYSIS_SIZE
    fast_decode: bool = True


def check_signals(signals: Mapping[str, np.ndarray], seconds: np.ndarray) -> Signals:
    """The curves the report plots: cut score, motion (|dx, dy| in % of the frame), mean luma.

    ``span_s`` is [first, last] frame time: the points are equal bins of frames in between.
    """
    out: Signals = {"span_s": [float(seconds[0]), float(seconds[-1])] if seconds.size else [0.0, 0.0]}
    if "transitions.cut_score" in signals:
        out["cut_score"] = reduce_curve(signals["transitions.cut_score"], keep="max")
    if "shake.dx_pct" in signals and "shake.dy_pct" in signals:
        out["motion"] = reduce_curve(np.hypot(signals["shake.dx_pct"], signals["shake.dy_pct"]), keep="max")
    if "exposure.mean_luma" in signals:
        out["luma"] = reduce_curve(signals["exposure.mean_luma"])
    return out


def check_item(path: str, *, options: CheckOptions, outcome: Outcome) -> ItemRecord:
    """``preflight check PATH --json`` as a batch item (no progress, warnings only in the document)."""

    def work() -> tuple[Mapping[str, Any], bool, Signals]:
        from ..check.result import check

        result = check(
            path,
            profile=options.profile,
            detectors=options.detectors,
            analysis_size=options.analysis_size,
            fast_decode=options.fast_decode,
        )
        a = result.analysis
        return result.to_dict(), result.passed, check_signals(a.signals, a.seconds)

    return run_item(path, work, outcome)
