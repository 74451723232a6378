"""H.264 helpers for splicing: Annex B -> MP4 sample format, random access to an encoded stream
by output frame and GOP (:class:`IntermediateStream`), and an encoder configured exactly like the
stream's (:func:`chunk_encoder`) for re-encoding one GOP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .encode import EncoderSettings, describe_output

_START_CODE = re.compile(b"\x00\x00\x00\x01|\x00\x00\x01")


def annexb_to_length_prefixed(data: bytes, *, size: int = 4) -> bytes:
    """H.264 Annex B (start codes, as libx264 emits) to MP4 sample format (length-prefixed NAL
    units, ISO/IEC 14496-15), skipping in-band SPS/PPS (the avcC already holds them).

    Start codes cannot occur inside a NAL unit (emulation prevention), so splitting on them is
    exact; trailing zero bytes belong to the next start code, not to the NAL unit.
    """
    out = bytearray()
    for nal in _START_CODE.split(data):
        nal = nal.rstrip(b"\x00")
        if not nal or (nal[0] & 0x1F) in (7, 8):
            continue
        out += len(nal).to_bytes(size, "big") + nal
    return bytes(out)


@dataclass(frozen=True)
class Gop:
    """A closed GOP of the intermediate: output frames ``[start, end)``."""

    start: int
    end: int


class IntermediateStream:
    """Random access to the intermediate stream by output frame number."""

    def __init__(self, path: Path, fps: Fraction) -> None:
        self.path = path
        self.fps = fps
        self.container = av.open(str(path))
        self.stream = self.container.streams.video[0]
        self.tb = Fraction(self.stream.time_base)
        keys = []
        n = 0
        # Frames the decode order runs ahead of presentation (B-frame reordering): bounded by the
        # encoder configuration, so every piece re-encoded with it fits within it.
        self.decode_delay = 0
        for packet in self.container.demux(self.stream):
            if packet.size == 0 or packet.pts is None:
                continue
            self.decode_delay = max(self.decode_delay, n - self.frame_of(packet.pts))
            n += 1
            if packet.is_keyframe:
                keys.append(self.frame_of(packet.pts))
        self.frame_count = n
        keys = sorted(set(keys))
        if not keys or keys[0] != 0:
            raise RuntimeError(f"{path}: intermediate stream does not start with a keyframe")
        self.keys = np.asarray(keys, dtype=np.int64)
        avcc = bytes(self.stream.codec_context.extradata or b"")
        self.length_size = (avcc[4] & 0x03) + 1 if len(avcc) > 4 and avcc[0] == 1 else 4

    def frame_of(self, ts: int) -> int:
        return round(ts * self.tb * self.fps)

    def gop_of(self, frame: int) -> Gop:
        i = int(np.searchsorted(self.keys, frame, side="right")) - 1
        end = int(self.keys[i + 1]) if i + 1 < len(self.keys) else self.frame_count
        return Gop(int(self.keys[i]), end)

    def _seek(self, frame: int) -> None:
        self.container.seek(round(Fraction(frame) / self.fps / self.tb), stream=self.stream, backward=True)

    def packets(self, gop: Gop) -> Iterator[av.Packet]:
        """The packets of ``gop`` in decode order (a closed GOP is contiguous in decode order)."""
        self._seek(gop.start)
        started = False
        for packet in self.container.demux(self.stream):
            if packet.size == 0 or packet.pts is None:
                continue
            f = self.frame_of(packet.pts)
            if not started:
                if f != gop.start:
                    continue  # landed before the GOP (seek granularity)
                started = True
            if packet.is_keyframe and f != gop.start:
                return
            if f >= gop.end:
                return
            yield packet

    def frames(self, gop: Gop, first: int, end: int) -> Iterator[av.VideoFrame]:
        """Decoded frames ``[first, end)`` of ``gop``."""
        self._seek(gop.start)
        for frame in self.container.decode(self.stream):
            f = self.frame_of(frame.pts)
            if f >= end:
                return
            if f >= first:
                yield frame

    def close(self) -> None:
        self.container.close()


def chunk_encoder(enc: EncoderSettings, width: int, height: int, fps: Fraction) -> av.CodecContext:
    cc = av.CodecContext.create(enc.codec, "w")
    cc.width, cc.height = width, height
    cc.pix_fmt = enc.pix_fmt
    cc.time_base = Fraction(1, 1) / fps
    cc.framerate = fps
    cc.options = enc.x264_options()
    describe_output(cc, enc)
    # Global headers: SPS/PPS in extradata, as for the intermediate (the MP4 muxer sets it there).
    cc.flags |= av.codec.context.Flags.global_header
    cc.open()
    return cc


