"""Why analysis frames are made with OpenCV from the Y plane rather than swscale.

Decodes the benchmark clip several ways in the same run and prints frames/s, the ratio to a
bare threaded decode and the decode thread's CPU time per frame spent on the shrink (steadier
than wall time on a shared machine):
  bare                   decode only
  bare, no loop filter   decode with skip_loop_filter=all (what `preflight check` uses)
  swscale gray 320       + frame.reformat(320x180, gray)  (range + chroma work it does not need)
  Y plane + cv2 area     + zero-copy Y plane view, one cv2.resize INTER_AREA step
  shrink, numpy          + decode.area_downscale without the C kernel (halvings + block mean)
  shrink, C kernel       + decode.area_downscale as `preflight check` runs it (fused last steps)

Usage: python benchmarks/bench_decode_scale.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import cv2

from benchmarks.common import build_real_clip, timed
from preflight.media import decode
from preflight.media.decode import area_downscale, configure_stream, luma_plane


def run(path: Path, *, fast: bool, mode: str, cpu: list[float] | None = None) -> int:
    """Decode ``path`` with the shrink ``mode``; add the shrink's thread CPU seconds to ``cpu``."""
    n = 0
    spent = 0.0
    scratch: dict = {}
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        configure_stream(stream, fast=fast)
        for frame in c.decode(stream):
            t0 = time.thread_time()
            if mode == "swscale":
                frame.reformat(width=320, height=180, format="gray")
            elif mode == "cv2":
                cv2.resize(luma_plane(frame), (320, 180), interpolation=cv2.INTER_AREA)
            elif mode == "shrink":
                area_downscale(luma_plane(frame), (320, 180), scratch=scratch)
            spent += time.thread_time() - t0
            n += 1
    if cpu is not None:
        cpu.append(spent)
    return n


def main() -> None:
    clip = build_real_clip("real_1080p30_32s.mp4", seconds=32, fps=30)
    frames = run(clip, fast=False, mode="none")
    cases = [
        ("bare", False, "none"),
        ("bare, no loop filter", True, "none"),
        ("swscale gray 320", True, "swscale"),
        ("Y plane + cv2 area", True, "cv2"),
        ("shrink, numpy", True, "shrink, numpy"),
        ("shrink, C kernel", True, "shrink"),
    ]
    native = decode._native
    base = None
    for name, fast, mode in cases:
        if mode == "shrink, numpy":
            decode._native, mode = None, "shrink"
        elif mode == "shrink" and native is None:
            print(f"{name:24s} (preflight.media._areakernel not built)")
            continue
        cpu: list[float] = []
        t = timed(lambda fast=fast, mode=mode, cpu=cpu: run(clip, fast=fast, mode=mode, cpu=cpu), repeat=2)
        decode._native = native
        base = base or t
        print(f"{name:24s} {frames / t:7.1f} frames/s   ratio to bare {t / base:5.2f}   "
              f"shrink {min(cpu) / frames * 1e3:5.3f} ms/frame (thread CPU)")


if __name__ == "__main__":
    main()
