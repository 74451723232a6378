"""Cost of each `preflight check` analyzer per analysis frame, on the benchmark clip.

Decodes the 1080p30 real-footage clip once into analysis batches (320x180), then times each
analyzer alone over them (OpenCV single-threaded, as during `check`). Prints ms per frame, and
the CPU cost of the luma shrink (decode.area_downscale) next to OpenCV's plain area resize steps
(halve, then one INTER_AREA step) on the same decoded Y planes.

Usage: python benchmarks/bench_analyzers.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from benchmarks.common import build_real_clip
from preflight.check.analyzers.exposure import ExposureAnalyzer
from preflight.check.analyzers.shake import ShakeAnalyzer
from preflight.check.analyzers.sharpness import SharpnessAnalyzer
from preflight.check.analyzers.transitions import TransitionDetector
from preflight.media.decode import (
    AnalysisGeometry,
    area_downscale,
    iter_frames,
    iter_luma_batches,
    luma_plane,
)
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
    shrink_cost(str(clip), (geometry.width, geometry.height))


def shrink_cost(path: str, size: tuple[int, int], *, frames: int = 60, repeat: int = 5) -> None:
    """CPU ms per frame of the analysis shrink against OpenCV's area resize, same Y planes.

    The OpenCV peer halves once and then resizes: the steps area_downscale takes for 1080p.
    """
    planes = []
    for frame in iter_frames(path, fast=True):
        planes.append(np.ascontiguousarray(luma_plane(frame)))
        if len(planes) == frames:
            break

    def opencv(y: np.ndarray) -> np.ndarray:
        half = cv2.resize(y, (y.shape[1] // 2, y.shape[0] // 2), interpolation=cv2.INTER_AREA)
        return cv2.resize(half, size, interpolation=cv2.INTER_AREA)

    costs: dict[str, float] = {}
    cases = (("cv2 halve + INTER_AREA", opencv), ("area_downscale", lambda y: area_downscale(y, size)))
    for name, func in cases:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.process_time()
            for y in planes:
                func(y)
            best = min(best, time.process_time() - t0)
        costs[name] = best / len(planes) * 1e3
        print(f"luma shrink, {name:22s} {costs[name]:.3f} ms/frame CPU")
    print(f"ratio area_downscale / cv2 = {costs['area_downscale'] / costs['cv2 halve + INTER_AREA']:.3f}")


if __name__ == "__main__":
    main()
