"""``qa score`` as a Python function: :func:`score` -> :class:`ScoreResult`.

Data flow (one streaming pass over each file, memory flat in clip length)::

    source ──decode thread──> queue ─┐                     ┌─> SSIM worker 1 ─┐
                                     ├─ main: pair by time ─┤                  ├─> in-order results
    edited ──decode thread──> queue ─┘  region, shots      └─> SSIM worker 2 ─┘

* Both files are decoded in their own threads (PyAV releases the GIL while decoding) into small
  bounded queues. The caller's thread pairs frames by timestamp, brings the edited luma onto the
  source grid (:class:`qa.align.LumaPrep`), looks up the frame's region, feeds the source's
  analysis-size luma to the shot detector, and hands the pair to a pool of SSIM workers (OpenCV
  releases the GIL), collecting results in order with a bounded number in flight. On two cores
  the two decodes and the SSIM arithmetic overlap.
* Offset detection needs the first frames of both clips before any pair can be formed: the luma
  of the frames read until the offset is settled is held (``OFFSET_WINDOW + max_offset`` frames
  per clip when the opening moves; longer after a still opening, up to ``PREFIX_BUDGET_BYTES``),
  then released as it is scored. Thumbnails feed the clip-wide search
  (:class:`qa.align.OffsetSearch`); when its evidence comes later than the budget holds, the
  luma is let go and both clips are read again from the start (the examined opening is decoded
  twice, at most ``EVIDENCE_MAX_FRAMES`` frames). Peak memory does not grow with the clip
  (benchmarks/bench_qa.py: same peak RSS for a 32 s and a 5-minute 1080p pair).
* Cost per 1080p pair, measured on one core (``benchmarks/bench_qa.py --kernels``): ~9.5 ms of
  SSIM arithmetic with the C kernel (~20 ms with the OpenCV fallback; 88 multiply-adds per
  pixel for four 11x11 Gaussian moments) plus ~7-8 ms per H.264 decode, spread over the cores.
* What is kept per frame: a handful of floats (for pooling, CSV). With ``heatmaps``, the luma,
  edited luma and SSIM map of the current worst frames (at most ``worst`` + in-flight), at panel
  size.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import math
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from preflight.check.shots import Shot
from preflight.media.decode import iter_frames
from preflight.media.probe import probe

from .align import (
    DEFAULT_MAX_OFFSET,
    OFFSET_WINDOW,
    AlignmentPlan,
    LumaPrep,
    OffsetEstimate,
    OffsetEvidence,
    OffsetSearch,
    estimate_offset,
    frame_time,
    plan_alignment,
    search_range,
    settle_offset,
    thumb_size,
    thumbnail,
)
from .autoregion import AutoRegionEstimator, RegionBox
from .errors import MaskError, QAInputError, QAUsageError
from .gate import DEFAULT_WORST, Gate, Pooled, ShotScore, pool, pool_shots, worst_frames
from .mask import BoxRegion, Region, downsample_region
from .shots import SourceShots
from .ssim import FrameSums, SSIMKernel, auto_scale_factor, score_from_sums, wang_downsample

PREFIX_BUDGET_BYTES = 256 * 1024 * 1024
"""Decoded frames held (both clips together) while the offset is estimated."""
QUEUE_FRAMES = 6
"""Decoded frames buffered per clip between its decode thread and the pairing loop."""
HOLD_FRAMES_MIN = 40
"""Luma frames (both clips) that may always be held, whatever the budget: the opening at 4K."""
OPENING_MAX_OFFSET = 64
"""Offsets searched in the opening window (the clip-wide search covers the whole range)."""
PANEL_MAX_WIDTH = 960
"""Heat-map panels are downscaled to at most this width."""

WarningSink = Callable[[str], None]
ProgressSink = Callable[[int], None]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FrameTable:
    """Per-frame scores of every scored pair, in source order (all arrays shape (N,)).

    ``inside_change`` is NaN for frames without a region; ``ssim_outside``/``psnr_outside`` are NaN
    for frames whose region left nothing to score.
    """

    source_frame: np.ndarray  # int64
    edited_frame: np.ndarray  # int64
    time_s: np.ndarray  # float64, source time
    ssim_outside: np.ndarray  # float64
    psnr_outside: np.ndarray  # float64
    inside_change: np.ndarray  # float64
    ssim_full: np.ndarray  # float64
    region_pct: np.ndarray  # float64, share of the frame in the (undilated) region

    def __len__(self) -> int:
        return int(self.source_frame.shape[0])

    COLUMNS = (
        "source_frame",
        "edited_frame",
        "time_s",
        "ssim_outside",
        "psnr_outside",
        "inside_change",
        "ssim_full",
        "region_pct",
    )


@dataclass(frozen=True)
class WorstFrame:
    """One of the lowest outside-SSIM frames; ``heatmap`` is the PNG written for it, if any."""

    frame: int
    edited_frame: int
    time_s: float
    ssim_outside: float
    psnr_outside: float
    heatmap: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "frame": self.frame,
            "edited_frame": self.edited_frame,
            "time_s": round(self.time_s, 4),
            "ssim_outside": round(self.ssim_outside, 6),
            "psnr_outside": round(self.psnr_outside, 3) if math.isfinite(self.psnr_outside) else None,
        }
        if self.heatmap:
            d["heatmap"] = self.heatmap
        return d


@dataclass(frozen=True)
class ScoreResult:
    """Everything ``qa score`` reports. See :meth:`to_dict` for the JSON form (schema ``qa.score/1``)."""

    source: str
    edited: str
    passed: bool
    failures: tuple[str, ...]
    gate: Gate
    frames_compared: int
    frames_unpaired: int
    frames_nothing_outside: int
    offset: OffsetEstimate
    scale_factor: int
    grid_size: tuple[int, int]
    data_range: float
    ssim_outside: Pooled
    psnr_outside: Pooled
    inside_change: Pooled | None
    ssim_full: Pooled
    worst: tuple[WorstFrame, ...]
    per_shot: tuple[ShotScore, ...]
    shots_method: str
    region: dict[str, object]
    region_boxes: tuple[RegionBox, ...]
    frames: FrameTable
    notes: tuple[str, ...] = field(default_factory=tuple)
    inside_change_max: float = math.nan
    auto_region_union: np.ndarray | None = field(default=None, repr=False, compare=False)
    """Union over time of the auto-estimated regions (``uint8`` 0/1, source grid), with ``auto_region``."""
    offset_evidence: OffsetEvidence | None = None
    """What the clip-wide offset search saw; None when the offset was forced or not searched."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict, schema ``qa.score/1``."""
        def r(v: float, d: int = 6) -> float | None:
            return round(float(v), d) if math.isfinite(v) else None

        return {
            "schema": "qa.score/1",
            "source": self.source,
            "edited": self.edited,
            "passed": self.passed,
            "failures": list(self.failures),
            "gate": self.gate.to_dict(),
            "frames_compared": self.frames_compared,
            "frames_unpaired": self.frames_unpaired,
            "frames_nothing_outside": self.frames_nothing_outside,
            "offset_frames": self.offset.frames,
            "offset": self.offset.to_dict(),
            "scale": {"factor": self.scale_factor, "grid": list(self.grid_size)},
            "data_range": self.data_range,
            "ssim_outside": self.ssim_outside.to_dict(),
            "psnr_outside": {"mean": r(self.psnr_outside.mean, 3), "min": r(self.psnr_outside.min, 3)},
            "inside_change": {
                "mean": r(self.inside_change.mean),
                "min": r(self.inside_change.min),
                "max": r(self.inside_change_max),
            }
            if self.inside_change is not None
            else None,
            "ssim_full": self.ssim_full.to_dict(),
            "worst_frames": [w.to_dict() for w in self.worst],
            "per_shot": [s.to_dict() for s in self.per_shot],
            "shots_method": self.shots_method,
            "region": {**self.region, **({"boxes_found": [b.to_dict() for b in self.region_boxes]}
                                         if self.region_boxes else {})},
            "notes": list(self.notes),
            "offset_evidence": self.offset_evidence.to_dict() if self.offset_evidence is not None else None,
        }


