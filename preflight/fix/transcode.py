"""The executors of ``preflight fix``: frame-accurate segments, one decode, safe outputs.

Both executors share the per-frame pipeline (memory: one decoded frame plus encoder look-ahead,
whatever the clip length)::

    iter_frames (threaded decode, presentation order)
        └─> frame mapping (keep / conform / decimate / repeat / resample by time)
              └─> FrameConverter (one FFmpeg filter graph: rotate, scale to square pixels,
                                  crop/pad, 8-bit yuv420p)
                    └─> libx264 (High, CRF, keyframes every KEYFRAME_INTERVAL_S and at cuts)

* :func:`fix_file` (``preflight fix``): the transitions are not known yet, so the one decode
  also feeds the transition detector while the encoder writes the whole converted clip to an
  intermediate stream; once the plan is made, :func:`split_intermediate` assembles each segment
  by copying whole closed GOPs and re-encoding only the GOP that straddles a boundary.
* :func:`transcode` / :func:`run_fix` (API, transitions already known): one decode, one encoder
  per segment, no intermediate.

Audio: a second demuxer over the same file (packets only; no second *video* decode) feeds each
segment as its video advances, so the MP4 is interleaved and nothing is buffered: AAC packets
are copied when the plan allows it, else decoded, retimed (``atempo``) and cut
sample-accurately with silence padding, then AAC-encoded per segment.

Every segment starts on an IDR frame exactly at its first output frame. Files are written to
temporary names and renamed only when every segment and the manifest are complete; the input
is never overwritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..check.shots import Transition
from ..errors import InputError, OutputError
from ..media.decode import iter_frames
from ..media.deinterlace import deinterlaced
from ..media.filters import pulled, video_chain
from ..media.outputs import (
    atomic_path,
    check_output_path,
    is_unchanged,
    make_temp,
    output_lock,
    remove_stale_temporaries,
    same_file,
    temp_name_pattern,
)
from ..media.probe import Probe, open_container
from ..profile import Profile
from .plan import EncoderPlan, Plan, SegmentPlan, SizePlan

ProgressSink = Callable[[int], None]
WarningSink = Callable[[str], None]

# FFmpeg filter chain pieces that turn a clockwise display rotation into pixels.
_ROTATE = {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}
# Audio read ahead of the video position when interleaving (seconds): keeps the muxer's
# interleaving queue short without starving it.
AUDIO_LEAD_S = 0.25


# --------------------------------------------------------------------------- analysis boundary


def transitions_for(
    path: str,
    profile: Profile,
    *,
    probe_result: Probe | None = None,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> tuple[tuple[Transition, ...], int]:
    """Transitions and decodable frame count of ``path`` from ``preflight check``'s analysis.

    The import is local so this module loads even where the analysis stack is unavailable.
    """
    from ..check.analyze import analyze

    result = analyze(
        path, profile=profile, probe_result=probe_result, progress=progress, on_warning=on_warning
    )
    return tuple(result.transitions), int(result.frame_count)


# --------------------------------------------------------------------------- encoder pieces


def open_output(path: str | os.PathLike[str]) -> av.container.OutputContainer:
    """An MP4 output with the ``moov`` index moved to the front (faststart) on close."""
    try:
        return av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    except (OSError, av.error.FFmpegError) as exc:
        raise OutputError(f"{path}: cannot create ({exc})") from None


def add_video_stream(
    container: av.container.OutputContainer, encoder: EncoderPlan, *, width: int, height: int, fps: Fraction
) -> av.VideoStream:
    """An H.264 stream with the plan's settings. Shared with the benchmark's baseline loop so
    both sides encode identically."""
    stream = container.add_stream(encoder.codec, rate=fps)
    stream.width, stream.height = width, height
    stream.pix_fmt = encoder.pix_fmt
    stream.time_base = Fraction(1, 1) / fps
    stream.options = encoder.x264_options()
    _describe_output(stream.codec_context, encoder)
    return stream


def _describe_output(cc: av.CodecContext, encoder: EncoderPlan) -> None:
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


@contextlib.contextmanager
def _cube_file(transfer: str) -> Iterator[Path]:
    """The HDR -> SDR LUT of ``transfer`` as a temporary .cube file, removed afterwards."""
    from ..media.tonemap import sdr_lut, write_cube

    fd, name = tempfile.mkstemp(prefix="preflight-", suffix=".cube")
    os.close(fd)
    try:
        yield write_cube(sdr_lut(transfer), name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


class FrameConverter:
    """Decoded frame -> output frame: rotation, scale to the planned square-pixel size, crop or
    pad, 8-bit limited-range yuv420p; one FFmpeg filter graph (swscale does scaling, range and
    bit-depth conversion with dithering in one pass).

    The graph is built from the first frame's format and rebuilt if a stream changes size or
    format mid-way. Frames needing nothing pass through untouched.
    """

    def __init__(
        self,
        size: SizePlan,
        *,
        width: int | None = None,
        height: int | None = None,
        tonemap: str | None = None,
    ) -> None:
        self.size = size
        self.width = width or size.width
        self.height = height or size.height
        self.tonemap = tonemap
        self._graph: av.filter.Graph | None = None
        self._key: tuple[object, ...] | None = None

    def _passthrough(self, frame: av.VideoFrame) -> bool:
        return (
            not self.tonemap
            and self.size.identity
            and frame.format.name == "yuv420p"
            and (frame.width, frame.height) == (self.width, self.height)
            and int(frame.color_range or 0) != 2
        )

    def _chain(self, lut: Path | None = None) -> list[str]:
        """The filters after the buffer source; ``lut`` is the .cube file when tone mapping."""
        s = self.size
        chain = list(_ROTATE.get(s.rotation % 360, []))
        sw, sh = s.scaled_width, s.scaled_height
        if (self.width, self.height) != (s.width, s.height):  # join: rescale to the common size
            sw, sh = self.width, self.height
        if lut is not None:
            # HDR -> SDR (preflight.tonemap): scale in 16-bit R'G'B' (BT.2020 matrix), map through
            # the LUT, back to limited-range YUV with the BT.709 matrix. The explicit format right
            # after the second scale stops FFmpeg inserting its own converter (with a default
            # matrix) later in the chain.
            chain.append(f"scale=w={sw}:h={sh}:flags=bicubic:in_color_matrix=bt2020:out_range=full")
            chain.append("format=gbrp16le")
            chain.append(f"lut3d=file={lut}:interp=tetrahedral")
            chain.append("scale=out_color_matrix=bt709:out_range=limited")
            chain.append("format=yuv420p")
        else:
            chain.append(f"scale=w={sw}:h={sh}:flags=bicubic:out_range=limited")
        chain.append("setsar=1")
        if s.crop is not None and (sw, sh) != (self.width, self.height):
            chain.append(f"crop=w={self.width}:h={self.height}:x={s.crop[0]}:y={s.crop[1]}")
        elif s.pad is not None and (sw, sh) != (self.width, self.height):
            chain.append(f"pad=width={self.width}:height={self.height}:x={s.pad[0]}:y={s.pad[1]}:color=black")
        chain.append("format=yuv420p")
        return chain

    def _build(self, frame: av.VideoFrame) -> None:
        with contextlib.ExitStack() as stack:
            lut = stack.enter_context(_cube_file(self.tonemap)) if self.tonemap else None
            self._graph = video_chain(frame, self._chain(lut))  # lut3d has read the file by now

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        if self._passthrough(frame):
            return frame
        key = (frame.width, frame.height, frame.format.name)
        if self._graph is None or key != self._key:
            self._build(frame)
            self._key = key
        assert self._graph is not None
        self._graph.push(frame)
        return self._graph.pull()


# --------------------------------------------------------------------------- frame mapping


@dataclass(frozen=True)
class Mapped:
    """Output frame ``k`` shows decoded source frame ``index`` (PTS ``pts``)."""

    k: int
    index: int
    pts: int
    frame: av.VideoFrame


def _timed(frames: Iterable[av.VideoFrame]) -> Iterator[tuple[int, int, Fraction, av.VideoFrame]]:
    """(index, pts, seconds from the first frame, frame); missing PTS filled by the last step."""
    first: int | None = None
    last: int | None = None
    step = 1
    tb = Fraction(1, 1)
    for i, frame in enumerate(frames):
        if frame.time_base:
            tb = Fraction(frame.time_base)
        p = frame.pts
        if p is None:
            p = (last + step) if last is not None else 0
        elif last is not None and p > last:
            step = p - last
        if first is None:
            first = p
        last = p
        yield i, p, (p - first) * tb, frame


def map_frames(
    frames: Iterable[av.VideoFrame],
    *,
    mode: str,
    step: int,
    fps: Fraction,
    count: int,
    on_warning: WarningSink | None = None,
    label: str = "",
) -> Iterator[Mapped]:
    """Exactly ``count`` output frames from decoded ``frames`` under a rate mode.

    Index modes (keep, conform, decimate, repeat) pick frames by decode index; ``resample`` picks
    by time (output ``k`` shows the last frame starting before ``(k + 1/2) / fps``, exact
    rational arithmetic). A source shorter than planned (damaged tail) repeats its last frame,
    a longer one is cut, each with a warning.
    """
    warn = on_warning or (lambda _m: None)
    k = 0
    last: Mapped | None = None
    pending: tuple[int, int, Fraction, av.VideoFrame] | None = None
    for index, pts, t, frame in _timed(frames):
        if k >= count:
            warn(f"{label}: more frames decoded than planned; frames after output frame {count} dropped")
            break
        if mode in ("keep", "conform"):
            last = Mapped(k, index, pts, frame)
            yield last
            k += 1
        elif mode == "decimate":
            if index % step == 0:
                last = Mapped(k, index, pts, frame)
                yield last
                k += 1
        elif mode == "repeat":
            for _ in range(step):
                if k < count:
                    last = Mapped(k, index, pts, frame)
                    yield last
                    k += 1
        elif mode == "resample":
            if pending is not None:
                # ``pending`` shows at every tick whose centre precedes this frame's start.
                while k < count and Fraction(2 * k + 1, 2) / fps <= t:
                    last = Mapped(k, pending[0], pending[1], pending[3])
                    yield last
                    k += 1
            pending = (index, pts, t, frame)
        else:
            raise ValueError(f"unknown rate mode {mode!r}")
    if mode == "resample" and pending is not None:
        while k < count:
            last = Mapped(k, pending[0], pending[1], pending[3])
            yield last
            k += 1
    if k < count:
        if last is None:
            raise InputError(label, "no decodable video frame")
        warn(f"{label}: {count - k} planned frame(s) missing at the end (damaged tail); last frame repeated")
        while k < count:
            yield Mapped(k, last.index, last.pts, last.frame)
            k += 1


# --------------------------------------------------------------------------- audio


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


class SegmentWriter:
    """One output MP4: the video (encoded here, or packets copied from an intermediate), and an
    audio stream (copied or AAC-encoded)."""

    def __init__(
        self,
        path: Path,
        encoder: EncoderPlan,
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


class AudioFeed:
    """The source's audio, handed to each segment writer as its video advances.

    Copy mode cuts AAC packets at the packet whose middle is nearest the boundary; AAC mode cuts
    sample-accurately on the output timeline (``round(frame / fps * rate)``), so consecutive
    segments share every sample exactly once.
    """

    def __init__(self, plan: Plan, probe_result: Probe) -> None:
        self.plan = plan
        self.video_start = Fraction(probe_result.start_pts) * probe_result.time_base
        self.samples: AudioSamples | None = None
        self.packets: AudioPackets | None = None
        if plan.encoder.audio == "aac":
            self.samples = AudioSamples(plan.source, video_start_s=self.video_start, retime=plan.rate.retime)
        elif plan.encoder.audio == "copy":
            self.packets = AudioPackets(plan.source, video_start_s=self.video_start)

    def writer_options(self) -> dict[str, object]:
        return {
            "audio_template": self.packets.stream if self.packets is not None else None,
            "audio_rate": self.samples.rate if self.samples is not None else None,
            "audio_layout": self.samples.layout if self.samples is not None else None,
        }

    @property
    def rate(self) -> int | None:
        if self.samples is not None:
            return self.samples.rate
        if self.packets is not None:
            return int(self.packets.stream.rate or 0) or None
        return None

    def _sample(self, frame_k: int) -> int:
        assert self.samples is not None
        return round(Fraction(frame_k) / self.plan.rate.fps * self.samples.rate)

    def feed(self, w: SegmentWriter, seg: SegmentPlan, *, final: bool) -> None:
        """Write this segment's audio up to its video position (+ a short lead), or to its end."""
        rate = self.plan.rate
        if self.packets is not None:
            horizon = Fraction(seg.start_frame) / rate.fps + w.video_time() + Fraction(AUDIO_LEAD_S)
            end = Fraction(seg.end_frame) / rate.fps
            limit = end if final else min(horizon, end)
            start_s = Fraction(seg.start_frame) / rate.fps * rate.retime + self.video_start
            base = round(start_s / self.packets.time_base)
            for packet in self.packets.take_until(limit * rate.retime):
                w.copy_audio(packet, base=base)
        elif self.samples is not None:
            target = self._sample(seg.end_frame)
            if not final:
                lead = round(AUDIO_LEAD_S * self.samples.rate)
                target = min(target, self._sample(seg.start_frame + w.frames) + lead)
            if target > self.samples.cursor:
                w.write_audio(self.samples.take(target - self.samples.cursor), final=final)
            elif final:
                w.write_audio(np.zeros((self.samples.channels, 0), np.float32), final=True)

    def close(self) -> None:
        if self.samples is not None:
            self.samples.close()
        if self.packets is not None:
            self.packets.close()


