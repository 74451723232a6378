"""Probe: container and stream properties, read without decoding a single pixel.

Like imageio's ``properties()``, this is cheap and separate from the streaming decoder: it opens
the container, reads stream headers, demuxes the *packets* of the video stream (compressed
bytes only) to count frames and measure PTS spacing, and parses the MP4 ``tkhd`` matrix for
rotation. A 10-minute clip probes in well under a second.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from ..errors import InputError

# File name extensions of video files (compared lower-case): a batch's inputs found by name, a
# join's edited segments, the sibling videos that make `fix` name its default folder apart.
VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".qt",
        ".mkv",
        ".webm",
        ".avi",
        ".mxf",
        ".ts",
        ".mts",
        ".m2ts",
        ".mpg",
        ".mpeg",
        ".m2v",
        ".vob",
        ".flv",
        ".wmv",
        ".asf",
        ".3gp",
        ".3g2",
        ".ogv",
        ".y4m",
        ".h264",
        ".264",
        ".h265",
        ".265",
        ".hevc",
        ".ivf",
        ".dv",
    }
)

# FFmpeg enum values (libavutil/pixfmt.h, libavcodec/defs.h).
_TRC_NAMES = {1: "bt709", 6: "smpte170m", 8: "linear", 13: "srgb", 14: "bt2020-10",
              15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
_HDR_TRC = {16: "PQ (SMPTE 2084)", 18: "HLG (ARIB STD-B67)"}
_RANGE_NAMES = {0: "unspecified", 1: "limited", 2: "full"}
_FIELD_ORDER = {0: "unknown", 1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}
# PTS intervals deviating from the median by more than this share count as irregular; a clip
# is VFR when more than VFR_IRREGULAR_SHARE of its intervals are irregular.
VFR_INTERVAL_TOLERANCE = 0.02
VFR_IRREGULAR_SHARE = 0.01


@dataclass(frozen=True)
class AudioInfo:
    """One audio stream."""

    index: int
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None


@dataclass(frozen=True)
class DeclaredTiming:
    """What the container header declares about the video, as an ingest reads it before decoding
    (ffprobe's ``format.duration``, ``stream.duration``, ``avg_frame_rate`` and ``nb_frames``).

    ``None`` where the container does not say. :func:`preflight.check.verdict.evaluate` compares these
    with the decoded timestamps.
    """

    container_s: float | None
    stream_s: float | None
    average_rate: Fraction | None
    frames: int | None


@dataclass(frozen=True)
class Probe:
    """What a container says about its video, plus what its packet timestamps show.

    Times are PTS in ``time_base`` units; seconds are derived. ``width``/``height`` are the coded
    size; ``display_width``/``display_height`` apply the sample aspect ratio and rotation.
    """

    path: str
    container: str
    codec: str
    width: int
    height: int
    sar: Fraction
    rotation: int
    display_width: int
    display_height: int
    pix_fmt: str
    bit_depth: int
    color_range: str
    color_transfer: str
    hdr: str | None
    field_order: str
    time_base: Fraction
    fps_declared: Fraction | None
    fps_measured: float | None
    vfr: bool
    frame_count: int
    start_pts: int
    duration_s: float
    size_bytes: int
    audio: tuple[AudioInfo, ...]
    declared: DeclaredTiming | None = None  # header fields (not in to_dict: JSON unchanged)

    @property
    def interlaced(self) -> bool:
        return self.field_order in ("tt", "bb", "tb", "bt")

    @property
    def display_aspect(self) -> float:
        return self.display_width / self.display_height

    @property
    def short_side(self) -> int:
        return min(self.display_width, self.display_height)

    @property
    def fps(self) -> float:
        """Best frame-rate estimate: measured from PTS when possible, else declared."""
        if self.fps_measured:
            return self.fps_measured
        return float(self.fps_declared) if self.fps_declared else 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (fractions as strings)."""
        return {
            "path": self.path,
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "sar": f"{self.sar.numerator}:{self.sar.denominator}",
            "rotation": self.rotation,
            "display_width": self.display_width,
            "display_height": self.display_height,
            "pix_fmt": self.pix_fmt,
            "bit_depth": self.bit_depth,
            "color_range": self.color_range,
            "color_transfer": self.color_transfer,
            "hdr": self.hdr,
            "field_order": self.field_order,
            "interlaced": self.interlaced,
            "time_base": str(self.time_base),
            "fps_declared": str(self.fps_declared) if self.fps_declared else None,
            "fps": round(self.fps, 4),
            "vfr": self.vfr,
            "frame_count": self.frame_count,
            "duration_s": round(self.duration_s, 4),
            "size_bytes": self.size_bytes,
            "audio": [a.__dict__ for a in self.audio],
        }


def check_readable_file(path: str | os.PathLike[str]) -> str:
    """Validate that ``path`` names a non-empty regular file; return it as ``str``.

    Raises
    ------
    InputError
        Missing path, a broken symlink or a symlink loop, a directory, a device or pipe (not a
        regular file), a zero-byte file, or a name the system refuses (too long, NUL byte).
    """
    name = os.fspath(path)
    name = name if isinstance(name, str) else os.fsdecode(name)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        broken = os.path.islink(name)
        raise InputError(name, "is a broken symbolic link" if broken else "no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(name, "symlink loop (too many levels of symbolic links)") from None
        raise InputError(name, f"cannot access ({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # embedded NUL byte
        raise InputError(name, "is not a usable file name (NUL byte)") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, "is a directory, not a video file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(name, "is not a regular file (a device, pipe or socket): give a video file")
    if st.st_size == 0:
        raise InputError(name, "is empty (0 bytes)")
    if not os.access(name, os.R_OK):
        raise InputError(name, "is not readable (permission denied)")
    return name


def open_container(path: str) -> av.container.InputContainer:
    """Open ``path`` with PyAV, turning every failure into a one-line :class:`InputError`."""
    try:
        return av.open(path, "r")
    except av.error.FFmpegError as exc:
        raise InputError(path, f"not a readable media file ({_ffmpeg_reason(exc)})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(path, f"cannot open ({exc})") from None


def _ffmpeg_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__


def probe(path: str | os.PathLike[str]) -> Probe:
    """Read container/stream properties and packet timing of ``path`` (no pixel decoding).

    Raises
    ------
    InputError
        The file is missing, empty, not media, has no video stream, is a still image, or has
        fewer than two frames.
    """
    name = check_readable_file(path)
    container = open_container(name)
    try:
        return _probe_open(name, container)
    finally:
        container.close()


_IMAGE_CODECS = {"png", "mjpeg", "bmp", "gif", "tiff", "webp", "jpeg2000", "apng"}
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "gif", "webp_pipe", "tiff_pipe"}


def _probe_open(name: str, container: av.container.InputContainer) -> Probe:
    if not container.streams.video:
        kind = "audio-only file" if container.streams.audio else "file without a video stream"
        raise InputError(name, f"{kind}: nothing to check")
    stream = container.streams.video[0]
    cc = stream.codec_context
    fmt_name = container.format.name
    if cc.name in _IMAGE_CODECS and (fmt_name in _IMAGE_FORMATS or fmt_name.endswith("_pipe")):
        raise InputError(name, f"is a still image ({cc.name}), not a video")
    if not cc.width or not cc.height:
        raise InputError(name, "video stream has no frame size (corrupt header)")

    pts = _packet_pts(container, stream, name)
    if pts.size == 0:
        raise InputError(name, "video stream holds no frames (truncated or empty)")
    if pts.size < 2:
        raise InputError(name, "video holds a single frame: a still image, not a clip")

    time_base = stream.time_base or Fraction(1, 1)
    fps_declared = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps_measured, vfr = _measure_rate(pts, time_base)
    frame_dur = (1.0 / fps_measured) if fps_measured else 0.0
    duration_s = float((int(pts[-1]) - int(pts[0])) * time_base) + frame_dur

    sar = cc.sample_aspect_ratio or stream.sample_aspect_ratio
    sar = Fraction(sar) if sar and sar > 0 else Fraction(1, 1)
    rotation = _rotation(name, fmt_name)
    # Square pixels: displayed exactly as coded (641x359 stays 641x359), never rounded.
    disp_w = cc.width if sar == 1 else _even_round(cc.width * float(sar))
    disp_h = cc.height
    if rotation % 180 != 0:
        disp_w, disp_h = disp_h, disp_w

    pix_fmt = cc.pix_fmt or (stream.format.name if stream.format else "unknown")
    try:
        bit_depth = av.VideoFormat(pix_fmt).components[0].bits
    except (ValueError, IndexError):
        bit_depth = 8
    trc = int(cc.color_trc or 0)

    audio = tuple(
        AudioInfo(
            index=a.index,
            codec=a.codec_context.name,
            sample_rate=int(a.rate or 0),
            channels=int(a.codec_context.channels or 0),
            duration_s=float(a.duration * a.time_base) if a.duration and a.time_base else None,
        )
        for a in container.streams.audio
    )
    return Probe(
        path=name,
        container=fmt_name,
        codec=cc.name,
        width=cc.width,
        height=cc.height,
        sar=sar,
        rotation=rotation,
        display_width=disp_w,
        display_height=disp_h,
        pix_fmt=pix_fmt,
        bit_depth=bit_depth,
        color_range=_RANGE_NAMES.get(int(cc.color_range or 0), "unspecified"),
        color_transfer=_TRC_NAMES.get(trc, "unspecified" if trc in (0, 2) else str(trc)),
        hdr=_HDR_TRC.get(trc),
        field_order=_FIELD_ORDER.get(int(cc.field_order or 0), "unknown"),
        time_base=Fraction(time_base),
        fps_declared=Fraction(fps_declared) if fps_declared else None,
        fps_measured=fps_measured,
        vfr=vfr,
        frame_count=int(pts.size),
        start_pts=int(pts[0]),
        duration_s=duration_s,
        size_bytes=os.path.getsize(name),
        audio=audio,
        declared=_declared(container, stream),
    )


def _declared(container: av.container.InputContainer, stream: av.VideoStream) -> DeclaredTiming:
    """The header's duration, average frame rate and frame count of ``stream`` (no decoding)."""
    tb = stream.time_base
    whole = container.duration
    return DeclaredTiming(
        container_s=whole / av.time_base if whole and whole > 0 else None,
        stream_s=float(stream.duration * tb) if stream.duration and tb else None,
        average_rate=Fraction(stream.average_rate) if stream.average_rate else None,
        frames=int(stream.frames) or None,
    )


def _even_round(x: float) -> int:
    return max(2, round(x / 2.0) * 2)


def _packet_pts(container: av.container.InputContainer, stream: av.VideoStream, name: str) -> np.ndarray:
    """Presentation timestamps of every video packet, sorted (display order)."""
    values: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None:
                values.append(int(ts))
    except av.error.FFmpegError:
        # A truncated or damaged tail: keep what was read; decode reports the damage.
        pass
    except (OSError, UnicodeDecodeError) as exc:  # pragma: no cover - I/O failure mid-read
        raise InputError(name, f"read error ({exc})") from None
    return np.sort(np.asarray(values, dtype=np.int64))


def _measure_rate(pts: np.ndarray, time_base: Fraction) -> tuple[float | None, bool]:
    """Mean frame rate from PTS and whether the spacing is variable."""
    diffs = np.diff(pts)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return None, False
    span = float((int(pts[-1]) - int(pts[0])) * time_base)
    fps = (pts.size - 1) / span if span > 0 else None
    median = float(np.median(diffs))
    irregular = np.abs(diffs / median - 1.0) > VFR_INTERVAL_TOLERANCE
    vfr = bool(irregular.mean() > VFR_IRREGULAR_SHARE)
    return fps, vfr


def _rotation(path: str, fmt_name: str) -> int:
    """Clockwise display rotation in degrees (0, 90, 180, 270) from the MP4/MOV ``tkhd`` matrix.

    PyAV exposes the display matrix only on decoded frames; reading the box keeps probe free of
    pixel work. Non-MP4 containers carry no display matrix and get 0.
    """
    if "mp4" not in fmt_name and "mov" not in fmt_name:
        return 0
    try:
        with open(path, "rb") as fh:
            matrix = _video_tkhd_matrix(fh, os.fstat(fh.fileno()).st_size)
    except (OSError, struct.error):
        return 0
    if matrix is None:
        return 0
    a, b = matrix[0], matrix[1]
    degrees = round(math.degrees(math.atan2(b, a)))
    return int(degrees) % 360


def _iter_boxes(fh, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        header_len = 8
        if size == 1:
            size = struct.unpack(">Q", fh.read(8))[0]
            header_len = 16
        elif size == 0:
            size = end - pos
        if size < header_len:
            return
        yield kind, pos + header_len, min(pos + size, end)
        pos += size


def _video_tkhd_matrix(fh, file_size: int) -> tuple[float, ...] | None:
    for kind, body, end in _iter_boxes(fh, 0, file_size):
        if kind != b"moov":
            continue
        for tkind, tbody, tend in _iter_boxes(fh, body, end):
            if tkind != b"trak":
                continue
            tkhd = None
            is_video = False
            for ckind, cbody, cend in _iter_boxes(fh, tbody, tend):
                if ckind == b"tkhd":
                    tkhd = (cbody, cend)
                elif ckind == b"mdia":
                    for mkind, mbody, _mend in _iter_boxes(fh, cbody, cend):
                        if mkind == b"hdlr":
                            fh.seek(mbody + 8)
                            is_video = fh.read(4) == b"vide"
            if is_video and tkhd is not None:
                fh.seek(tkhd[0])
                version = fh.read(1)[0]
                fh.seek(tkhd[0] + (52 if version == 1 else 40))
                raw = struct.unpack(">9i", fh.read(36))
                return tuple(v / 65536.0 for v in raw)
    return None
