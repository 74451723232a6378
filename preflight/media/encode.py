"""Writing MP4 files: the H.264 stream every encoder of a fix shares (:func:`add_video_stream`,
:func:`describe_output`), frame stamping, and :class:`SegmentWriter`, one output file with its
video (encoded, or packets copied) and audio (copied or AAC-encoded).

The encoder settings come in as any object with the :class:`EncoderSettings` fields (``fix``'s
``EncoderPlan``), so this module needs nothing from the planner.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from ..errors import OutputError


class SpliceError(RuntimeError):
    """A re-encoded piece would not fit the intermediate's stream (different SPS/PPS)."""


class EncoderSettings(Protocol):
    """What the writers need to know about the encoder."""

    codec: str
    profile: str
    pix_fmt: str
    audio_bitrate: int | None
    tonemap: str | None

    def x264_options(self) -> dict[str, str]: ...




def open_output(path: str | os.PathLike[str]) -> av.container.OutputContainer:
    """An MP4 output with the ``moov`` index moved to the front (faststart) on close."""
    try:
        return av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    except (OSError, av.error.FFmpegError) as exc:
        raise OutputError(f"{path}: cannot create ({exc})") from None


def add_video_stream(
    container: av.container.OutputContainer,
    encoder: EncoderSettings,
    *,
    width: int,
    height: int,
    fps: Fraction,
) -> av.VideoStream:
    """An H.264 stream with the plan's settings. Shared with the benchmark's baseline loop so
    both sides encode identically."""
    stream = container.add_stream(encoder.codec, rate=fps)
    stream.width, stream.height = width, height
    stream.pix_fmt = encoder.pix_fmt
    stream.time_base = Fraction(1, 1) / fps
    stream.options = encoder.x264_options()
    describe_output(stream.codec_context, encoder)
    return stream


def describe_output(cc: av.CodecContext, encoder: EncoderSettings) -> None:
    """What every encoder of the plan writes into the bitstream (the single-pass intermediate and
    the boundary re-encodes must agree): profile, square pixels, limited range, and BT.709
    primaries/transfer/matrix when HDR was tone-mapped (FrameConverter converted it to exactly
    that; otherwise the source's matrix is kept and left unsaid, as before)."""
    cc.profile = encoder.profile
    cc.sample_aspect_ratio = Fraction(1, 1)
    cc.color_range = 1
    if encoder.tonemap:
        cc.color_primaries = cc.color_trc = cc.colorspace = 1  # BT.709


def prepare_frame(frame: av.VideoFrame, pts: int, time_base: Fraction) -> av.VideoFrame:
    """Stamp a frame for the encoder. The decoder's picture type is cleared: libx264 would
    otherwise honour a source I-frame as a forced keyframe."""
    frame.pts = pts
    frame.time_base = time_base
    frame.duration = 1  # one tick of ``time_base``; a decoder's duration is in the source's base
    frame.pict_type = av.video.frame.PictureType.NONE
    return frame