# --------------------------------------------------------------------------- decode threads
_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


class _Decoder:
    """Decode one file in a daemon thread into a bounded queue of ``(index, frame, t)``."""

    def __init__(self, path: str, *, fps: float, threads: int, stop: threading.Event, warn: WarningSink):
        self.path = path
        self.q: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stop = stop
        self._fps = fps
        self._threads = threads
        self._warn = warn
        self.count = 0
        self._thread = threading.Thread(target=self._run, name=f"qa-decode-{Path(path).name}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            first_pts = None
            for i, frame in enumerate(
                iter_frames(self.path, threads=self._threads, stop=self._stop, on_warning=self._warn)
            ):
                if first_pts is None:
                    first_pts = frame.pts
                t = frame_time(frame, first_pts, i, self._fps)
                if not self._put((i, frame, t)):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failure(exc))

    def __iter__(self) -> Iterator[tuple[int, av.VideoFrame, float]]:
        while True:
            item = self.q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            self.count += 1
            yield item

    def drain_and_join(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self.q.get(timeout=0.05)
        self._thread.join()


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
class _Capture:
    x: np.ndarray
    y: np.ndarray
    smap: np.ndarray
    region: np.ndarray | None


@dataclass
class _Done:
    job: _Job
    sums: FrameSums
    capture: _Capture | None


class _Scorer:
    """Per-thread SSIM kernels and the per-frame work done in the pool."""

    def __init__(self, plan: AlignmentPlan, factor: int, *, heatmaps: bool):
        g = plan.grid
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
                capture = _make_capture(x, y, smap, prepared.region if prepared is not None else None,
                                        self.data_range)
        return _Done(job=job, sums=sums, capture=capture)


def _make_capture(x: np.ndarray, y: np.ndarray, smap: np.ndarray, region: np.ndarray | None,
                  data_range: float) -> _Capture:
    """Panel-size copies for a heat map (8-bit luma, float SSIM map, region mask)."""
    h, w = smap.shape
    pw = min(w, PANEL_MAX_WIDTH)
    ph = max(1, round(h * pw / w))
    size = (pw, ph)

    def to8(a: np.ndarray) -> np.ndarray:
        if a.dtype == np.uint8:
            a8 = a
        else:
            a8 = np.clip(a.astype(np.float32) * (255.0 / data_range), 0, 255).astype(np.uint8)
        return cv2.resize(a8, size, interpolation=cv2.INTER_AREA)

    reg = None
    if region is not None:
        reg = cv2.resize(region * np.uint8(255), size, interpolation=cv2.INTER_AREA) > 0
    return _Capture(x=to8(x), y=to8(y), smap=cv2.resize(smap, size, interpolation=cv2.INTER_AREA), region=reg)


# --------------------------------------------------------------------------- the pass
def _prefix_window(plan: AlignmentPlan, max_offset: int) -> int:
    g = plan.grid
    bytes_per = g.width * g.height * 1.5 * (1 if plan.bit_depth <= 8 else 2)
    fit = int(PREFIX_BUDGET_BYTES / (2.0 * bytes_per))
    return max(2 * max_offset + 3, min(OFFSET_WINDOW + max_offset, fit))


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
        SSIM threads (2 on a 2-core machine overlaps the arithmetic with decoding).
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
    # ---- validation first: cheap, before any decoding
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
    gate = gate or Gate()
    warn = on_warning or (lambda _m: None)
    src_path, edt_path = os.fspath(source), os.fspath(edited)

    sp = probe(src_path)
    ep = probe(edt_path)
    if max_offset < 0:
        raise QAUsageError(f"max_offset must be >= 0 frames, got {max_offset}")
    search = search_range(max_offset, sp.frame_count, ep.frame_count) if offset is None else abs(offset)
    plan = plan_alignment(sp, ep, max_offset=search)
    g = plan.grid
    factor = 1 if scale == "full" else auto_scale_factor(g.height, g.width) if scale == "auto" else int(scale)
    if min(g.height, g.width) // factor < 11:
        raise QAUsageError(f"scale factor {factor} leaves less than 11 px of a {g.width}x{g.height} frame")
    scorer = _Scorer(plan, factor, heatmaps=heatmap_dir is not None and worst > 0)

    static_prepared = None
    if region is not None:
        region.open(g, frame_count=sp.frame_count, warn=warn)
        if region.static():
            mask = region.mask_at(0, 0.0)
            static_prepared = scorer.prepare_region(mask)
            if static_prepared is not None and static_prepared.n_out == 0:
                msg = (
                    "the region covers the whole frame once dilated by the 5-px SSIM window: "
                    "nothing left to score"
                )
                if isinstance(region, BoxRegion):
                    raise QAUsageError(f"--box: {msg}")
                raise MaskError(region.source_path or "mask", msg)
    estimator = AutoRegionEstimator(g.height, g.width, data_range=plan.data_range) if auto_region else None
    tracker = None if shots is not None else SourceShots(sp)
    if total_hint is not None:
        total_hint(sp.frame_count)

    stop = threading.Event()
    dec_s = _Decoder(src_path, fps=plan.source_fps, threads=decoder_threads, stop=stop, warn=warn)
    dec_e = _Decoder(edt_path, fps=plan.edited_fps, threads=decoder_threads, stop=stop, warn=warn)
    prep = LumaPrep(plan)
    pool_ = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qa-ssim")
    inflight: deque[Future] = deque()
    max_inflight = workers + 2
    rows: list[tuple] = []
    worst_heap: list[tuple[float, int, _Capture]] = []  # max-heap on ssim via negation
    counters = {"unpaired": 0, "regions": 0}
    prepared_cache: dict[int, object] = {}
    last_mask: list = [None, None]  # (mask, prepared) for consecutive identical per-frame masks

    def collect(fut: Future) -> None:
        done: _Done = fut.result()
        j, s = done.job, done.sums
        fs = score_from_sums(s, scorer.data_range)
        rows.append(
            (j.source_frame, j.edited_frame, j.t, fs.ssim_outside, fs.psnr_outside,
             fs.inside_change if fs.inside_change is not None else math.nan, fs.ssim_full, j.region_pct)
        )
        if done.capture is not None and math.isfinite(fs.ssim_outside):
            item = (-fs.ssim_outside, -j.source_frame, done.capture)
            if len(worst_heap) < worst:
                heapq.heappush(worst_heap, item)
            elif item[:2] > worst_heap[0][:2]:
                heapq.heapreplace(worst_heap, item)
            if len(worst_heap) >= worst:
                scorer.capture_below = -worst_heap[0][0]
        if on_progress is not None:
            on_progress(1)

    def source_items() -> Iterator[tuple[int, float, np.ndarray, object]]:
        """``(index, time, luma on the grid, frame kept alive)``; feeds the shot detector in order."""
        for i, frame, t in src_it:
            if tracker is not None:
                tracker.add(frame)
            yield i, t, prep.source(frame), frame

    def edited_items() -> Iterator[tuple[int, float, np.ndarray, object]]:
        for j, frame, t in edt_it:
            yield j, t, prep.edited(frame), frame

    def submit(i: int, ts: float, x: np.ndarray, keep_s, j: int, y: np.ndarray, keep_e) -> None:
        prepared, raw, pct = static_prepared, None, 0.0
        if static_prepared is not None:
            pct = 100.0 * static_prepared.n_in / (scorer.height * scorer.width)
        elif region is not None:
            mask = region.mask_at(i, ts)
            if mask is not None:
                counters["regions"] += 1
                pct = 100.0 * float(np.count_nonzero(mask)) / mask.size
                key = id(mask)
                if isinstance(region, BoxRegion):
                    prepared = prepared_cache.get(key)
                    if prepared is None:
                        prepared = prepared_cache[key] = scorer.prepare_region(mask)
                elif last_mask[0] is not None and np.array_equal(last_mask[0], mask):
                    prepared = last_mask[1]
                else:
                    prepared = scorer.prepare_region(mask)
                    last_mask[0], last_mask[1] = mask, prepared
        elif estimator is not None:
            raw = estimator.update(x, y)
            if raw is not None:
                counters["regions"] += 1
                pct = 100.0 * float(np.count_nonzero(raw)) / raw.size
        job = _Job(i, j, ts, x, y, prepared, raw, pct, (keep_s, keep_e))
        inflight.append(pool_.submit(scorer, job))
        while len(inflight) > max_inflight:
            collect(inflight.popleft())

    # Parallelism is per frame (two decoders, ``workers`` SSIM threads); OpenCV's own pool on
    # top of that only adds contention (as in preflight.check).
    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        src_it, edt_it = iter(dec_s), iter(dec_e)
        s_items, e_items = source_items(), edited_items()
        # ---- prefix: hold the first frames' luma (copies, so the decoded frames can go) until the
        # offset is known
        src_buf: deque = deque()
        edt_buf: deque = deque()
        evidence: OffsetEvidence | None = None
        if offset is not None or search == 0:
            d = offset or 0
            est = OffsetEstimate(d, d / plan.source_fps, "forced" if offset is not None else "none", {}, 0)
        else:
            est, evidence = _find_offset(s_items, e_items, src_buf, edt_buf, plan, search)
            if evidence.redecoded:
                # The evidence outran the memory budget: the held frames were let go, so both
                # clips are read again from the start (only the examined opening is decoded twice).
                dec_s.drain_and_join()
                dec_e.drain_and_join()
                stop = threading.Event()
                dec_s = _Decoder(src_path, fps=plan.source_fps, threads=decoder_threads, stop=stop, warn=warn)
                dec_e = _Decoder(edt_path, fps=plan.edited_fps, threads=decoder_threads, stop=stop, warn=warn)
                tracker = None if shots is not None else SourceShots(sp)
                src_it, edt_it = iter(dec_s), iter(dec_e)
                s_items, e_items = source_items(), edited_items()
            if est.method == "static" and not evidence.decided:
                warn(f"the {evidence.frames_examined} frames examined hold too little motion to measure an "
                     "offset; assuming 0 (use --offset to set it)")
        d_s = est.frames / plan.source_fps
        slack = 0.5 * max(plan.source_period, plan.edited_period) + 1e-6

        # ---- pairing by time
        # Prefix frames are popped as they are paired, so their memory goes back as scoring starts.
        edt_seq = itertools.chain(_drain(edt_buf), e_items)
        cur = next(edt_seq, None)
        nxt = next(edt_seq, None)
        for i, ts, x, keep in itertools.chain(_drain(src_buf), s_items):
            target = ts + d_s
            while nxt is not None and abs(nxt[1] - target) < abs(cur[1] - target):
                cur, nxt = nxt, next(edt_seq, None)
            if cur is None or abs(cur[1] - target) > slack:
                counters["unpaired"] += 1
                continue
            submit(i, ts, x, keep, cur[0], cur[2], cur[3])
        while inflight:
            collect(inflight.popleft())
    finally:
        cv2.setNumThreads(cv_threads)
        stop.set()
        for fut in inflight:
            fut.cancel()
        pool_.shutdown(wait=True, cancel_futures=True)
        dec_s.drain_and_join()
        dec_e.drain_and_join()
        if region is not None:
            region.close()

    # ---- pooling
    if not rows:
        raise QAInputError(edt_path, "no frame could be paired with the source (check --offset / durations)")
    arr = list(zip(*rows, strict=True))
    table = FrameTable(
        source_frame=np.asarray(arr[0], np.int64),
        edited_frame=np.asarray(arr[1], np.int64),
        time_s=np.asarray(arr[2], np.float64),
        ssim_outside=np.asarray(arr[3], np.float64),
        psnr_outside=np.asarray(arr[4], np.float64),
        inside_change=np.asarray(arr[5], np.float64),
        ssim_full=np.asarray(arr[6], np.float64),
        region_pct=np.asarray(arr[7], np.float64),
    )
    nothing = int(np.count_nonzero(~np.isfinite(table.ssim_outside)))
    if nothing == len(table):
        raise MaskError(
            (region.source_path if region is not None else None) or edt_path,
            "the region covers every frame entirely (after the 5-px dilation): nothing left to score",
        )
    if region is not None and not region.static() and counters["regions"] == 0 and region.kind != "boxes":
        raise MaskError(region.source_path or "mask", "every mask is empty (no white pixel marks the edit)")
    notes = list(plan.notes)
    if counters["unpaired"]:
        notes.append(f"{counters['unpaired']} source frame(s) had no edited frame within half a frame period")
    if nothing:
        notes.append(f"{nothing} frame(s) had nothing outside the region and were skipped")
    if factor > 1:
        notes.append(f"scored at 1/{factor} resolution (Wang 2009 automatic downsampling)")

    ssim_out = pool(table.ssim_outside)
    psnr_out = pool(table.psnr_outside)
    inside = pool(table.inside_change)
    shot_list = list(shots) if shots is not None else tracker.finish()
    shots_method = "given" if shots is not None else tracker.method
    if shots_method == "single":
        notes.append("shot detection unavailable: the clip is pooled as one shot")
    per_shot = pool_shots(shot_list, table.source_frame, table.ssim_outside, table.psnr_outside)
    failures = tuple(gate.failures(ssim_out))

    worst_list = worst_frames(table.source_frame, table.ssim_outside, worst)
    captures = {-fr: cap for _neg, fr, cap in worst_heap}
    pos = {int(f): k for k, f in enumerate(table.source_frame)}
    worst_out = []
    for rank, (frame, value) in enumerate(worst_list, start=1):
        k = pos[frame]
        path = None
        if heatmap_dir is not None and frame in captures:
            path = str(Path(heatmap_dir) / f"worst_{rank:02d}_frame_{frame:06d}.png")
            from .report import write_heatmap

            write_heatmap(path, captures[frame], frame=frame, ssim_value=value)
        worst_out.append(
            WorstFrame(
                frame=frame,
                edited_frame=int(table.edited_frame[k]),
                time_s=float(table.time_s[k]),
                ssim_outside=value,
                psnr_outside=float(table.psnr_outside[k]),
                heatmap=path,
            )
        )

    region_desc: dict[str, object] = {"kind": "none"} if region is None and estimator is None else {}
    boxes: tuple[RegionBox, ...] = ()
    if region is not None:
        region_desc = region.describe()
    if estimator is not None:
        region_desc = {"kind": "auto", "block_px": estimator.block, "frames_with_region": counters["regions"]}
        boxes = tuple(estimator.boxes())
    if estimator is not None or (region is not None and not region.static()):
        region_desc["frames_with_region"] = counters["regions"]

    result = ScoreResult(
        source=src_path,
        edited=edt_path,
        passed=not failures,
        failures=failures,
        gate=gate,
        frames_compared=len(table) - nothing,
        frames_unpaired=counters["unpaired"],
        frames_nothing_outside=nothing,
        offset=est,
        scale_factor=factor,
        grid_size=(scorer.width, scorer.height),
        data_range=scorer.data_range,
        ssim_outside=ssim_out,
        psnr_outside=psnr_out,
        inside_change=inside if inside.count else None,
        ssim_full=pool(table.ssim_full),
        worst=tuple(worst_out),
        per_shot=tuple(per_shot),
        shots_method=shots_method,
        region=region_desc,
        region_boxes=boxes,
        frames=table,
        notes=tuple(notes),
        inside_change_max=float(np.nanmax(table.inside_change)) if inside.count else math.nan,
        auto_region_union=estimator.union_mask() if estimator is not None else None,
        offset_evidence=evidence,
    )
    return result


def _drain(buf: deque) -> Iterator:
    while buf:
        yield buf.popleft()


def _detached(item: tuple[int, float, np.ndarray, object]) -> tuple[int, float, np.ndarray, None]:
    """An item that no longer needs its decoded frame: the luma is copied if it was a view.

    Held prefix frames then cost their luma only (2 MB at 1080p instead of a 3 MB YUV frame).
    """
    i, t, luma, _frame = item
    return i, t, (luma if luma.flags.owndata else luma.copy()), None


def _find_offset(
    s_items: Iterator, e_items: Iterator, src_buf: deque, edt_buf: deque, plan: AlignmentPlan, max_offset: int
) -> tuple[OffsetEstimate, OffsetEvidence]:
    """Read both clips until the offset is settled, holding their luma in ``src_buf``/``edt_buf``.

    Two estimates from the same thumbnails: the opening's (:func:`qa.align.estimate_offset` over
    the first ``_prefix_window`` frames, as before) and the clip-wide streaming search
    (:class:`qa.align.OffsetSearch`), which keeps reading while the evidence is not decisive (a
    still opening). Held luma is bounded by ``PREFIX_BUDGET_BYTES`` (or ``HOLD_FRAMES_MIN``
    frames, whichever is larger): past it the buffers are emptied, reading goes on with
    thumbnails only, and ``evidence.redecoded`` tells the caller to start over.
    """
    size = thumb_size(plan.grid)
    scale8 = 255.0 / plan.data_range
    m_open = min(max_offset, OPENING_MAX_OFFSET)
    window = _prefix_window(plan, m_open)
    e_cap = 2 * window + 2 * m_open
    g = plan.grid
    limit = max(PREFIX_BUDGET_BYTES, HOLD_FRAMES_MIN * g.width * g.height * (1 if plan.bit_depth <= 8 else 2))
    search = OffsetSearch(
        max_offset=max_offset, source_period=plan.source_period, edited_period=plan.edited_period
    )
    s_th: list[np.ndarray] = []
    s_t: list[float] = []
    e_th: list[np.ndarray] = []
    e_t: list[float] = []
    opening: OffsetEstimate | None = None
    state = {"held": 0, "over": False, "edited_done": False, "horizon": math.inf, "e_open": -1}

    def set_horizon(t_last: float) -> None:
        """The opening's edited frames end at the first past ``horizon`` (as the old prefix read)."""
        state["horizon"] = h = t_last + (m_open + 1) / plan.source_fps
        k = int(np.searchsorted(e_t, h, side="right"))
        if k < len(e_t):
            state["e_open"] = k + 1 if state["e_open"] < 0 else min(k + 1, state["e_open"])

    def th(luma: np.ndarray) -> np.ndarray:
        t = thumbnail(luma, size)
        return t * scale8 if scale8 != 1.0 else t

    def hold(buf: deque, item: tuple) -> None:
        if state["over"]:
            return
        item = _detached(item)
        buf.append(item)
        state["held"] += item[2].nbytes
        if state["held"] > limit:
            state["over"] = True
            src_buf.clear()
            edt_buf.clear()

    def read_edited() -> None:
        item = next(e_items, None)
        if item is None:
            state["edited_done"] = True
            search.end_edited()
            if state["e_open"] < 0:
                state["e_open"] = len(e_t)
            return
        thumb = th(item[2])
        if len(e_t) < e_cap:
            e_th.append(thumb)
            e_t.append(item[1])
            if state["e_open"] < 0 and (item[1] > state["horizon"] or len(e_t) >= e_cap):
                state["e_open"] = len(e_t)  # the opening's edited frames: as far as the old prefix read
        search.add_edited(item[1], thumb)
        hold(edt_buf, item)

    def open_estimate() -> OffsetEstimate:
        n = state["e_open"]
        return estimate_offset(s_th, s_t, e_th[:n], e_t[:n], max_offset=m_open,
                               source_period=plan.source_period, edited_period=plan.edited_period)

    for item in s_items:
        thumb = th(item[2])
        if len(s_t) < window:
            s_th.append(thumb)
            s_t.append(item[1])
            if len(s_t) == window:
                set_horizon(item[1])
        search.add_source(item[1], thumb)
        hold(src_buf, item)
        while not state["edited_done"] and (search.wants_edited(item[1]) or (
                len(s_t) == window and state["e_open"] < 0)):
            read_edited()
        if opening is None and len(s_t) == window:
            opening = open_estimate()
        if opening is not None and (search.settled or search.exhausted or (
                opening.method == "detected" and search.best() == opening.frames)):
            break  # a moving opening that the evidence so far agrees with reads no further, as before
    else:  # the source ended first
        if s_t and state["horizon"] == math.inf:
            set_horizon(s_t[-1])
        while not state["edited_done"] and state["e_open"] < 0:
            read_edited()
    if opening is None:
        opening = open_estimate()
    evidence = search.evidence()
    est = settle_offset(opening, search, source_period=plan.source_period)
    return est, dataclasses.replace(evidence, redecoded=state["over"])
