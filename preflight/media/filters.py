"""Small helpers over PyAV's FFmpeg filter graphs, shared by the frame converter, the
deinterlacer, the audio feed and the benchmarks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Protocol

import av

FALLBACK_TIME_BASE = Fraction(1, 1000)
"""Time base given to the buffer source when a frame carries none."""


class _Pullable(Protocol):
    def pull(self) -> av.frame.Frame: ...


def input_time_base(frame: av.VideoFrame) -> Fraction:
    """The time base a graph fed ``frame`` is built with."""
    return frame.time_base or FALLBACK_TIME_BASE


def video_chain(frame: av.VideoFrame, filters: Sequence[str]) -> av.filter.Graph:
    """A configured graph: buffer (``frame``'s size, format and time base) -> ``filters`` (each
    ``"name"`` or ``"name=args"``, in order) -> buffersink. Feed it with ``graph.push`` and read
    it with ``graph.pull`` or :func:`pulled`."""
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format.name, time_base=input_time_base(frame)
        )
    ]
    for item in filters:
        name, _, args = item.partition("=")
        nodes.append(graph.add(name, args) if args else graph.add(name))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


def pulled(source: _Pullable) -> Iterator[av.frame.Frame]:
    """Every frame ``source`` (a graph or a sink) has ready now; stops when it needs more input
    or has ended."""
    while True:
        try:
            yield source.pull()
        except (av.BlockingIOError, av.EOFError):
            return
