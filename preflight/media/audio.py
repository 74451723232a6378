"""Source audio on the output timeline: decoded, retimed and cut sample-accurately
(:class:`AudioSamples`), or as compressed packets for stream copy (:class:`AudioPackets`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from ..errors import InputError
from .filters import pulled
from .probe import open_container

# Audio read ahead of the video position when interleaving (seconds): keeps the muxer's
# interleaving queue short without starving it.
AUDIO_LEAD_S = 0.25




class AudioSamples:
    """Decoded audio of one stream on the *output* timeline, as float32 planar blocks.

    Sample ``s`` of the output timeline is output time ``s / rate``, where output time 0 is the
    first video frame and source time maps through ``retime`` (``atempo``, pitch kept). Where
    the source has no audio (it starts late or ends early), silence is returned, so every block
    is exactly as long as asked. Memory: at most one decoded frame ahead.
    """

    def __init__(
        self,
        path: str,
        *,
        video_start_s: Fraction,
        retime: Fraction = Fraction(1),
        rate: int | None = None,
        layout: str | None = None,
    ) -> None:
        self.path = path
        self._container = open_container(path)
        if not self._container.streams.audio:
            self._container.close()
            raise InputError(path, "has no audio stream")
        self._stream = self._container.streams.audio[0]
        self._stream.thread_type = "AUTO"
        self.rate = int(rate or self._stream.rate or self._stream.codec_context.sample_rate)
        self.layout = layout or (self._stream.layout.name if self._stream.layout else "stereo")
        self.channels = av.AudioLayout(self.layout).nb_channels
        self._video_start = Fraction(video_start_s)
        self._retime = Fraction(retime)
        self._frames = self._decoded()
        self._chunks: list[np.ndarray] = []
        self._buf_start: int | None = None  # output sample index of the first buffered sample
        self._buf_len = 0
        self._eof = False
        self.cursor = 0

    def _graph(self) -> av.filter.Graph:
        graph = av.filter.Graph()
        src = graph.add_abuffer(template=self._stream)
        nodes = [src]
        if self._retime != 1:
            nodes.append(graph.add("atempo", f"{float(self._retime):.9f}"))
        # aformat makes FFmpeg insert a resampler when rate or layout differ (join of mixed clips).
        fmt = f"sample_fmts=fltp:sample_rates={self.rate}:channel_layouts={self.layout}"
        nodes.append(graph.add("aformat", fmt))
        nodes.append(graph.add("abuffersink"))
        graph.link_nodes(*nodes).configure()
        return graph

    def _decoded(self) -> Iterator[tuple[Fraction | None, np.ndarray]]:
        """(source seconds of the first sample, for the first block only; samples (C, N) float32)."""
        graph = self._graph()
        first_t: Fraction | None = None
        started = False

        def drain() -> Iterator[np.ndarray]:
            for out in pulled(graph):
                yield out.to_ndarray().astype(np.float32, copy=False).reshape(self.channels, -1)

        try:
            for packet in self._container.demux(self._stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    continue  # a damaged audio packet: silence there, video unaffected
                for frame in decoded:
                    if first_t is None and frame.pts is not None and frame.time_base:
                        first_t = frame.pts * Fraction(frame.time_base)
                    graph.push(frame)
                    for arr in drain():
                        yield (first_t if not started else None), arr
                        started = True
            graph.push(None)
            for arr in drain():
                yield (first_t if not started else None), arr
                started = True
        except av.error.FFmpegError:
            return  # truncated audio: the rest is silence

    def _fill(self, until: int) -> None:
        while not self._eof and (self._buf_start is None or self._buf_start + self._buf_len < until):
            try:
                t0, arr = next(self._frames)
            except StopIteration:
                self._eof = True
                break
            if self._buf_start is None:
                start_s = (t0 if t0 is not None else self._video_start) - self._video_start
                self._buf_start = round(start_s / self._retime * self.rate)
            self._chunks.append(arr)
            self._buf_len += arr.shape[1]

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` samples, shape (channels, n), float32."""
        out = np.zeros((self.channels, n), dtype=np.float32)
        end = self.cursor + n
        self._fill(end)
        if self._buf_start is not None:
            pos = self._buf_start
            keep: list[np.ndarray] = []
            for chunk in self._chunks:
                c_end = pos + chunk.shape[1]
                lo, hi = max(pos, self.cursor), min(c_end, end)
                if hi > lo:
                    out[:, lo - self.cursor : hi - self.cursor] = chunk[:, lo - pos : hi - pos]
                if c_end > end:
                    keep.append(chunk[:, max(0, end - pos) :])
                pos = c_end
            dropped = self._buf_len - sum(c.shape[1] for c in keep)
            self._chunks = keep
            self._buf_start += dropped
            self._buf_len -= dropped
        self.cursor = end
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._frames.close()  # type: ignore[attr-defined]
        self._container.close()


class AudioPackets:
    """Compressed audio packets of the first audio stream, in order, for stream copy."""

    def __init__(self, path: str, *, video_start_s: Fraction) -> None:
        self._container = open_container(path)
        self.stream = self._container.streams.audio[0]
        self._tb = Fraction(self.stream.time_base)
        self.time_base = self._tb
        self._video_start = Fraction(video_start_s)
        self._packets = self._iter()
        self._next: av.Packet | None = None
        self._fetch()

    def _iter(self) -> Iterator[av.Packet]:
        try:
            for packet in self._container.demux(self.stream):
                if packet.size and packet.pts is not None:
                    yield packet
        except av.error.FFmpegError:
            return

    def _fetch(self) -> None:
        self._next = next(self._packets, None)

    def _mid_s(self, packet: av.Packet) -> Fraction:
        return (packet.pts + Fraction(packet.duration or 0, 2)) * self._tb - self._video_start

    def take_until(self, end_s: Fraction) -> Iterator[av.Packet]:
        """Packets whose midpoint lies before ``end_s`` (source seconds from the first video frame)."""
        while self._next is not None and self._mid_s(self._next) < end_s:
            packet = self._next
            self._fetch()
            yield packet

    def close(self) -> None:
        self._container.close()


