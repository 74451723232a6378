"""Deinterlacing for ``preflight fix``: FFmpeg's ``bwdif`` in a PyAV filter graph.

Interlaced footage carries two fields per frame captured 1/(2 fps) apart; anything that moves
shows combing, which an in-context editor propagates as texture. ``bwdif`` (Bob Weaver:
motion-adaptive, the successor of ``yadif`` in FFmpeg) rebuilds each frame's missing lines
from its neighbours in time and space. ``mode=send_frame`` keeps one output frame per input
frame, so frame counts, timestamps and the rate plan are unchanged; ``deint=all`` treats every
frame as interlaced, because the probe (which read the stream's field order) already said so
and per-frame flags are not reliable in every stream.

The graph holds one frame of look-ahead: frame *k* comes out when frame *k + 1* goes in, and
the last one when the input ends (the buffer is flushed), so the stream stays in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import av

from .filters import input_time_base, pulled, video_chain

PARITIES = ("tff", "bff")


class _Graph:
    """buffer -> bwdif -> buffersink for one frame geometry and format."""

    def __init__(self, frame: av.VideoFrame, parity: str):
        self.key = (frame.width, frame.height, frame.format.name)
        self.time_base = input_time_base(frame)
        self.graph = video_chain(frame, [f"bwdif=mode=send_frame:parity={parity}:deint=all"])

    def push(self, frame: av.VideoFrame | None) -> Iterator[av.VideoFrame]:
        self.graph.push(frame)
        for out in pulled(self.graph):
            # bwdif halves the time base (it could emit a frame per field); put the timestamps
            # back on the input's so downstream arithmetic sees the same numbers as without it.
            if out.pts is not None and out.time_base != self.time_base:
                out.pts = round(out.pts * out.time_base / self.time_base)
            out.time_base = self.time_base
            yield out


def deinterlaced(frames: Iterable[av.VideoFrame], *, parity: str) -> Iterator[av.VideoFrame]:
    """Yield ``frames`` deinterlaced, one for one, with their ``pts`` and ``time_base``.

    Parameters
    ----------
    frames : iterable of av.VideoFrame
        Decoded frames in presentation order, with ``pts`` and ``time_base`` set.
    parity : {"tff", "bff"}
        Field dominance: top field first (probe field order ``tt``/``tb``) or bottom first.
    """
    if parity not in PARITIES:
        raise ValueError(f"parity must be one of {', '.join(PARITIES)}, got {parity!r}")
    graph: _Graph | None = None
    for frame in frames:
        key = (frame.width, frame.height, frame.format.name)
        if graph is None or graph.key != key:
            if graph is not None:  # a mid-stream size or format change: finish the old graph
                yield from graph.push(None)
            graph = _Graph(frame, parity)
        yield from graph.push(frame)
    if graph is not None:
        yield from graph.push(None)
