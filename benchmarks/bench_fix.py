"""`preflight fix` speed and memory against a bare PyAV transcode measured in the same run.

Prints, for a >= 60 s 1080p60 H.264 clip built from real footage (bundled clips scaled and
concatenated, cached in benchmarks/out/):

  fix wall time / bare PyAV decode -> scale -> encode loop      (goal <= 1.2)
  peak RSS of fix on the 60 s clip vs a 180 s clip              (goal: flat)

Both sides produce the same output: 1920x1080, every 2nd frame (60 -> 30 fps, as the plan
decides), libx264 High yuv420p with the same CRF and preset through the same stream setup
(:func:`preflight.media.encode.add_video_stream`), MP4 with faststart. Each side runs in a fresh
interpreter so imports and start-up count for both. ``fix`` additionally detects transitions on
the decoded frames, plans, and cuts the segments from its encode (re-encoding only the GOPs that
straddle a boundary); ``--breakdown`` prints the time of each part.

Usage: python benchmarks/bench_fix.py [--preset veryfast] [--repeat 1] [--skip-long]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    OUT,
    ROOT,
    bare_decode,
    build_real_clip,
    peak_rss_mib,
    remux_repeated,
    report_rss_growth,
)

BASELINE_CODE = """
import sys
from fractions import Fraction
import av
from preflight.fix.plan import make_plan
from preflight.media.probe import probe
from preflight.profile import load_profile
from preflight.media.encode import add_video_stream, open_output, prepare_frame
src, dst, preset, crf = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# The very encoder settings fix uses (CRF, preset, keyframe interval, High profile, faststart)
# and the same frame selection (60 -> 30 fps keeps every 2nd frame).
plan = make_plan(probe(src), [], load_profile(), crf=crf, preset=preset)
enc, fps, step = plan.encoder, plan.fps, plan.rate.step
w, h = plan.size.width, plan.size.height
with av.open(src) as c:
    s = c.streams.video[0]
    s.thread_type = "AUTO"
    out = open_output(dst)
    v = add_video_stream(out, enc, width=w, height=h, fps=fps)
    k = 0
    for i, frame in enumerate(c.decode(s)):
        if i % step:
            continue
        frame = frame.reformat(width=w, height=h, format="yuv420p")
        for p in v.encode(prepare_frame(frame, k, 1 / fps)):
            out.mux(p)
        k += 1
    for p in v.encode(None):
        out.mux(p)
    out.close()
print("FRAMES", k)
"""

FIX_RSS_CODE = """
import sys
from click.testing import CliRunner
from preflight.cli.fix import fix_command
r = CliRunner().invoke(fix_command, [sys.argv[1], "-o", sys.argv[2], "--force", "--quiet",
                                     "--preset", sys.argv[3]])
assert r.exit_code == 0, r.output
"""

BREAKDOWN_CODE = """
import sys, time
from preflight.media.probe import probe
from preflight.profile import load_profile
from preflight.fix.execute import fix_file
marks = {}
def split(n):
    marks.setdefault("split", time.perf_counter())
t0 = time.perf_counter()
plan, result = fix_file(sys.argv[1], profile=load_profile(), output_dir=sys.argv[2], preset=sys.argv[3],
                        force=True, split_progress=split)
t1 = time.perf_counter()
ts = marks.get("split", t1)
reencoded = sum(1 for s in plan.segments if s.start_frame)  # boundaries
print(f"BREAKDOWN single pass (decode + analysis + encode)={ts - t0:.2f}s split={t1 - ts:.2f}s "
      f"segments={len(plan.segments)} boundaries={reencoded} out_frames={plan.frame_count} "
      f"transitions={len(plan.transitions)}")