# --------------------------------------------------------------------------- direct executor


@dataclass(frozen=True)
class SegmentResult:
    """What was actually written for one planned segment."""

    index: int
    path: Path
    frame_count: int
    source_start_frame: int
    source_last_frame: int
    source_start_pts: int
    source_last_pts: int
    audio_samples: int
    audio_rate: int | None


def _finish_segment(
    writer: SegmentWriter,
    audio: AudioFeed,
    seg: SegmentPlan,
    *,
    first: tuple[int, int],
    last: tuple[int, int],
) -> SegmentResult:
    """Feed the segment's remaining audio, close its file, and say what it holds.

    ``first``/``last`` are ``(source frame index, source PTS)`` of its first and last frames.
    """
    audio.feed(writer, seg, final=True)
    writer.close()
    return SegmentResult(
        index=seg.index, path=writer.path, frame_count=writer.frames,
        source_start_frame=first[0], source_last_frame=last[0],
        source_start_pts=first[1], source_last_pts=last[1],
        audio_samples=writer.audio_samples, audio_rate=audio.rate,
    )


@contextlib.contextmanager
def _abort_on_failure(audio: AudioFeed, current: Callable[[], SegmentWriter | None]) -> Iterator[None]:
    """On any failure abort the segment being written (``current()``: its temp file goes, so no
    half-written output is left); always release the audio input."""
    try:
        yield
    except BaseException:
        writer = current()
        if writer is not None:
            writer.abort()
        raise
    finally:
        audio.close()


