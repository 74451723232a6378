"""Batch ``preflight check`` against a shell loop of single runs, and its memory over batch size.

Prints, in one run, for short real-footage clips (2 s, 640x360, 30 fps H.264):
  batch of 40 at the default --jobs / shell loop of 40 single `preflight check` runs (goal <= 0.6)
  batch wall time for --jobs 1..4 (how the default was chosen)
  peak RSS of a batch of 40 vs 200 items (goal: within 15%), summed over the batch's process tree

Usage: python benchmarks/bench_batch.py [--items N] [--large N] [--no-sweep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import build_real_clip

BIN = Path(sys.executable).parent


def clip_dir(root: Path, n: int) -> Path:
    """``n`` hard links of one short clip under ``root/n`` (distinct names, distinct batch items)."""
    src = build_real_clip("batch_short_640x360.mp4", seconds=2.0, width=640, height=360, fps=30)
    d = root / f"clips{n}"
    d.mkdir()
    for i in range(n):
        os.link(src, d / f"clip{i:04d}.mp4")
    return d


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/status") as f:
                kib = next((int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = kib
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def run_batch(d: Path, jobs: int | None, results: Path) -> tuple[float, float]:
    """(wall seconds, peak tree RSS MiB) of ``preflight check d --results results``."""
    cmd = [str(BIN / "preflight"), "check", str(d), "--results", str(results), "-q"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(proc.pid))
            time.sleep(0.05)

    t = threading.Thread(target=sample)
    t.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    t.join()
    if code not in (0, 1):
        raise SystemExit(f"batch exited {code}")
    return wall, peak / 1024


def shell_loop(d: Path) -> float:
    script = f'for f in "{d}"/*.mp4; do "{BIN / "preflight"}" check "$f" -q > /dev/null; done'
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--no-sweep", action="store_true", help="skip the --jobs 1..4 sweep")
    args = parser.parse_args()
    from preflight.batch.runner import default_jobs

    root = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        small, large = clip_dir(root, args.items), clip_dir(root, args.large)
        loop = shell_loop(small)
        wall, rss_small = run_batch(small, None, root / "r0.jsonl")
        print(f"shell loop of {args.items} single runs: {loop:.1f} s")
        print(f"batch of {args.items}, --jobs default ({default_jobs()}): {wall:.1f} s  "
              f"ratio {wall / loop:.2f} (goal <= 0.6)")
        if not args.no_sweep:
            for jobs in (1, 2, 3, 4):
                w, _ = run_batch(small, jobs, root / f"sweep{jobs}.jsonl")
                print(f"  --jobs {jobs}: {w:.1f} s ({args.items / w:.2f} items/s)")
        wall_large, rss_large = run_batch(large, None, root / "r1.jsonl")
        growth = (rss_large - rss_small) / rss_small
        print(f"peak RSS (process tree): {args.items} items {rss_small:.0f} MiB, {args.large} items "
              f"{rss_large:.0f} MiB ({wall_large:.1f} s): {growth:+.1%} (goal within 15%)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