"""


def build_clips(seconds: int, long_seconds: int) -> tuple[Path, Path]:
    """A 20 s 1080p60 real-footage encode (ultrafast: only the build is fast), remuxed to length."""
    base = build_real_clip("real_1080p60_20s.mp4", seconds=20, fps=60, preset="ultrafast", crf=18)
    clip = remux_repeated(base, f"real_1080p60_{seconds}s.mp4", times=max(1, seconds // 20))
    long_clip = remux_repeated(base, f"real_1080p60_{long_seconds}s.mp4", times=max(1, long_seconds // 20))
    return clip, long_clip


def run_timed(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds user+system, stdout) of a child process. CPU time is reported
    too because wall time on a shared machine moves with other people's load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stderr}")
    return elapsed, cpu, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="veryfast", help="x264 preset for both sides (default veryfast)")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings (default 1)")
    parser.add_argument("--seconds", type=int, default=60, help="clip length (>= 60)")
    parser.add_argument("--long-seconds", type=int, default=180, help="clip length for the RSS comparison")
    parser.add_argument("--skip-long", action="store_true", help="skip the RSS runs")
    parser.add_argument("--rss-only", action="store_true", help="only the RSS runs")
    parser.add_argument("--breakdown", action="store_true", help="time analysis and transcode separately")
    args = parser.parse_args()

    clip, long_clip = build_clips(args.seconds, args.long_seconds)
    if not args.rss_only:
        time_fix(clip, args)
    if not args.skip_long:
        measure_rss(clip, long_clip, args)


def time_fix(clip: Path, args: argparse.Namespace) -> None:
    frames = bare_decode(clip)  # also warms the page cache
    print(f"clip: {clip} (1920x1080, 60 fps, {frames} frames, real footage)")
    out_fix = OUT / "bench_fix_out"
    out_base = OUT / "bench_fix_baseline.mp4"
    py = sys.executable
    fix_cmd = [py, "-m", "preflight", "fix", str(clip), "-o", str(out_fix), "--force", "--quiet",
               "--preset", args.preset, "--crf", str(args.crf)]
    base_cmd = [py, "-c", BASELINE_CODE, str(clip), str(out_base), args.preset, str(args.crf)]
    t_fix = t_base = c_fix = c_base = float("inf")
    for _ in range(args.repeat):
        # Alternate the two so drifting machine load hits both alike.
        t, c, _out = run_timed(base_cmd)
        t_base, c_base = min(t_base, t), min(c_base, c)
        shutil.rmtree(out_fix, ignore_errors=True)
        t, c, _out = run_timed(fix_cmd)
        t_fix, c_fix = min(t_fix, t), min(c_fix, c)
    segs = sorted(out_fix.glob("*.mp4"))
    print(f"preset {args.preset}, CRF {args.crf}; fix wrote {len(segs)} segment(s); best of {args.repeat}")
    print(f"bare PyAV decode->scale->encode : wall {t_base:7.2f} s  CPU {c_base:7.2f} s")
    print(f"preflight fix (one pass + split): wall {t_fix:7.2f} s  CPU {c_fix:7.2f} s")
    ratio = t_fix / t_base
    print(f"ratio fix / bare transcode = {ratio:.3f} wall, {c_fix / c_base:.3f} CPU  "
          f"(goal <= 1.2) {'OK' if ratio <= 1.2 else 'MISSED'}")
    if args.breakdown:
        _t, _c, out = run_timed([py, "-c", BREAKDOWN_CODE, str(clip), str(out_fix), args.preset])
        print(out.strip())


def measure_rss(clip: Path, long_clip: Path, args: argparse.Namespace) -> None:
    # Memory: the same command on a clip 3x longer (ultrafast: RSS does not depend on the preset).
    out = str(OUT / "bench_fix_rss")
    report_rss_growth(
        "fix",
        (f"{args.seconds} s clip", peak_rss_mib(FIX_RSS_CODE, [str(clip), out, "ultrafast"])),
        (f"{args.long_seconds} s clip", peak_rss_mib(FIX_RSS_CODE, [str(long_clip), out, "ultrafast"])),
    )


if __name__ == "__main__":
    main()