def _progressive(frames: Iterator[av.VideoFrame], enc: EncoderPlan) -> Iterator[av.VideoFrame]:
    """``frames`` deinterlaced when the plan says the source is interlaced, else as they are."""
    return deinterlaced(frames, parity=enc.deinterlace) if enc.deinterlace else frames


def transcode(
    plan: Plan,
    paths: Sequence[Path],
    *,
    probe_result: Probe,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> list[SegmentResult]:
    """Decode the source once and encode ``plan.segments`` straight into ``paths``.

    For callers that already know the transitions (a previous ``check``, ground truth): one
    decode, one encoder per segment, no intermediate. ``paths`` should be temporary names; the
    caller renames them on success.
    """
    if not plan.ok:
        raise ValueError(plan.problem or "the plan has no segments")
    if len(paths) != len(plan.segments):
        raise ValueError(f"need {len(plan.segments)} output paths, got {len(paths)}")
    warn = on_warning or (lambda _m: None)
    rate, enc, size = plan.rate, plan.encoder, plan.size
    audio = AudioFeed(plan, probe_result)
    convert = FrameConverter(size, tonemap=enc.tonemap)
    results: list[SegmentResult] = []
    writer: SegmentWriter | None = None
    seg_i = -1
    first: tuple[int, int] | None = None
    last_src: tuple[int, int] = (0, 0)
    cache: tuple[int, av.VideoFrame] | None = None
    pending_progress = 0

    def finish_segment() -> None:
        nonlocal writer, first
        assert writer is not None and first is not None
        results.append(_finish_segment(writer, audio, plan.segments[seg_i], first=first, last=last_src))
        writer = None
        first = None

    with _abort_on_failure(audio, lambda: writer):
        frames = _progressive(iter_frames(plan.source, on_warning=warn), plan.encoder)
        mapped = map_frames(
            frames, mode=rate.mode, step=rate.step, fps=rate.fps, count=rate.frame_count,
            on_warning=warn, label=plan.source,
        )
        for m in mapped:
            while seg_i < 0 or m.k >= plan.segments[seg_i].end_frame:
                if writer is not None:
                    finish_segment()
                seg_i += 1
                writer = SegmentWriter(
                    paths[seg_i], enc, width=size.width, height=size.height, fps=rate.fps,
                    **audio.writer_options(),  # type: ignore[arg-type]
                )
            assert writer is not None
            if cache is None or cache[0] != m.index:
                cache = (m.index, convert(m.frame))
            if first is None:
                first = (m.index, m.pts)
            last_src = (m.index, m.pts)
            writer.write_video(cache[1])
            if writer.frames % 8 == 0:
                audio.feed(writer, plan.segments[seg_i], final=False)
            pending_progress += 1
            if progress is not None and pending_progress >= 16:
                progress(pending_progress)
                pending_progress = 0
        if writer is not None:
            finish_segment()
        if progress is not None and pending_progress:
            progress(pending_progress)
    return results


# --------------------------------------------------------------------------- single-pass executor
#
# `preflight fix` needs the transitions before it can place segment boundaries, and finding them
# costs a decode. Rather than decode twice (analysis, then transcode), the single-pass executor
# decodes once: every source frame feeds the transition detector *and* the encoder, which writes
# the whole converted clip as one intermediate H.264 stream (keyframes every KEYFRAME_INTERVAL_S
# and, through x264's scene-cut detection, at most cuts). Once the plan is known, each segment
# is assembled from that stream: whole closed GOPs inside the segment are copied packet for
# packet; only a GOP that straddles a boundary is decoded and its frames on each side
# re-encoded (at most one keyframe interval per boundary, none when x264 put a keyframe at the
# cut). Every segment still starts on an IDR frame exactly at its first frame.


@dataclass(frozen=True)
class PassResult:
    """What the single pass measured and wrote."""

    transitions: tuple[Transition, ...]
    decoded_frames: int
    source_index: np.ndarray  # (N_out,) int64: decoded source frame shown at each output frame
    source_pts: np.ndarray  # (N_out,) int64: its PTS
    extradata: bytes  # Annex B SPS/PPS of the intermediate's encoder
    warnings: tuple[str, ...]


class _Detector:
    """Feeds decoded source frames to the transition detector in analysis-size batches."""

    def __init__(self, probe_result: Probe) -> None:
        from ..check.analyzers.transitions import TransitionDetector
        from ..media.decode import AnalysisGeometry, LumaBatcher

        self.batcher = LumaBatcher(AnalysisGeometry.for_probe(probe_result))
        self.detector = TransitionDetector()
        self.detector.start(self.batcher.geometry)

    @property
    def count(self) -> int:
        return self.batcher.count

    def add(self, frame: av.VideoFrame, pts: int) -> None:
        batch = self.batcher.add(frame, pts)
        if batch is not None:
            self.detector.process(batch)

    def finish(self) -> tuple[Transition, ...]:
        batch = self.batcher.flush()
        if batch is not None:
            self.detector.process(batch)
        self.detector.finish()
        return tuple(self.detector.transitions())


def encode_and_analyze(
    plan: Plan,
    intermediate: Path,
    *,
    probe_result: Probe,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> PassResult:
    """The single decode: detect transitions and encode the converted clip to ``intermediate``.

    Only ``plan``'s rate, size and encoder are used (its segments are not known yet).
    """
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    rate, size, enc = plan.rate, plan.size, plan.encoder
    detector = _Detector(probe_result)

    def tapped() -> Iterator[av.VideoFrame]:
        for _i, pts, _t, frame in _timed(iter_frames(plan.source, on_warning=warn)):
            detector.add(frame, pts)
            if frame.pts is None:
                frame.pts = pts  # so the frame mapping sees the same filled-in time
            yield frame

    n_out = rate.frame_count
    src_index = np.zeros(n_out, dtype=np.int64)
    src_pts = np.zeros(n_out, dtype=np.int64)
    convert = FrameConverter(size, tonemap=enc.tonemap)
    container = open_output(intermediate)
    try:
        stream = add_video_stream(container, enc, width=size.width, height=size.height, fps=rate.fps)
        time_base = Fraction(1, 1) / rate.fps
        cache: tuple[int, av.VideoFrame] | None = None
        pending = 0
        # The detector sees the frames as decoded (at its 320-px analysis size combing is gone
        # anyway); the encoder gets them deinterlaced when the source is interlaced.
        frames = _progressive(tapped(), enc)
        for m in map_frames(frames, mode=rate.mode, step=rate.step, fps=rate.fps, count=n_out,
                            on_warning=warn, label=plan.source):
            if cache is None or cache[0] != m.index:
                cache = (m.index, convert(m.frame))
            src_index[m.k], src_pts[m.k] = m.index, m.pts
            for packet in stream.encode(prepare_frame(cache[1], m.k, time_base)):
                container.mux(packet)
            pending += 1
            if progress is not None and pending >= 16:
                progress(pending)
                pending = 0
        for packet in stream.encode(None):
            container.mux(packet)
        extradata = bytes(stream.codec_context.extradata or b"")
        if progress is not None and pending:
            progress(pending)
    finally:
        container.close()
    return PassResult(
        transitions=detector.finish(), decoded_frames=detector.count, source_index=src_index,
        source_pts=src_pts, extradata=extradata, warnings=tuple(warnings),
    )


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
class _Gop:
    """A closed GOP of the intermediate: output frames ``[start, end)``."""

    start: int
    end: int


class _Intermediate:
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

    def gop_of(self, frame: int) -> _Gop:
        i = int(np.searchsorted(self.keys, frame, side="right")) - 1
        end = int(self.keys[i + 1]) if i + 1 < len(self.keys) else self.frame_count
        return _Gop(int(self.keys[i]), end)

    def _seek(self, frame: int) -> None:
        self.container.seek(round(Fraction(frame) / self.fps / self.tb), stream=self.stream, backward=True)

    def packets(self, gop: _Gop) -> Iterator[av.Packet]:
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

    def frames(self, gop: _Gop, first: int, end: int) -> Iterator[av.VideoFrame]:
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


def _chunk_encoder(enc: EncoderPlan, width: int, height: int, fps: Fraction) -> av.CodecContext:
    cc = av.CodecContext.create(enc.codec, "w")
    cc.width, cc.height = width, height
    cc.pix_fmt = enc.pix_fmt
    cc.time_base = Fraction(1, 1) / fps
    cc.framerate = fps
    cc.options = enc.x264_options()
    _describe_output(cc, enc)
    # Global headers: SPS/PPS in extradata, as for the intermediate (the MP4 muxer sets it there).
    cc.flags |= av.codec.context.Flags.global_header
    cc.open()
    return cc


class SpliceError(RuntimeError):
    """A re-encoded piece would not fit the intermediate's stream (different SPS/PPS)."""


def split_intermediate(
    plan: Plan,
    intermediate: Path,
    paths: Sequence[Path],
    *,
    pass_result: PassResult,
    probe_result: Probe,
    progress: ProgressSink | None = None,
) -> list[SegmentResult]:
    """Assemble ``plan.segments`` from the intermediate: copy whole GOPs, re-encode the frames of
    boundary-straddling GOPs on each side of the boundary."""
    if len(paths) != len(plan.segments):
        raise ValueError(f"need {len(plan.segments)} output paths, got {len(paths)}")
    rate, size, enc = plan.rate, plan.size, plan.encoder
    src = _Intermediate(intermediate, rate.fps)
    audio = AudioFeed(plan, probe_result)
    results: list[SegmentResult] = []
    writer: SegmentWriter | None = None
    with contextlib.closing(src), _abort_on_failure(audio, lambda: writer):
        if src.frame_count != rate.frame_count:
            raise RuntimeError(
                f"intermediate holds {src.frame_count} frames, the plan {rate.frame_count}"
            )
        for seg, path in zip(plan.segments, paths, strict=True):
            writer = SegmentWriter(
                path, enc, width=size.width, height=size.height, fps=rate.fps,
                video_template=src.stream, decode_delay=src.decode_delay,
                **audio.writer_options(),  # type: ignore[arg-type]
            )
            a, b = seg.start_frame, seg.end_frame
            pos = a
            while pos < b:
                gop = src.gop_of(pos)
                end = min(gop.end, b)
                if pos == gop.start and gop.end <= b:
                    for packet in src.packets(gop):
                        writer.write_packet(packet, pts=src.frame_of(packet.pts) - a)
                else:
                    _reencode(
                        src, gop, pos, end, writer, offset=a, plan=plan, extradata=pass_result.extradata
                    )
                audio.feed(writer, seg, final=False)
                if progress is not None:
                    progress(end - pos)
                pos = end
            first = (int(pass_result.source_index[a]), int(pass_result.source_pts[a]))
            last = (int(pass_result.source_index[b - 1]), int(pass_result.source_pts[b - 1]))
            results.append(_finish_segment(writer, audio, seg, first=first, last=last))
            writer = None
    return results


def _reencode(
    src: _Intermediate,
    gop: _Gop,
    first: int,
    end: int,
    writer: SegmentWriter,
    *,
    offset: int,
    plan: Plan,
    extradata: bytes,
) -> None:
    """Re-encode intermediate frames ``[first, end)`` (inside ``gop``) into ``writer``."""
    fps = plan.rate.fps
    cc = _chunk_encoder(plan.encoder, plan.size.width, plan.size.height, fps)
    if bytes(cc.extradata or b"") != extradata:
        raise SpliceError("re-encoded GOP has other SPS/PPS than the intermediate stream")
    tb = Fraction(1, 1) / fps

    def emit(packets: Iterable[av.Packet]) -> None:
        for packet in packets:
            # Chunk-local frame units: pts counts frames from ``first``.
            p = round(packet.pts * Fraction(packet.time_base or tb) * fps)
            out = av.Packet(annexb_to_length_prefixed(bytes(packet), size=src.length_size))
            out.is_keyframe = packet.is_keyframe
            writer.write_packet(out, pts=p + first - offset)

    k = 0
    for frame in src.frames(gop, first, end):
        emit(cc.encode(prepare_frame(frame, k, tb)))
        k += 1
    emit(cc.encode(None))
    if k != end - first:
        raise RuntimeError(
            f"decoded {k} of {end - first} frames of GOP {gop.start}-{gop.end} from the intermediate"
        )


# --------------------------------------------------------------------------- fix = plan + outputs


@dataclass(frozen=True)
class FixResult:
    """Files written by :func:`run_fix` and the manifest saved beside them."""

    manifest_path: Path
    segment_paths: tuple[Path, ...]
    manifest: dict[str, object]


def segment_names(stem: str, count: int) -> list[str]:
    """File names of the segments: ``<stem>_fixed.mp4``, or ``<stem>_seg01.mp4``... when split."""
    if count == 1:
        return [f"{stem}_fixed.mp4"]
    width = max(2, len(str(count)))
    return [f"{stem}_seg{i:0{width}d}.mp4" for i in range(1, count + 1)]


MANIFEST_NAME = "manifest.json"


def _write_segment_set(
    out_dir: Path,
    names: Sequence[str],
    *,
    source: str,
    force: bool,
    write: Callable[[list[Path]], list[SegmentResult]],
    describe: Callable[[list[SegmentResult]], dict[str, object]],
    on_warning: WarningSink | None,
) -> tuple[Path, list[Path], dict[str, object]]:
    """Write the segments ``names`` and their manifest into ``out_dir`` as one set.

    ``write`` gets the temporary paths to fill (in ``names`` order) and returns what it wrote;
    ``describe`` turns that into the manifest. Every file is written to a temporary name and
    renamed only when all succeeded, the manifest last: its presence means the set is whole.
    Replacing a manifest (``force``) also removes the segment files it listed that the new set
    no longer has, so a directory never mixes two runs.

    Returns
    -------
    (manifest path, segment paths, manifest)
    """
    finals = [out_dir / n for n in names]
    manifest_path = out_dir / MANIFEST_NAME
    for p in [*finals, manifest_path]:
        check_output_path(p, inputs=[source], force=force)
    stale = [f for f in _manifest_files(manifest_path) if f["file"] not in names]
    with contextlib.ExitStack() as stack:
        tmp_manifest = stack.enter_context(atomic_path(manifest_path))  # entered first: renamed last
        tmps = [stack.enter_context(atomic_path(p)) for p in finals]
        manifest = describe(write(tmps))
        tmp_manifest.write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    _remove_replaced(out_dir, stale, source=source, on_warning=on_warning)
    return manifest_path, finals, manifest


def _manifest_files(manifest_path: Path) -> list[dict[str, object]]:
    """Segment entries (``file``, and ``bytes``/``sha256`` when recorded) of an existing manifest,
    plain file names only; [] if unreadable."""
    try:
        doc = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = [seg for seg in doc["segments"] if isinstance(seg, dict)]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return []
    return [
        e for e in entries
        if isinstance(f := e.get("file"), str) and f and Path(f).name == f
        and f not in (MANIFEST_NAME, ".", "..")
    ]


def _remove_replaced(
    out_dir: Path, stale: Sequence[dict[str, object]], *, source: str, on_warning: WarningSink | None
) -> None:
    """Remove the segment files of a replaced manifest that this tool provably wrote: the size
    and SHA-256 recorded in that manifest still match. Any other file is left, with a warning."""
    removed, kept = [], []
    for entry in stale:
        path = out_dir / str(entry["file"])
        if not path.exists() and not path.is_symlink():
            continue
        ours = is_unchanged(path, size=entry.get("bytes"), sha256=entry.get("sha256"))
        if not ours or same_file(path, source):
            kept.append(path.name)
            continue
        try:
            path.unlink()
            removed.append(path.name)
        except OSError:
            kept.append(path.name)
    if on_warning is None:
        return
    if removed:
        on_warning(f"removed {len(removed)} segment file(s) of the replaced manifest: {', '.join(removed)}")
    if kept:
        on_warning(
            f"kept {len(kept)} file(s) the replaced manifest lists but this tool cannot show it wrote "
            f"(size or SHA-256 differ or were not recorded): {', '.join(kept)}"
        )


def _temp_pattern(stem: str) -> re.Pattern[str]:
    """Temporaries a fix of ``stem`` creates: intermediate, segments' and manifest's ``.part``."""
    stems = rf"{re.escape(stem)}(?:_fixed|_seg\d+)?|{re.escape(Path(MANIFEST_NAME).stem)}"
    return temp_name_pattern(stems, regex=True)


@contextlib.contextmanager
def _claim_output_dir(out_dir: Path, stem: str, on_warning: WarningSink | None) -> Iterator[None]:
    """Be the only run writing to ``out_dir`` (:func:`preflight.outputs.output_lock`) and remove
    the temporaries an earlier, killed run of the same output left there."""
    with output_lock(out_dir):
        removed = remove_stale_temporaries(out_dir, _temp_pattern(stem))
        if removed and on_warning is not None:
            names = ", ".join(removed)
            on_warning(f"removed {len(removed)} temporary file(s) an interrupted run left: {names}")
        yield


# Extensions of files `fix` could be given (compared case-insensitively), for the default folder.
VIDEO_EXTENSIONS = frozenset({
    ".3gp", ".avi", ".dv", ".flv", ".m2ts", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".mts",
    ".mxf", ".ogv", ".ts", ".webm", ".wmv", ".y4m",
})


def default_output_dir(source: str | os.PathLike[str]) -> Path:
    """Where ``fix`` writes without ``-o``: ``<stem>_fixed/`` beside the input, or
    ``<name>_fixed/`` (``clip.mkv_fixed/``) when another video beside it has the same stem
    (``clip.mov``), so two inputs never share a default folder."""
    src = Path(source)
    try:
        siblings = [
            e for e in src.parent.iterdir()
            if e.name != src.name and e.stem == src.stem and e.suffix.lower() in VIDEO_EXTENSIONS
        ]
    except OSError:
        siblings = []
    return src.parent / f"{src.name if siblings else src.stem}_fixed"


def _usable_dir_path(output_dir: str | os.PathLike[str], source: str) -> Path:
    """``output_dir`` as a Path if it is a directory, or could be created as one."""
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        src = Path(source)
        if src.exists() and out.resolve() == src.resolve():
            raise OutputError(f"{out}: is the input file; -o/--output-dir takes a directory")
        raise OutputError(f"{out}: is a file; -o/--output-dir takes a directory")
    if not out.exists():
        if not out.parent.is_dir():
            raise OutputError(f"{out}: parent directory {out.parent} does not exist")
        if not os.access(out.parent, os.W_OK | os.X_OK):
            raise OutputError(f"{out}: cannot create it, {out.parent} is not writable")
    return out


def prepare_output_dir(output_dir: str | os.PathLike[str], *, source: str) -> tuple[Path, bool]:
    """Validate (and create if missing) the output directory; returns (dir, created).

    Raises
    ------
    OutputError
        The path is a file (e.g. the input itself), its parent is missing, or it is not writable.
    """
    out = _usable_dir_path(output_dir, source)
    created = False
    if not out.exists():
        try:
            out.mkdir()
        except OSError as exc:
            raise OutputError(f"{out}: cannot create directory ({exc.strerror})") from None
        created = True
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: directory is not writable")
    return out, created


def precheck_output_dir(output_dir: str | os.PathLike[str], *, source: str, force: bool) -> None:
    """Cheap checks before the analysis pass: the directory is usable and no manifest would be
    overwritten without ``force``. Creates nothing.

    Raises
    ------
    OutputError
        As :func:`prepare_output_dir`, or ``manifest.json`` exists without ``force``.
    """
    out = _usable_dir_path(output_dir, source)
    if out.is_dir():
        if not os.access(out, os.W_OK | os.X_OK):
            raise OutputError(f"{out}: directory is not writable")
        check_output_path(out / MANIFEST_NAME, inputs=[source], force=force)


def run_fix(
    plan: Plan,
    *,
    probe_result: Probe,
    profile: Profile,
    output_dir: str | os.PathLike[str],
    anchors: Sequence[object] = (),
    force: bool = False,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> FixResult:
    """Transcode ``plan`` into ``output_dir`` with a manifest; all files appear together or none.

    ``anchors`` are parsed :class:`preflight.manifest.AnchorSpec` s (placed and validated before
    any file is touched).

    Raises
    ------
    OutputError
        Output directory unusable, an output would overwrite the input, or exists without ``force``.
    """
    from .manifest import build_manifest, place_anchors

    if not plan.ok:
        raise ValueError(plan.problem or "the plan has no segments")
    placed = place_anchors(  # raises before any output exists
        anchors, plan, max_anchors=profile.max_anchors, precision_s=profile.anchor_precision_s
    )
    stem = Path(plan.source).stem
    names = segment_names(stem, len(plan.segments))
    # Validate every final path before creating anything.
    out_dir = Path(output_dir)
    if out_dir.exists() and out_dir.is_dir():
        for path in [*(out_dir / n for n in names), out_dir / MANIFEST_NAME]:
            check_output_path(path, inputs=[plan.source], force=force)
    out_dir, created = prepare_output_dir(out_dir, source=plan.source)
    try:
        with _claim_output_dir(out_dir, stem, on_warning):
            manifest_path, finals, manifest = _write_segment_set(
                out_dir, names, source=plan.source, force=force,
                write=lambda tmps: transcode(
                    plan, tmps, probe_result=probe_result, progress=progress, on_warning=on_warning
                ),
                describe=lambda results: build_manifest(plan, probe_result, results, names, placed),
                on_warning=on_warning,
            )
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only succeeds when nothing else is inside
        raise
    return FixResult(manifest_path=manifest_path, segment_paths=tuple(finals), manifest=manifest)


def fix_file(
    path: str,
    *,
    profile: Profile,
    output_dir: str | os.PathLike[str],
    probe_result: Probe | None = None,
    crf: int = 18,
    preset: str = "medium",
    aspect: str | None = None,
    anchors: Sequence[object] = (),
    force: bool = False,
    progress: ProgressSink | None = None,
    split_progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
    before_write: Callable[[Plan], object] | None = None,
    merge_ranges: Sequence[tuple[float, float]] = (),
) -> tuple[Plan, FixResult]:
    """``preflight fix`` in one decode: analyse and encode together, then plan and split.

    Rate, size, aspect and encoder are decided from the probe before decoding; the segments
    once the single pass has found the transitions. Outputs appear together or not at all; the
    intermediate stream is always removed. ``before_write`` gets the final plan before any
    segment is written; an exception it raises aborts the fix with nothing written (``--service``
    checks its request bodies there).

    Raises
    ------
    NoPlanError
        No valid segmentation (clip too short, cuts too dense).
    OutputError, UsageError, InputError
        As :func:`run_fix`, :func:`preflight.manifest.place_anchors`, :func:`preflight.probe.probe`.
    """
    from ..media.probe import probe
    from .manifest import build_manifest, check_anchor_range, place_anchors
    from .plan import NoPlanError, make_plan

    info = probe_result or probe(path)
    draft = make_plan(info, [], profile, crf=crf, preset=preset, aspect=aspect)
    if draft.problem:  # without transitions the only possible problem: the clip is too short
        raise NoPlanError(draft.problem)
    check_anchor_range(anchors, draft, max_anchors=profile.max_anchors)  # fail before the pass
    precheck_output_dir(output_dir, source=path, force=force)
    out_dir, created = prepare_output_dir(output_dir, source=path)
    stem = Path(path).stem
    claim = contextlib.ExitStack()  # released before the directory may be removed
    try:
        claim.enter_context(_claim_output_dir(out_dir, stem, on_warning))
        intermediate = make_temp(out_dir, stem, suffix=".intermediate.mp4")
    except BaseException:
        claim.close()
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    try:
        passed = encode_and_analyze(
            draft, intermediate, probe_result=info, progress=progress, on_warning=on_warning
        )
        plan = make_plan(info, passed.transitions, profile, crf=crf, preset=preset, aspect=aspect,
                         merge_ranges=merge_ranges)
        if (plan.rate, plan.size, plan.encoder.x264_options()) != (
            draft.rate, draft.size, draft.encoder.x264_options()
        ):
            raise RuntimeError("internal: the plan's rate, size or encoder changed after the pass")
        if not plan.ok:
            raise NoPlanError(plan.problem or "no valid plan")
        if before_write is not None:
            before_write(plan)
        placed = place_anchors(
            anchors, plan, max_anchors=profile.max_anchors, precision_s=profile.anchor_precision_s
        )
        names = segment_names(stem, len(plan.segments))

        def write(tmps: list[Path]) -> list[SegmentResult]:
            try:
                return split_intermediate(
                    plan, intermediate, tmps, pass_result=passed, probe_result=info, progress=split_progress
                )
            except SpliceError as exc:
                # Never expected with one encoder configuration; stay correct at the cost of a decode.
                if on_warning is not None:
                    on_warning(f"{exc}; encoding the segments directly instead")
                return transcode(plan, tmps, probe_result=info, on_warning=on_warning)

        manifest_path, finals, manifest = _write_segment_set(
            out_dir, names, source=path, force=force, write=write,
            describe=lambda results: build_manifest(plan, info, results, names, placed),
            on_warning=on_warning,
        )
    except BaseException:
        with contextlib.suppress(OSError):
            intermediate.unlink()
        claim.close()
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    with contextlib.suppress(OSError):
        intermediate.unlink()
    claim.close()
    return plan, FixResult(manifest_path=manifest_path, segment_paths=tuple(finals), manifest=manifest)
