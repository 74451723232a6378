"""Per-stage cost of ``qa score``'s pairing thread, per 1080p frame pair, decoding excluded.

Usage::

    python benchmarks/bench_qa_stages.py [--pairs 150] [--rounds 3] [--scale auto]

Decodes the first ``--pairs`` frames of the bench_qa pair (``benchmarks/out/``, built by
``bench_qa.py``) into memory, then replays what the pass does per pair on one thread, stage by
stage (``time.perf_counter_ns`` around each stage, best of ``--rounds`` over all pairs): luma on
the grid, the shot tracker (its analysis downscale and the detector's batches), the region
lookup, Wang's block means, the SSIM sums and the bookkeeping of ``_collect``. The sum is the
CPU the pass spends per pair on top of the two decodes (plus thread hand-overs, not counted).

Then ``--passes`` real ``qa score`` runs on the whole pair, with the CPU time of each thread per
pair (``time.thread_time``): the pairing thread (the caller's), the source and the edited
reader. Steadier than wall or process CPU time on a shared machine, and it shows what the
pass adds to the decodes (the readers' time is their decode plus a little Python).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import timed  # noqa: E402

OUT = ROOT / "benchmarks" / "out"


def _decode(path: Path, n: int) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        c.streams.video[0].thread_type = "AUTO"
        return [f for _, f in zip(range(n), c.decode(video=0), strict=False)]


Frames = list[av.VideoFrame]


def stages(src: Path, edt: Path, mask: Path, fa: Frames, fb: Frames, *, rounds: int,
           scale: str | int) -> dict[str, float]:
    """ms per pair of each stage over the decoded frames ``fa``, ``fb`` of ``src``, ``edt``,
    best of ``rounds``."""
    from preflight.media.probe import probe
    from qa.mask import StaticMask
    from qa.score import _Job, _open_region, _Pass, _plan, _RegionLookup, _Scorer
    from qa.shots import SourceShots

    sp, ep = probe(str(src)), probe(str(edt))
    plan, _search, factor = _plan(sp, ep, max_offset=0, offset=0, scale=scale)
    scorer = _Scorer(plan, factor, heatmaps=False)
    region = StaticMask(mask)
    static = _open_region(region, scorer, sp, lambda _m: None)
    regions = _RegionLookup(region, None, scorer, static)
    run = _Pass(str(src), str(edt), sp, plan, scorer, regions=regions, shots_given=False, worst=5,
                workers=1, decoder_threads=1, warn=lambda _m: None, on_progress=None)
    from qa.align import LumaPrep, frame_time

    prep = LumaPrep(plan)
    cv2.setNumThreads(1)
    best: dict[str, float] = {}
    for _ in range(rounds):
        acc = dict.fromkeys(("luma + time", "shot tracker", "region", "SSIM pair (downscale + sums)",
                             "collect"), 0)
        tracker = SourceShots(sp)
        run.rows.clear()
        clock = time.perf_counter_ns
        for i, (a, b) in enumerate(zip(fa, fb, strict=True)):
            t0 = clock()
            x, y = prep.source(a), prep.edited(b)
            ts = frame_time(a, fa[0].pts, i, plan.source_fps)
            t1 = clock()
            tracker.add(a)
            t2 = clock()
            prepared, raw, pct = regions.at(i, ts, x, y)
            job = _Job(i, i, ts, x, y, prepared, raw, pct, (a, b))
            t3 = clock()
            done = scorer(job)
            t4 = clock()
            run._collect(done)
            t5 = clock()
            for key, dt in zip(acc, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                acc[key] += dt
        t6 = clock()
        tracker.finish()
        acc["tracker finish"] = clock() - t6
        for key, v in acc.items():
            ms = v / 1e6 / len(fa)
            best[key] = min(best.get(key, ms), ms)
    region.close()
    return best


def split(src: Path, fa: Frames, fb: Frames, *, rounds: int, factor: int) -> dict[str, float]:
    """The tracker's analysis downscale, Wang's block means and the SSIM sums alone, ms per frame
    or pair (one thread, the decoded frames ``fa`` of ``src`` and ``fb``, best of ``rounds``)."""
    import numpy as np

    from preflight.check.shot_tracker import ShotTracker
    from preflight.media.decode import analysis_luma, luma_plane
    from preflight.media.probe import probe
    from qa.ssim import SSIMKernel, wang_downsample

    geo = ShotTracker(probe(str(src)))._batcher.geometry
    scratch: dict = {}
    xs = [wang_downsample(luma_plane(f), factor) for f in fa]
    ys = [wang_downsample(luma_plane(f), factor) for f in fb]
    kern = SSIMKernel(*xs[0].shape, data_range=255)
    buf = np.empty(xs[0].shape, np.float32)
    runs = {
        "analysis downscale (one frame)": lambda k: analysis_luma(fa[k], geo, scratch=scratch),
        f"Wang block means 1/{factor} (one frame)":
            lambda k: wang_downsample(luma_plane(fa[k]), factor, out=buf),
        f"SSIM sums {xs[0].shape[1]}x{xs[0].shape[0]}": lambda k: kern.frame(xs[k], ys[k]),
    }
    n = len(fa)
    return {name: 1000 * timed(lambda fn=fn: [fn(k) for k in range(n)], repeat=rounds) / n
            for name, fn in runs.items()}


def pass_threads(src: Path, edt: Path, mask: Path, *, scale: str | int) -> dict[str, float]:
    """CPU ms per pair of each thread of one ``qa score`` run (pairing thread and the readers)."""
    from preflight.media import prefetch
    from qa.mask import StaticMask
    from qa.score import score

    cpu: dict[str, float] = {}
    run = prefetch.Prefetch._run

    def timed_run(self: prefetch.Prefetch) -> None:  # the reader's CPU time as it ends
        try:
            run(self)
        finally:
            cpu[threading.current_thread().name.removeprefix("qa-decode-")] = time.thread_time()

    prefetch.Prefetch._run = timed_run  # type: ignore[method-assign]
    try:
        t = time.thread_time()
        r = score(src, edt, region=StaticMask(mask), worst=5, scale=scale)
        main = time.thread_time() - t
    finally:
        prefetch.Prefetch._run = run  # type: ignore[method-assign]
    n = r.frames_compared
    return {"pairing thread": 1000 * main / n, **{f"reader {k}": 1000 * v / n for k, v in cpu.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", default="auto", help='"auto", "full" or an integer')
    ap.add_argument("--passes", type=int, default=3, help="real qa score runs timed per thread")
    args = ap.parse_args()
    scale = int(args.scale) if args.scale.isdigit() else args.scale
    src, edt, mask = OUT / "qa_src_1080p30_32s.mp4", OUT / "qa_edt_1080p30_32s.mp4", OUT / "qa_mask.png"
    if not src.exists():
        sys.exit("run benchmarks/bench_qa.py once first (it builds the pair in benchmarks/out/)")
    fa, fb = _decode(src, args.pairs), _decode(edt, args.pairs)
    res = stages(src, edt, mask, fa, fb, rounds=args.rounds, scale=scale)
    print(f"pairing-thread stages, ms per pair ({args.pairs} pairs, scale {args.scale}, "
          f"best of {args.rounds}):")
    for key, v in res.items():
        print(f"  {key:36s} {v:6.3f}")
    print(f"  {'total':36s} {sum(res.values()):6.3f}")
    print("of which, alone:")
    for key, v in split(src, fa, fb, rounds=args.rounds, factor=4).items():
        print(f"  {key:36s} {v:6.3f}")
    best: dict[str, float] = {}
    for _ in range(args.passes):
        for key, v in pass_threads(src, edt, mask, scale=scale).items():
            best[key] = min(best.get(key, v), v)
    print(f"qa score on the whole pair, CPU ms per pair by thread (best of {args.passes}):")
    for key, v in best.items():
        print(f"  {key:36s} {v:6.3f}")


if __name__ == "__main__":
    main()