class SegmentWriter:
    """One output MP4: the video (encoded here, or packets copied from an intermediate), and an
    audio stream (copied or AAC-encoded)."""

    def __init__(
        self,
        path: Path,
        encoder: EncoderSettings,
        *,
        width: int,
        height: int,
        fps: Fraction,
        audio_template: av.AudioStream | None = None,
        audio_rate: int | None = None,
        audio_layout: str | None = None,
        video_template: av.VideoStream | None = None,
        decode_delay: int = 0,
    ) -> None:
        self.path = path
        self.decode_delay = decode_delay
        self.fps = fps
        self.time_base = Fraction(1, 1) / fps
        self.container = open_output(path)
        if video_template is not None:
            # Packets come ready-made (single-pass executor): same codec parameters and avcC.
            self.video = self.container.add_stream_from_template(video_template)
            self.video.time_base = self.time_base
        else:
            self.video = add_video_stream(self.container, encoder, width=width, height=height, fps=fps)
        self._encode = video_template is None
        self.audio: av.AudioStream | None = None
        self._copy = audio_template is not None
        self._audio_base: int | None = None
        self._audio_pts = 0
        self._pending = np.zeros((0, 0), dtype=np.float32)
        if audio_template is not None:
            self.audio = self.container.add_stream_from_template(audio_template)
        elif audio_rate is not None:
            self.audio = self.container.add_stream("aac", rate=audio_rate, layout=audio_layout or "stereo")
            self.audio.bit_rate = encoder.audio_bitrate or 192_000
        self.frames = 0
        self.audio_samples = 0

    def write_video(self, frame: av.VideoFrame) -> None:
        for packet in self.video.encode(prepare_frame(frame, self.frames, self.time_base)):
            self.container.mux(packet)
        self.frames += 1

    def write_packet(self, packet: av.Packet, *, pts: int) -> None:
        """Mux a ready video packet (in decode order) at frame ``pts``.

        Its decode time is the writer's own count of packets minus ``decode_delay`` frames, not
        the DTS of the stream it came from: pieces from different encoders (copied GOPs,
        re-encoded boundaries) start with different delays, and a DTS jump between them makes the
        MP4 muxer stretch a sample, so the declared average frame rate would lie.

        Raises
        ------
        SpliceError
            The packet would present before it is decoded (``decode_delay`` too small).
        """
        dts = self.frames - self.decode_delay
        if dts > pts:
            raise SpliceError(f"packet {self.frames} presents at frame {pts} before its decode step {dts}")
        packet.time_base = self.time_base
        packet.pts, packet.dts = pts, dts
        packet.duration = 1  # one frame: the muxer takes the last packet's duration as declared
        packet.stream = self.video
        self.container.mux(packet)
        self.frames += 1

    def video_time(self) -> Fraction:
        return self.frames * self.time_base

    def copy_audio(self, packet: av.Packet, *, base: int) -> None:
        """Mux a copied packet, its timestamps shifted so that PTS ``base`` becomes 0.

        The first packet of a segment may start a fraction of a packet before the segment: its
        negative PTS makes the MP4 muxer write an edit list that trims those samples, so the
        audio starts exactly with the first video frame.
        """
        assert self.audio is not None and self._copy
        if self._audio_base is None:
            self._audio_base = base
        packet.pts -= self._audio_base
        if packet.dts is not None:
            packet.dts -= self._audio_base
        tb = Fraction(packet.time_base)
        end_s = (packet.pts + int(packet.duration or 0)) * tb
        packet.stream = self.audio
        self.container.mux(packet)
        rate = self.audio.codec_context.sample_rate or round(1 / tb)
        self.audio_samples = max(self.audio_samples, round(end_s * rate))

    def write_audio(self, samples: np.ndarray, *, final: bool = False) -> None:
        """Encode planar float samples (C, N); whole encoder frames only unless ``final``."""
        assert self.audio is not None and not self._copy
        buf = samples if self._pending.size == 0 else np.concatenate([self._pending, samples], axis=1)
        size = self.audio.codec_context.frame_size or 1024
        usable = buf.shape[1] if final else (buf.shape[1] // size) * size
        layout = self.audio.layout.name
        rate = self.audio.codec_context.sample_rate
        for start in range(0, usable, size):
            chunk = np.ascontiguousarray(buf[:, start : min(start + size, usable)])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = self._audio_pts
            frame.time_base = Fraction(1, rate)
            self._audio_pts += chunk.shape[1]
            for packet in self.audio.encode(frame):
                self.container.mux(packet)
        self._pending = buf[:, usable:]
        self.audio_samples = self._audio_pts

    def close(self) -> None:
        """Flush the encoders and finish the file (faststart rewrite happens here)."""
        if self._encode:
            for packet in self.video.encode(None):
                self.container.mux(packet)
        if self.audio is not None and not self._copy:
            if self._pending.size:
                self.write_audio(np.zeros((self._pending.shape[0], 0), np.float32), final=True)
            for packet in self.audio.encode(None):
                self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()


