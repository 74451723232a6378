"""``qa score`` as a Python function: :func:`score` -> :class:`ScoreResult`.

Data flow (one streaming pass over each file, memory flat in clip length)::

    source ──decode thread──> queue ─┐                     ┌─> SSIM worker 1 ─┐
                                     ├─ main: pair by time ─┤                  ├─> in-order results
    edited ──decode thread──> queue ─┘  region, shots      └─> SSIM worker 2 ─┘

* Both files are decoded in their own reader threads (:class:`preflight.media.prefetch.Prefetch`;
  PyAV releases the GIL while decoding), which also bring each frame's luma onto the source grid
  (:class:`qa.align.LumaPrep`); small bounded queues hand the frames over. The caller's thread
  feeds the source frames to the shot tracker in order (:func:`_tracked`), pairs frames by
  timestamp, looks up the frame's region (:class:`_RegionLookup`), and hands the pair to a
  pool of SSIM workers (OpenCV and the C kernel release the GIL), collecting results in order
  with a bounded number in flight. On two cores the two decodes and the SSIM arithmetic
  overlap. At a scale factor > 1 (``--scale auto``) a pair's SSIM is small (~0.6 ms at
  480x270) and the pairing thread computes it itself: no pool, no hand-over.
* Offset detection needs the first frames of both clips before any pair can be formed: the luma
  of the frames read until the offset is settled is held (``OFFSET_WINDOW + max_offset`` frames
  per clip when the opening moves; longer after a still opening, up to
  ``qa.opening.PREFIX_BUDGET_BYTES``), then released as it is scored
  (:func:`qa.opening.find_offset`). Thumbnails feed the clip-wide search
  (:class:`qa.align.OffsetSearch`); when its evidence comes later than the budget holds, the
  luma is let go and both clips are read again from the start (the examined opening is decoded
  twice, at most ``EVIDENCE_MAX_FRAMES`` frames). Peak memory does not grow with the clip
  (benchmarks/bench_qa.py: same peak RSS for a 32 s and a 5-minute 1080p pair).
* Cost per 1080p pair, measured on one core (``benchmarks/bench_qa.py --kernels``): ~7.5 ms of
  SSIM arithmetic with the C kernel (~20 ms with the OpenCV fallback; 88 multiply-adds per
  pixel for four 11x11 Gaussian moments) plus ~5 ms per H.264 decode, spread over the cores.
  CPU time per pair, all threads (``benchmarks/bench_qa.py``, shared machine): ~22 ms at full
  resolution, ~13 ms with ``--scale auto`` (decoding both files alone: ~10.7 ms; FFmpeg's
  ``ssim`` filter with its decoding: ~12.2 ms). In the ``--scale auto`` pass, what is not
  decoding is the pairing thread's ~1.8 ms per pair (``benchmarks/bench_qa_stages.py``, thread
  CPU time; the readers cost their decode): the shot tracker (~0.45 ms: analysis downscale
  ~0.25 ms, transition signals the rest), the 1/4 block means (~0.1 ms per frame), the SSIM at
  480x270 (~0.6 ms), the opening's offset search (~0.2 ms per pair of a 32 s clip) and thread
  hand-overs.
* What is kept per frame: a handful of floats (for pooling, CSV). With ``heatmaps``, the luma,
  edited luma and SSIM map of the current worst frames (at most ``worst`` + in-flight), at panel
  size.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from preflight.check.shots import Shot
from preflight.media.decode import iter_frames
from preflight.media.prefetch import Prefetch
from preflight.media.probe import Probe, probe
from preflight.sinks import ProgressSink, WarningSink

from . import report
from .align import (
    DEFAULT_MAX_OFFSET,
    AlignmentPlan,
    LumaPrep,
    OffsetEstimate,
    OffsetEvidence,
    frame_time,
    plan_alignment,
    search_range,
)
from .autoregion import AutoRegionEstimator, RegionBox
from .errors import MaskError, QAInputError, QAUsageError
from .gate import DEFAULT_WORST, Gate, pool, pool_shots, worst_frames
from .mask import Region, downsample_region
from .opening import find_offset
from .report import Capture, make_capture
from .result import FrameTable, ScoreResult, WorstFrame
from .shots import SourceShots
from .ssim import FrameSums, SSIMKernel, auto_scale_factor, score_from_sums, wang_downsample

__all__ = ["FrameTable", "ScoreResult", "WorstFrame", "score"]

QUEUE_FRAMES = 6
"""Decoded frames buffered per clip between its decode thread and the pairing loop."""

_Item = tuple[int, float, np.ndarray, object]
"""``(index, time, luma on the grid, decoded frame whose buffer the luma may view)``."""


# --------------------------------------------------------------------------- workers
@dataclass
class _Job:
    source_frame: int
    edited_frame: int
    t: float
    x: np.ndarray
    y: np.ndarray
    prepared: object | None  # PreparedRegion
    raw_region: np.ndarray | None  # to prepare in the worker (per-frame regions)
    region_pct: float
    keep: tuple  # decoded frames whose buffers x / y view


@dataclass
class _Done:
    job: _Job
    sums: FrameSums
    capture: Capture | None


class _Scorer:
    """Per-thread SSIM kernels and the per-frame work done in the pool."""

    def __init__(self, plan: AlignmentPlan, factor: int, *, heatmaps: bool):
        g = plan.grid
        self.grid = g
        self.factor = factor
        self.height = -(-g.height // factor)
        self.width = -(-g.width // factor)
        self.data_range = plan.data_range
        self.heatmaps = heatmaps
        self._local = threading.local()
        self.capture_below = math.inf  # updated by the main thread (K-th worst so far)
        self.template = SSIMKernel(self.height, self.width, data_range=self.data_range)

    def _kernel(self) -> SSIMKernel:
        k = getattr(self._local, "kernel", None)
        if k is None:
            k = SSIMKernel(self.height, self.width, data_range=self.data_range)
            self._local.kernel = k
            if self.factor > 1:
                self._local.xs = np.empty((self.height, self.width), np.float32)
                self._local.ys = np.empty((self.height, self.width), np.float32)
            if self.heatmaps:
                self._local.smap = np.empty((self.height, self.width), np.float32)
        return k

    def prepare_region(self, region: np.ndarray | None):
        if region is None:
            return None
        return self.template.prepare(downsample_region(region, self.factor))

    def __call__(self, job: _Job) -> _Done:
        kern = self._kernel()
        loc = self._local
        x, y = job.x, job.y
        if self.factor > 1:
            x = wang_downsample(x, self.factor, out=loc.xs)
            y = wang_downsample(y, self.factor, out=loc.ys)
        prepared = job.prepared
        if prepared is None and job.raw_region is not None:
            prepared = kern.prepare(downsample_region(job.raw_region, self.factor))
        smap = loc.smap if self.heatmaps else None
        sums = kern.frame(x, y, prepared, ssim_map=smap)
        capture = None
        if self.heatmaps and sums.n_out:
            value = sums.ssim_out_sum / sums.n_out
            if value <= self.capture_below:
                capture = make_capture(x, y, smap, prepared.region if prepared is not None else None,
                                       self.data_range)
        return _Done(job=job, sums=sums, capture=capture)


# --------------------------------------------------------------------------- the pass
def score(
    source: str | os.PathLike[str],
    edited: str | os.PathLike[str],
    *,
    region: Region | None = None,
    auto_region: bool = False,
    scale: str | int = "full",
    max_offset: int = DEFAULT_MAX_OFFSET,
    offset: int | None = None,
    gate: Gate | None = None,
    worst: int = DEFAULT_WORST,
    shots: Sequence[Shot] | None = None,
    heatmap_dir: str | os.PathLike[str] | None = None,
    workers: int = 2,
    decoder_threads: int = 1,
    on_warning: WarningSink | None = None,
    on_progress: ProgressSink | None = None,
    total_hint: Callable[[int], None] | None = None,
) -> ScoreResult:
    """Score how well ``edited`` preserves ``source`` outside the edit region.

    Parameters
    ----------
    source, edited : path
        The original clip and the editor's output.
    region : Region, optional
        The edit region (:mod:`qa.mask`); default none (whole frame scored).
    auto_region : bool
        Estimate the region per frame from the difference (:mod:`qa.autoregion`); excludes
        ``region``.
    scale : "full", "auto" or int
        Score at full resolution (default), with Wang's automatic downsampling factor
        ``max(1, round(min(H, W) / 256))``, or with a given integer factor.
    max_offset : int
        Largest constant offset (frames) searched for; 0 disables the search.
    offset : int, optional
        Use this offset (source frame periods, positive = edited delayed) instead of searching.
    gate : Gate, optional
        Thresholds; default :class:`qa.gate.Gate` defaults.
    worst : int
        How many worst frames to list (and draw with ``heatmap_dir``).
    shots : sequence of Shot, optional
        Source shots for per-shot pooling; default: detected in the same pass.
    heatmap_dir : path, optional
        Write ``worst_<rank>_frame_<n>.png`` (source | edited | SSIM map with the region
        outlined) for the worst frames into this existing directory.
    workers : int
        SSIM threads at full resolution (at a scale factor > 1 the pairing thread scores).
    decoder_threads : int
        FFmpeg threads per decoder (1: the two decoders already run in parallel).
    on_warning, on_progress : callable, optional
        One-line warnings; number of frames just scored.
    total_hint : callable, optional
        Called once with the expected number of source frames (for a progress bar).

    Returns
    -------
    ScoreResult

    Raises
    ------
    preflight.errors.InputError
        Unreadable input (including :class:`qa.errors.AlignmentError`, :class:`qa.errors.MaskError`).
    qa.errors.QAUsageError
        Inconsistent options, boxes covering the whole frame.
    """
    _validate(region=region, auto_region=auto_region, worst=worst, workers=workers,
              decoder_threads=decoder_threads, offset=offset, scale=scale, heatmap_dir=heatmap_dir)
    gate = gate or Gate()
    warn = on_warning or (lambda _m: None)
    src_path, edt_path = os.fspath(source), os.fspath(edited)

    sp = probe(src_path)
    ep = probe(edt_path)
    plan, search, factor = _plan(sp, ep, max_offset=max_offset, offset=offset, scale=scale)
    g = plan.grid
    scorer = _Scorer(plan, factor, heatmaps=heatmap_dir is not None and worst > 0)
    static_prepared = _open_region(region, scorer, sp, warn)
    estimator = AutoRegionEstimator(g.height, g.width, data_range=plan.data_range) if auto_region else None
    if total_hint is not None:
        total_hint(sp.frame_count)

    run = _Pass(
        src_path, edt_path, sp, plan, scorer,
        regions=_RegionLookup(region, estimator, scorer, static_prepared),
        shots_given=shots is not None, worst=worst, workers=workers, decoder_threads=decoder_threads,
        warn=warn, on_progress=on_progress,
    )
    try:
        est, evidence = run.run(offset=offset, search=search)
    finally:
        if region is not None:
            region.close()
    table = _frame_table(run.rows, edt_path)
    shot_list = list(shots) if shots is not None else run.tracker.finish()
    shots_method = "given" if shots is not None else run.tracker.method
    return _assemble(
        run, table, est, evidence, gate=gate, worst=worst, shots=shot_list, shots_method=shots_method,
        heatmap_dir=heatmap_dir,
    )


def _validate(*, region: Region | None, auto_region: bool, worst: int, workers: int, decoder_threads: int,
              offset: int | None, scale: str | int, heatmap_dir: str | os.PathLike[str] | None) -> None:
    """Validation first: cheap, before any decoding."""
    if region is not None and auto_region:
        raise QAUsageError(
            "give either a region (--mask/--mask-video/--mask-dir/--box) or --auto-region, not both"
        )
    if worst < 0:
        raise QAUsageError(f"worst must be >= 0, got {worst}")
    if workers < 1 or decoder_threads < 0:
        raise QAUsageError(f"need workers >= 1 and decoder_threads >= 0, got {workers}, {decoder_threads}")
    if offset is not None and abs(offset) > 10_000:
        raise QAUsageError(f"offset {offset} frames is implausible")
    if not (scale in ("full", "auto") or (isinstance(scale, int) and scale >= 1)):
        raise QAUsageError(f"scale must be 'full', 'auto' or an integer >= 1, got {scale!r}")
    if heatmap_dir is not None and not Path(heatmap_dir).is_dir():
        raise QAUsageError(f"--heatmaps {heatmap_dir}: not an existing directory")


def _plan(sp: Probe, ep: Probe, *, max_offset: int, offset: int | None,
          scale: str | int) -> tuple[AlignmentPlan, int, int]:
    """The alignment plan, the offset range searched and the scale factor."""
    if max_offset < 0:
        raise QAUsageError(f"max_offset must be >= 0 frames, got {max_offset}")
    search = search_range(max_offset, sp.frame_count, ep.frame_count) if offset is None else abs(offset)
    plan = plan_alignment(sp, ep, max_offset=search)
    g = plan.grid
    factor = 1 if scale == "full" else auto_scale_factor(g.height, g.width) if scale == "auto" else int(scale)
    if min(g.height, g.width) // factor < 11:
        raise QAUsageError(f"scale factor {factor} leaves less than 11 px of a {g.width}x{g.height} frame")
    return plan, search, factor


def _open_region(region: Region | None, scorer: _Scorer, sp: Probe, warn: WarningSink) -> object | None:
    """Open ``region`` on the grid; a static one is prepared once (and must leave something to score)."""
    if region is None:
        return None
    region.open(scorer.grid, frame_count=sp.frame_count, warn=warn)
    if not region.static():
        return None
    prepared = scorer.prepare_region(region.mask_at(0, 0.0))
    if prepared is not None and prepared.n_out == 0:
        raise region.nothing_left_error(
            "the region covers the whole frame once dilated by the 5-px SSIM window: nothing left to score"
        )
    return prepared


class _RegionLookup:
    """The region of each frame pair, prepared for the SSIM kernel, and its share of the frame.

    A static region is prepared once; regions that repeat the same mask object (boxes) are
    prepared once per mask; other per-frame masks are re-prepared only when they change; the
    auto-region estimator hands its raw mask to the worker to prepare.
    """

    def __init__(self, region: Region | None, estimator: AutoRegionEstimator | None, scorer: _Scorer,
                 static_prepared: object | None) -> None:
        self.region = region
        self.estimator = estimator
        self.static_prepared = static_prepared
        self._scorer = scorer
        self._by_id: dict[int, object] = {}
        self._last: tuple[np.ndarray | None, object | None] = (None, None)
        self.frames_with_region = 0

    def at(
        self, i: int, ts: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[object | None, np.ndarray | None, float]:
        """``(prepared region, raw mask to prepare in the worker, region % of the frame)``."""
        sc = self._scorer
        if self.static_prepared is not None:
            return self.static_prepared, None, 100.0 * self.static_prepared.n_in / (sc.height * sc.width)
        if self.region is not None:
            mask = self.region.mask_at(i, ts)
            if mask is None:
                return None, None, 0.0
            self.frames_with_region += 1
            pct = 100.0 * float(np.count_nonzero(mask)) / mask.size
            if self.region.masks_repeat:
                prepared = self._by_id.get(id(mask))
                if prepared is None:
                    prepared = self._by_id[id(mask)] = sc.prepare_region(mask)
            elif self._last[0] is not None and np.array_equal(self._last[0], mask):
                prepared = self._last[1]
            else:
                prepared = sc.prepare_region(mask)
                self._last = (mask, prepared)
            return prepared, None, pct
        if self.estimator is not None:
            raw = self.estimator.update(x, y)
            if raw is not None:
                self.frames_with_region += 1
                return None, raw, 100.0 * float(np.count_nonzero(raw)) / raw.size
        return None, None, 0.0


class _Pass:
    """One streaming pass: two reader threads, pairing by time, a pool of SSIM workers.

    The readers (:class:`preflight.media.prefetch.Prefetch`) decode and bring each frame's luma
    onto the grid in their own threads; the caller's thread feeds the shot tracker, in order.
    The caller's thread pairs frames and keeps at most ``workers + 2`` pairs in flight.
    """

    def __init__(self, src_path: str, edt_path: str, sp: Probe, plan: AlignmentPlan, scorer: _Scorer, *,
                 regions: _RegionLookup, shots_given: bool, worst: int, workers: int, decoder_threads: int,
                 warn: WarningSink, on_progress: ProgressSink | None) -> None:
        self.paths = (src_path, edt_path)
        self.sp, self.plan, self.scorer, self.regions = sp, plan, scorer, regions
        self.shots_given, self.worst, self.workers = shots_given, worst, workers
        self.decoder_threads = decoder_threads
        self.warn, self.on_progress = warn, on_progress
        self.tracker: SourceShots | None = None
        self.rows: list[tuple] = []
        self.worst_heap: list[tuple[float, int, Capture]] = []  # max-heap on ssim via negation
        self.unpaired = 0
        self._inflight: deque[Future] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._readers: list[Prefetch] = []

    # ---- readers
    def _reader(self, path: str, fps: float, luma: Callable[..., np.ndarray]) -> Prefetch[_Item]:
        threads = self.decoder_threads

        def items(stop: threading.Event, warn: WarningSink) -> Iterator[_Item]:
            first_pts = None
            for i, frame in enumerate(iter_frames(path, threads=threads, stop=stop, on_warning=warn)):
                if first_pts is None:
                    first_pts = frame.pts
                yield i, frame_time(frame, first_pts, i, fps), luma(frame), frame

        return Prefetch(items, depth=QUEUE_FRAMES, on_warning=self.warn, name=f"qa-decode-{Path(path).name}")

    def _start_readers(self) -> tuple[Iterator[_Item], Iterator[_Item]]:
        self._close_readers()
        prep = LumaPrep(self.plan)
        self.tracker = None if self.shots_given else SourceShots(self.sp)
        self._readers = [
            self._reader(self.paths[0], self.plan.source_fps, prep.source),
            self._reader(self.paths[1], self.plan.edited_fps, prep.edited),
        ]
        src = iter(self._readers[0])
        return (src if self.tracker is None else _tracked(src, self.tracker)), iter(self._readers[1])

    def _close_readers(self) -> None:
        for r in self._readers:
            r.close()
        self._readers = []

    # ---- workers
    def _collect(self, done: _Done) -> None:
        j, s = done.job, done.sums
        fs = score_from_sums(s, self.scorer.data_range)
        self.rows.append(
            (j.source_frame, j.edited_frame, j.t, fs.ssim_outside, fs.psnr_outside,
             fs.inside_change if fs.inside_change is not None else math.nan, fs.ssim_full, j.region_pct)
        )
        heap = self.worst_heap
        if done.capture is not None and math.isfinite(fs.ssim_outside):
            item = (-fs.ssim_outside, -j.source_frame, done.capture)
            if len(heap) < self.worst:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
            if len(heap) >= self.worst:
                self.scorer.capture_below = -heap[0][0]
        if self.on_progress is not None:
            self.on_progress(1)

    def _submit(self, src: _Item, edt: _Item) -> None:
        i, ts, x, keep_s = src
        j, _te, y, keep_e = edt
        prepared, raw, pct = self.regions.at(i, ts, x, y)
        job = _Job(i, j, ts, x, y, prepared, raw, pct, (keep_s, keep_e))
        if self._pool is None:  # small SSIM (scale factor > 1): scored here, no hand-over
            self._collect(self.scorer(job))
            return
        self._inflight.append(self._pool.submit(self.scorer, job))
        while len(self._inflight) > self.workers + 2:
            self._collect(self._inflight.popleft().result())

    # ---- the pass
    def run(self, *, offset: int | None, search: int) -> tuple[OffsetEstimate, OffsetEvidence | None]:
        """Find (or take) the offset, then pair and score every source frame."""
        plan = self.plan
        # Parallelism is per frame (two decoders, ``workers`` SSIM threads); OpenCV's own pool on
        # top of that only adds contention (as in preflight.check).
        cv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        # At 1/f resolution (f > 1) the SSIM of a pair costs ~0.6 ms (480x270), less than handing
        # it to a pool thread and back (future, wake-ups, the GIL taken back by the frames' release):
        # the pairing thread scores it itself, while the two decoders keep both cores busy.
        if self.scorer.factor == 1:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="qa-ssim")
        try:
            s_items, e_items = self._start_readers()
            # ---- prefix: hold the first frames' luma (copies, so the decoded frames can go)
            # until the offset is known
            src_buf: deque = deque()
            edt_buf: deque = deque()
            evidence: OffsetEvidence | None = None
            if offset is not None or search == 0:
                d = offset or 0
                method = "forced" if offset is not None else "none"
                est = OffsetEstimate(d, d / plan.source_fps, method, {}, 0)
            else:
                est, evidence = find_offset(s_items, e_items, src_buf, edt_buf, plan, search)
                if evidence.redecoded:
                    # The evidence outran the memory budget: the held frames were let go, so both
                    # clips are read again from the start (only the examined opening is decoded twice).
                    s_items, e_items = self._start_readers()
                if est.method == "static" and not evidence.decided:
                    self.warn(f"the {evidence.frames_examined} frames examined hold too little motion to "
                              "measure an offset; assuming 0 (use --offset to set it)")
            # Prefix frames are popped as they are paired, so their memory goes back as scoring starts.
            self._pair(itertools.chain(_drain(src_buf), s_items),
                       itertools.chain(_drain(edt_buf), e_items), est.frames / plan.source_fps)
            while self._inflight:
                self._collect(self._inflight.popleft().result())
        finally:
            cv2.setNumThreads(cv_threads)
            for fut in self._inflight:
                fut.cancel()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._close_readers()
        return est, evidence

    def _pair(self, src_seq: Iterator[_Item], edt_seq: Iterator[_Item], d_s: float) -> None:
        """Pair each source frame with the edited frame nearest its time plus the offset ``d_s``."""
        plan = self.plan
        slack = 0.5 * max(plan.source_period, plan.edited_period) + 1e-6
        cur = next(edt_seq, None)
        nxt = next(edt_seq, None)
        for src in src_seq:
            target = src[1] + d_s
            while nxt is not None and abs(nxt[1] - target) < abs(cur[1] - target):
                cur, nxt = nxt, next(edt_seq, None)
            if cur is None or abs(cur[1] - target) > slack:
                self.unpaired += 1
                continue
            self._submit(src, cur)


# --------------------------------------------------------------------------- pooling
def _frame_table(rows: list[tuple], edt_path: str) -> FrameTable:
    if not rows:
        raise QAInputError(edt_path, "no frame could be paired with the source (check --offset / durations)")
    arr = list(zip(*rows, strict=True))
    return FrameTable(
        source_frame=np.asarray(arr[0], np.int64),
        edited_frame=np.asarray(arr[1], np.int64),
        time_s=np.asarray(arr[2], np.float64),
        ssim_outside=np.asarray(arr[3], np.float64),
        psnr_outside=np.asarray(arr[4], np.float64),
        inside_change=np.asarray(arr[5], np.float64),
        ssim_full=np.asarray(arr[6], np.float64),
        region_pct=np.asarray(arr[7], np.float64),
    )


def _worst_frames(run: _Pass, table: FrameTable, worst: int,
                  heatmap_dir: str | os.PathLike[str] | None) -> list[WorstFrame]:
    """The ``worst`` lowest outside-SSIM frames, with their heat maps drawn into ``heatmap_dir``."""
    captures = {-fr: cap for _neg, fr, cap in run.worst_heap}
    pos = {int(f): k for k, f in enumerate(table.source_frame)}
    out = []
    ranked = worst_frames(table.source_frame, table.ssim_outside, worst)
    for rank, (frame, value) in enumerate(ranked, start=1):
        k = pos[frame]
        path = None
        if heatmap_dir is not None and frame in captures:
            path = str(Path(heatmap_dir) / f"worst_{rank:02d}_frame_{frame:06d}.png")
            report.write_heatmap(path, captures[frame], frame=frame, ssim_value=value)
        out.append(WorstFrame(frame=frame, edited_frame=int(table.edited_frame[k]),
                              time_s=float(table.time_s[k]), ssim_outside=value,
                              psnr_outside=float(table.psnr_outside[k]), heatmap=path))
    return out


def _region_description(regions: _RegionLookup) -> tuple[dict[str, object], tuple[RegionBox, ...]]:
    region, estimator = regions.region, regions.estimator
    desc: dict[str, object] = {"kind": "none"} if region is None and estimator is None else {}
    boxes: tuple[RegionBox, ...] = ()
    if region is not None:
        desc = region.describe()
    if estimator is not None:
        desc = {"kind": "auto", "block_px": estimator.block, "frames_with_region": regions.frames_with_region}
        boxes = tuple(estimator.boxes())
    if estimator is not None or (region is not None and not region.static()):
        desc["frames_with_region"] = regions.frames_with_region
    return desc, boxes


def _assemble(run: _Pass, table: FrameTable, est: OffsetEstimate, evidence: OffsetEvidence | None, *,
              gate: Gate, worst: int, shots: list[Shot], shots_method: str,
              heatmap_dir: str | os.PathLike[str] | None) -> ScoreResult:
    """Pool the per-frame table into the :class:`ScoreResult`."""
    regions, scorer = run.regions, run.scorer
    region, estimator = regions.region, regions.estimator
    src_path, edt_path = run.paths
    nothing = int(np.count_nonzero(~np.isfinite(table.ssim_outside)))
    if nothing == len(table):
        raise MaskError(
            (region.source_path if region is not None else None) or edt_path,
            "the region covers every frame entirely (after the 5-px dilation): nothing left to score",
        )
    if (region is not None and not region.static() and regions.frames_with_region == 0
            and not region.empty_allowed):
        raise MaskError(region.source_path or "mask", "every mask is empty (no white pixel marks the edit)")
    notes = list(run.plan.notes)
    if run.unpaired:
        notes.append(f"{run.unpaired} source frame(s) had no edited frame within half a frame period")
    if nothing:
        notes.append(f"{nothing} frame(s) had nothing outside the region and were skipped")
    if scorer.factor > 1:
        notes.append(f"scored at 1/{scorer.factor} resolution (Wang 2009 automatic downsampling)")
    if shots_method == "single":
        notes.append("shot detection unavailable: the clip is pooled as one shot")
    ssim_out = pool(table.ssim_outside)
    inside = pool(table.inside_change)
    failures = tuple(gate.failures(ssim_out))
    region_desc, boxes = _region_description(regions)
    return ScoreResult(
        source=src_path,
        edited=edt_path,
        passed=not failures,
        failures=failures,
        gate=gate,
        frames_compared=len(table) - nothing,
        frames_unpaired=run.unpaired,
        frames_nothing_outside=nothing,
        offset=est,
        scale_factor=scorer.factor,
        grid_size=(scorer.width, scorer.height),
        data_range=scorer.data_range,
        ssim_outside=ssim_out,
        psnr_outside=pool(table.psnr_outside),
        inside_change=inside if inside.count else None,
        ssim_full=pool(table.ssim_full),
        worst=tuple(_worst_frames(run, table, worst, heatmap_dir)),
        per_shot=tuple(pool_shots(shots, table.source_frame, table.ssim_outside, table.psnr_outside)),
        shots_method=shots_method,
        region=region_desc,
        region_boxes=boxes,
        frames=table,
        notes=tuple(notes),
        inside_change_max=float(np.nanmax(table.inside_change)) if inside.count else math.nan,
        auto_region_union=estimator.union_mask() if estimator is not None else None,
        offset_evidence=evidence,
    )


def _tracked(items: Iterator[_Item], tracker: SourceShots) -> Iterator[_Item]:
    """``items``, each source frame fed to the shot tracker as it is taken (in order).

    The tracker runs in the pairing thread, not in the source reader: decoding the source is the
    longest chain of the pass (~5.7 ms per 1080p frame, the edited clip's ~4.5 ms runs beside it),
    and the tracker's ~0.8 ms per frame on it made it longer still, while the pairing thread,
    waiting for frames most of the time, has room for it.
    """
    for item in items:
        tracker.add(item[3])
        yield item


def _drain(buf: deque) -> Iterator:
    while buf:
        yield buf.popleft()
