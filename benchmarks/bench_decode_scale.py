"""Why analysis frames are made with OpenCV from the Y plane rather than swscale.

Decodes the benchmark clip several ways in the same run and prints frames/s and the ratio to
a bare threaded decode:
  bare                   decode only
  bare, no loop filter   decode with skip_loop_filter=all (what `preflight check` uses)
  swscale gray 320       + frame.reformat(320x180, gray)  (range + chroma work it does not need)
  Y plane + cv2 area     + zero-copy Y plane view, cv2.resize INTER_AREA (what decode.py does)

Usage: python benchmarks/bench_decode_scale.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import cv2

from benchmarks.common import build_real_clip, timed
from preflight.media.decode import configure_stream, luma_plane


def run(path: Path, *, fast: bool, mode: str) -> int:
    n = 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        configure_stream(stream, fast=fast)
        for frame in c.decode(stream):
            if mode == "swscale":
                frame.reformat(width=320, height=180, format="gray")
            elif mode == "cv2":
                cv2.resize(luma_plane(frame), (320, 180), interpolation=cv2.INTER_AREA)
            n += 1
    return n


def main() -> None:
    clip = build_real_clip("real_1080p30_32s.mp4", seconds=32, fps=30)
    frames = run(clip, fast=False, mode="none")
    cases = [
        ("bare", False, "none"),
        ("bare, no loop filter", True, "none"),
        ("swscale gray 320", True, "swscale"),
        ("Y plane + cv2 area", True, "cv2"),
    ]
    base = None
    for name, fast, mode in cases:
        t = timed(lambda fast=fast, mode=mode: run(clip, fast=fast, mode=mode), repeat=2)
        base = base or t
        print(f"{name:24s} {frames / t:7.1f} frames/s   ratio to bare {t / base:5.2f}")


if __name__ == "__main__":
    main()
