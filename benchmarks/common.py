"""Shared pieces of the benchmark scripts: building long real-footage clips, timing, peak RSS.

Clips are cached in ``benchmarks/out/`` (git-ignored). Long clips are made by *remuxing* the
packets of a shorter encode several times with shifted timestamps: no re-encode, so a
10-minute 1080p clip costs seconds to build, and its content is real footage throughout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
MEDIA = ROOT / "fixtures" / "media"
SHARED = ROOT.parent / "shared" / "media"

# Real clips in the order they are concatenated; the shared (test-only) ones are used when present.
SOURCES = [
    MEDIA / "skv_bikes.mp4",
    MEDIA / "foreman_cif_handheld.mp4",
    SHARED / "psd_documentary_anamorphic_pal.mp4",
    MEDIA / "skv_carphone_pristine.mp4",
    SHARED / "psd_goldeneye_10s.mp4",
]


def real_footage_frames(width: int, height: int) -> Iterator[np.ndarray]:
    """Frames of every available real clip, scaled (aspect ignored) to ``width`` x ``height`` RGB."""
    for src in SOURCES:
        if not src.exists():
            continue
        with av.open(str(src)) as c:
            for frame in c.decode(video=0):
                img = frame.to_ndarray(format="rgb24")
                yield cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def build_real_clip(
    name: str,
    *,
    seconds: float,
    width: int = 1920,
    height: int = 1080,
    fps: int = 30,
    preset: str = "veryfast",
    crf: int = 20,
    transform: Callable[[int, np.ndarray], np.ndarray] | None = None,
) -> Path:
    """Encode ``seconds`` of real footage at the given size and rate (cycling the sources).

    ``transform(index, rgb)`` may alter each frame (e.g. recolour a region for an edited twin).
    """
    path = OUT / name
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    total = round(seconds * fps)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf)}
        n = 0
        while n < total:
            for img in real_footage_frames(width, height):
                if n >= total:
                    break
                if transform is not None:
                    img = transform(n, img)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = n
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    out.mux(packet)
                n += 1
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, path)
    return path


def remux_repeated(src: Path, name: str, *, times: int) -> Path:
    """``src`` repeated ``times`` times by copying packets with shifted timestamps (no re-encode)."""
    path = OUT / name
    if path.exists():
        return path
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(src)) as first:
        span = _stream_span(first)
    with av.open(str(tmp), "w") as out:
        ostream = None
        for k in range(times):
            with av.open(str(src)) as c:
                istream = c.streams.video[0]
                if ostream is None:
                    ostream = out.add_stream_from_template(istream)
                for packet in c.demux(istream):
                    if packet.dts is None:
                        continue
                    packet.pts += k * span
                    packet.dts += k * span
                    packet.stream = ostream
                    out.mux(packet)
    os.replace(tmp, path)
    return path


def _stream_span(container: av.container.InputContainer) -> int:
    stream = container.streams.video[0]
    pts = [p.pts for p in container.demux(stream) if p.pts is not None]
    step = int(np.median(np.diff(sorted(pts))))
    return max(pts) - min(pts) + step


def timed(func: Callable[[], object], *, repeat: int = 1) -> float:
    """Best-of-``repeat`` wall time in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def process_cpu_s() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed_cpu(func: Callable[[], object], *, repeat: int = 1) -> tuple[float, float]:
    """Best-of-``repeat`` wall time and best-of-``repeat`` process CPU time, in seconds: CPU
    time barely depends on what else the machine runs, wall time does."""
    return timed_cpu_rounds([func], repeat=repeat)[0]


def timed_cpu_rounds(funcs: Sequence[Callable[[], object]], *, repeat: int = 1) -> list[tuple[float, float]]:
    """:func:`timed_cpu` of each of ``funcs``, run in ``repeat`` rounds of one call each, so
    that peers compared in a ratio meet the same load (on a shared machine the load changes
    over a minute more than the ratios being measured)."""
    best = [(float("inf"), float("inf")) for _ in funcs]
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            c0, t0 = process_cpu_s(), time.perf_counter()
            func()
            wall, cpu = time.perf_counter() - t0, process_cpu_s() - c0
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
    return best


def peak_rss_mib(code: str, args: Sequence[str]) -> float:
    """Peak RSS (MiB) of a fresh interpreter running ``code`` with ``sys.argv[1:] = args``."""
    wrapper = (
        "import resource, sys\n"
        f"exec(compile({code!r}, '<bench>', 'exec'))\n"
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RSS ")][-1]
    return int(line.split()[1]) / 1024.0


def report_rss_growth(what: str, short: tuple[str, float], long: tuple[str, float]) -> float:
    """Print the peak RSS of ``what`` on a short and a long clip (label, MiB) and the growth
    against the goal (flat: within 15%); returns the growth."""
    (short_label, rss_short), (long_label, rss_long) = short, long
    growth = rss_long / rss_short - 1.0
    width = max(len(short_label), len(long_label))
    print(f"peak RSS {what} {short_label:{width}s}: {rss_short:7.1f} MiB")
    print(f"peak RSS {what} {long_label:{width}s}: {rss_long:7.1f} MiB")
    print(f"RSS growth = {growth:+.1%}  (goal: flat, within 15%) {'OK' if abs(growth) <= 0.15 else 'MISSED'}")
    return growth


def bare_decode(path: Path) -> int:
    """The peer: threaded PyAV decode of every frame, nothing else."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in c.decode(stream))


def print_json(obj: dict) -> None:
    print(json.dumps(obj, indent=2))
