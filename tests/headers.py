"""Read a written video as an ingest service does: the header first, then the decoded truth.

An upload service reads the container's declared duration, the video stream's duration, average
frame rate and frame count (ffprobe's ``format.duration``, ``stream.duration``,
``avg_frame_rate``, ``nb_frames``; PyAV exposes the same fields) before it decodes anything. This
module reads those fields, decodes the file (frame count, first and last presentation time) and
checks that the header tells the truth: durations within one frame, average rate within 0.5 %,
frame count exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

RATE_TOLERANCE = 0.005  # relative, for the declared average frame rate


@dataclass(frozen=True)
class Header:
    """What the container declares and what decoding it yields (seconds, frames per second).

    ``decoded_s`` is the last presentation time minus the first plus one frame, where one frame
    is the median interval between consecutive frames (``frame_s``).
    """

    container_s: float | None
    stream_s: float | None
    average_rate: Fraction | None
    frames: int
    decoded_frames: int
    decoded_s: float
    frame_s: float

    @property
    def decoded_rate(self) -> float:
        return self.decoded_frames / self.decoded_s

    def describe(self) -> str:
        rate = f"{float(self.average_rate):.4f}" if self.average_rate else "none"
        cont = f"{self.container_s:.4f}" if self.container_s is not None else "none"
        strm = f"{self.stream_s:.4f}" if self.stream_s is not None else "none"
        return (f"declared container {cont} s, stream {strm} s, {rate} fps, {self.frames} frames; "
                f"decoded {self.decoded_s:.4f} s, {self.decoded_rate:.4f} fps, {self.decoded_frames} frames")


def read_header(path: str | Path) -> Header:
    """Declared header fields of ``path``'s first video stream, and its decoded timing."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base)
        container_s = container.duration / av.time_base if container.duration is not None else None
        stream_s = float(stream.duration * tb) if stream.duration is not None else None
        declared = (container_s, stream_s, stream.average_rate, int(stream.frames))
        pts = sorted(f.pts * tb for f in container.decode(stream) if f.pts is not None)
    if not pts:
        raise ValueError(f"{path}: no decodable video frame")
    steps = sorted(b - a for a, b in itertools.pairwise(pts)) or [Fraction(1, 1) / stream.average_rate]
    frame = steps[len(steps) // 2]
    return Header(*declared, decoded_frames=len(pts), decoded_s=float(pts[-1] - pts[0] + frame),
                  frame_s=float(frame))


def assert_declared_matches_decoded(path: str | Path) -> Header:
    """Assert that ``path``'s header declares what decoding it yields.

    Container and stream duration within one frame of the decoded duration, average frame rate
    within 0.5 % of the decoded one, declared frame count equal to the decoded count. Returns the
    :class:`Header` for further checks.
    """
    h = read_header(path)
    tol = h.frame_s + 1e-6
    where = f"{Path(path).name}: {h.describe()}"
    assert h.container_s is not None and abs(h.container_s - h.decoded_s) <= tol, where
    assert h.stream_s is not None and abs(h.stream_s - h.decoded_s) <= tol, where
    assert h.average_rate, where
    assert abs(float(h.average_rate) / h.decoded_rate - 1) <= RATE_TOLERANCE, where
    assert h.frames == h.decoded_frames, where
    return h


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.headers FILE...``: print each file's declared and decoded timing; exit 1
    when a header lies."""
    import sys

    bad = 0
    for name in argv if argv is not None else sys.argv[1:]:
        try:
            assert_declared_matches_decoded(name)
            verdict = "ok"
        except AssertionError:
            verdict, bad = "HEADER LIES", bad + 1
        print(f"{name}: {read_header(name).describe()} [{verdict}]")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
