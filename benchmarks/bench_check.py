"""`preflight check` speed and memory against peers measured in the same run.

Prints, for a >= 30 s 1080p30 H.264 clip built from real footage, as wall-time ratios (the
goals) and process CPU-time ratios (steadier on a loaded machine):
  check / bare threaded PyAV decode     (goal <= 1.25)
  check / PySceneDetect detect-adaptive (goal <= 0.75)
  peak RSS of check on that clip vs a 10-minute clip (goal: within 15%)

Usage: python benchmarks/bench_check.py [--repeat N] [--skip-long]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    bare_decode,
    build_real_clip,
    peak_rss_mib,
    remux_repeated,
    report_rss_growth,
    timed_cpu_rounds,
)

CHECK_CODE = "from preflight.check.result import check; import sys; check(sys.argv[1])"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings (default 2)")
    parser.add_argument("--skip-long", action="store_true", help="skip the 10-minute RSS run")
    args = parser.parse_args()

    from scenedetect import AdaptiveDetector, detect

    from preflight.check.result import check

    clip = build_real_clip("real_1080p30_32s.mp4", seconds=32, fps=30)
    print(f"clip: {clip} (1920x1080, 30 fps, 32 s, real footage)")
    frames = bare_decode(clip)  # warm the page cache
    # Interleaved rounds (decode, check, PySceneDetect, decode, ...): each ratio compares
    # runs under the same load, not three blocks a minute apart.
    (t_decode, c_decode), (t_check, c_check), (t_psd, c_psd) = timed_cpu_rounds(
        [lambda: bare_decode(clip), lambda: check(clip), lambda: detect(str(clip), AdaptiveDetector())],
        repeat=args.repeat,
    )
    print(f"frames: {frames}")
    for label, wall, cpu in (
        ("bare threaded PyAV decode", t_decode, c_decode),
        ("preflight check          ", t_check, c_check),
        ("PySceneDetect adaptive   ", t_psd, c_psd),
    ):
        print(f"{label} : {wall:7.2f} s wall ({frames / wall:6.1f} frames/s)  {cpu:7.2f} s CPU")
    for what, goal, wall, cpu in (
        ("bare decode        ", 1.25, t_check / t_decode, c_check / c_decode),
        ("PySceneDetect adapt", 0.75, t_check / t_psd, c_check / c_psd),
    ):
        print(f"ratio check / {what} = {wall:.3f} wall, {cpu:.3f} CPU  (goal <= {goal}) "
              f"{'OK' if wall <= goal else 'MISSED'} (wall)")
    if args.skip_long:
        return
    long_clip = remux_repeated(clip, "real_1080p30_10min.mp4", times=19)
    report_rss_growth(
        "check",
        ("32 s clip", peak_rss_mib(CHECK_CODE, [str(clip)])),
        ("10 min clip", peak_rss_mib(CHECK_CODE, [str(long_clip)])),
    )


if __name__ == "__main__":
    main()
