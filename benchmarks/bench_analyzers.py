"""Cost of each `preflight check` analyzer per analysis frame, on the benchmark clip.

Decodes the 1080p30 real-footage clip once into analysis batches (320x180), then times each
analyzer alone over them (OpenCV single-threaded, as during `check`). Prints ms per frame.

Usage: python benchmarks/bench_analyzers.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2

from benchmarks.common import build_real_clip
from preflight.check.analyzers.exposure import ExposureAnalyzer
from preflight.check.analyzers.shake import ShakeAnalyzer
from preflight.check.analyzers.sharpness import SharpnessAnalyzer
from preflight.check.analyzers.transitions import TransitionDetector
from preflight.media.decode import AnalysisGeometry, iter_luma_batches
from preflight.media.probe import probe


def main() -> None:
    clip = build_real_clip("real_1080p30_32s.mp4", seconds=32, fps=30)
    info = probe(clip)
    geometry = AnalysisGeometry.for_probe(info)
    t0 = time.perf_counter()
    batches = list(iter_luma_batches(str(clip), geometry))
    decode_s = time.perf_counter() - t0
    frames = sum(len(b) for b in batches)
    print(f"decode + downscale: {decode_s / frames * 1e3:.3f} ms/frame ({frames} frames)")
    cv2.setNumThreads(1)
    for cls in (TransitionDetector, ShakeAnalyzer, ExposureAnalyzer, SharpnessAnalyzer):
        best = float("inf")
        for _ in range(2):
            analyzer = cls()
            analyzer.start(geometry)
            t0 = time.perf_counter()
            for batch in batches:
                analyzer.process(batch)
            analyzer.finish()
            best = min(best, time.perf_counter() - t0)
        print(f"{cls.__name__:20s} {best / frames * 1e3:.3f} ms/frame")


if __name__ == "__main__":
    main()
