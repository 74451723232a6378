"""Streaming decode: one pass over a file, frames handed out as they come.

Two views of the same loop:

* :func:`iter_frames` yields decoded :class:`av.VideoFrame` objects in presentation (decode
  output) order, tolerating damaged packets. ``qa`` uses it with :func:`luma_plane` to get
  full-resolution luma without a copy.
* :func:`iter_luma_batches` yields :class:`FrameBatch` es of small analysis-size luma for the
  ``preflight`` analyzers: memory is one batch, whatever the clip length.

Downscaling: the analysis frame is made from a zero-copy view of the decoded Y plane with
OpenCV's area resize. Measured on 1080p H.264 (benchmarks/bench_decode_scale.py), that costs
about a tenth of swscale's ``reformat(format="gray")``, which also converts range and chroma it
does not need. Other pixel formats (RGB, palettes) go through swscale.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

from ..errors import InputError
from ..sinks import WarningSink
from .probe import Probe, open_container

try:  # optional compiled kernel (setup.py); the OpenCV + numpy path below gives the same bytes
    from . import _areakernel as _native
except ImportError:  # pragma: no cover - depends on the build
    _native = None

DEFAULT_ANALYSIS_SIZE = 320
DEFAULT_BATCH = 32
# Stop after this many consecutive undecodable packets: the rest of the file is noise.
MAX_CONSECUTIVE_ERRORS = 200


@dataclass(frozen=True)
class FrameBatch:
    """A run of consecutive analysis frames.

    Attributes
    ----------
    start : int
        0-based decode-order index of ``luma[0]``.
    pts : ndarray, shape (N,), int64
        Presentation timestamps in ``time_base`` units.
    luma : ndarray, shape (N, H, W), uint8
        Luma at analysis size, display orientation, square pixels, *as coded* (limited range
        16-235 unless the stream is full range; see :attr:`AnalysisGeometry.full_range`).
    time_base : Fraction
        Seconds per PTS tick.
    bgr : ndarray, shape (N, H, W, 3), uint8, optional
        Colour frames at the same size, only when requested (``color=True``): PySceneDetect's
        detectors need colour; our own analyzers do not, so the default skips that work.
    """

    start: int
    pts: np.ndarray
    luma: np.ndarray
    time_base: Fraction
    bgr: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.luma.shape[0])

    @property
    def indices(self) -> np.ndarray:
        return np.arange(self.start, self.start + len(self), dtype=np.int64)


@dataclass(frozen=True)
class AnalysisGeometry:
    """Size and orientation of analysis frames, derived from a :class:`Probe`."""

    width: int
    height: int
    rotation: int
    full_range: bool
    source_diagonal: float

    @property
    def diagonal(self) -> float:
        return float(np.hypot(self.width, self.height))

    @classmethod
    def for_probe(cls, probe: Probe, *, size: int = DEFAULT_ANALYSIS_SIZE) -> AnalysisGeometry:
        """Analysis frame: ``size`` px along the *long* side of the displayed frame, aspect
        kept, even dimensions, never upscaled."""
        if size < 16:
            raise ValueError(f"analysis size must be >= 16 px, got {size}")
        dw, dh = probe.display_width, probe.display_height
        long_side = min(size, max(dw, dh))
        scale = long_side / max(dw, dh)
        w = max(2, round(dw * scale / 2.0) * 2)
        h = max(2, round(dh * scale / 2.0) * 2)
        full = probe.color_range == "full" or probe.pix_fmt.startswith(("yuvj", "gray", "rgb", "bgr"))
        return cls(
            width=w,
            height=h,
            rotation=probe.rotation,
            full_range=full,
            source_diagonal=float(np.hypot(probe.display_width, probe.display_height)),
        )


def configure_stream(stream: av.VideoStream, *, threads: int = 0, fast: bool = False) -> None:
    """Threaded decoding; with ``fast``, skip work invisible at analysis size.

    ``skip_loop_filter`` drops H.264/HEVC deblocking: its effect is a few pixels wide at full
    resolution and vanishes after a 6x area downscale, while it costs ~20% of decode time.
    """
    stream.thread_type = "AUTO"
    if threads:
        stream.thread_count = threads
    if fast:
        stream.codec_context.options = {"skip_loop_filter": "all"}


def iter_frames(
    path: str,
    *,
    fast: bool = False,
    threads: int = 0,
    on_warning: WarningSink | None = None,
    stop: threading.Event | None = None,
) -> Iterator[av.VideoFrame]:
    """Decode the first video stream of ``path``, yielding frames in presentation order.

    Damaged packets are skipped with one warning per run of errors (decoding resumes at the
    next decodable frame); the file is given up only after ``MAX_CONSECUTIVE_ERRORS`` bad packets
    in a row.

    Raises
    ------
    InputError
        The file cannot be opened or holds no decodable video frame.
    """
    container = open_container(path)
    warn = on_warning or (lambda _msg: None)
    try:
        if not container.streams.video:
            raise InputError(path, "no video stream")
        stream = container.streams.video[0]
        configure_stream(stream, threads=threads, fast=fast)
        produced = 0
        consecutive = 0
        bad_total = 0
        corrupt = 0
        packets = container.demux(stream)
        while True:
            if stop is not None and stop.is_set():
                return
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                # Demuxer gave up (truncated file): flush what the decoder holds and stop.
                warn(f"{path}: container read stopped early ({_reason(exc)}); analysing what was read")
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                consecutive += 1
                bad_total += 1
                if consecutive == 1:
                    warn(f"{path}: undecodable data near frame {produced} ({_reason(exc)}); skipping")
                if consecutive >= MAX_CONSECUTIVE_ERRORS:
                    warn(f"{path}: {consecutive} bad packets in a row; stopping")
                    break
                continue
            consecutive = 0
            for frame in frames:
                produced += 1
                corrupt += frame.is_corrupt
                yield frame
        try:
            for frame in stream.decode(None):
                produced += 1
                corrupt += frame.is_corrupt
                yield frame
        except av.error.EOFError:
            pass  # the decoder was already drained
        except av.error.FFmpegError as exc:
            warn(f"{path}: decoder flush failed ({_reason(exc)})")
        if produced == 0:
            raise InputError(path, "no decodable video frame (file truncated or corrupt)")
        if bad_total:
            warn(f"{path}: {bad_total} damaged packet(s) skipped in total")
        if corrupt:
            warn(f"{path}: {corrupt} frame(s) decoded with errors concealed")
    finally:
        container.close()


def _reason(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).split(";")[0].strip()


_LUMA_PLANE_PREFIXES = ("yuv", "yuvj", "yuva", "nv12", "nv21", "nv16", "gray", "p010", "p016")


def luma_plane(frame: av.VideoFrame) -> np.ndarray:
    """Full-resolution luma of ``frame`` as a view (no copy) when the format allows.

    Returns
    -------
    ndarray, shape (height, width)
        ``uint8`` for 8-bit formats, ``uint16`` (native value range, e.g. 0-1023 for 10-bit)
        for deeper ones. Values are as coded: limited-range streams keep 16-235.
    """
    name = frame.format.name
    if not name.startswith(_LUMA_PLANE_PREFIXES):
        return frame.reformat(format="gray").to_ndarray()
    plane = frame.planes[0]
    bits = frame.format.components[0].bits
    if bits <= 8:
        arr = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)
    else:
        dtype = np.dtype("<u2") if name.endswith("le") or not name.endswith("be") else np.dtype(">u2")
        arr = np.frombuffer(plane, dtype=dtype).reshape(frame.height, plane.line_size // 2)
        if name.startswith(("p010", "p016")):
            arr = arr >> (16 - bits)
    return arr[:, : frame.width]


def luma_bit_depth(frame: av.VideoFrame) -> int:
    return int(frame.format.components[0].bits)


def analysis_luma(
    frame: av.VideoFrame, geometry: AnalysisGeometry, *, scratch: dict[tuple, np.ndarray] | None = None
) -> np.ndarray:
    """One frame's luma at analysis size and display orientation, ``uint8``.

    With ``scratch`` (see :func:`area_downscale`) the result may view a reused buffer: copy it
    before the next call.
    """
    y = luma_plane(frame)
    small = area_downscale(y, _resize_size(geometry), scratch=scratch)
    if small.dtype != np.uint8:
        small = (small >> (luma_bit_depth(frame) - 8)).astype(np.uint8)
    if geometry.rotation:
        # Display rotation is clockwise; np.rot90 turns counter-clockwise for positive k.
        small = np.rot90(small, k=-(geometry.rotation // 90))
    return small


def analysis_bgr(frame: av.VideoFrame, geometry: AnalysisGeometry) -> np.ndarray:
    """One frame in colour (BGR ``uint8``) at analysis size, display orientation (swscale)."""
    w, h = _resize_size(geometry)
    small = frame.reformat(width=w, height=h, format="bgr24", interpolation="AREA").to_ndarray()
    if geometry.rotation:
        small = np.rot90(small, k=-(geometry.rotation // 90))
    return small


def area_downscale(
    img: np.ndarray, size: tuple[int, int], *, scratch: dict[tuple, np.ndarray] | None = None
) -> np.ndarray:
    """Area-average ``img`` down to ``size`` (width, height).

    Halves with ``INTER_AREA`` while the image is at least twice the target in both axes, then
    finishes with one ``INTER_AREA`` step. OpenCV has a dedicated fast path for exact halving:
    1080p -> 320x180 costs 0.42 ms this way against 1.15 ms in one step (single thread,
    measured here), and the mean of block means equals the block mean up to rounding
    whenever the factor is an integer. A final integer step of 3x or more (1080p and 4K to
    320 px) goes through :func:`_block_mean_u8`, the same bytes at half the cost; with the
    optional C kernel built, the last halving and that step are one pass
    (:func:`_fused_last_steps`, the same bytes again).

    ``scratch``: a dict the caller keeps between calls; the steps then write into buffers kept
    there (same pixels). A fresh 960x540 result per 1080p frame cost ~0.2 ms of page faults,
    40% of the halving (``qa score`` does this for every source frame). The result may then view
    a buffer that the next call overwrites.
    """
    w, h = size
    while _halving_keeps_area(img.shape[1], img.shape[0], w, h):
        half = (img.shape[1] // 2, img.shape[0] // 2)
        fused = _fused_last_steps(img, half, size, scratch)
        if fused is not None:
            return fused
        img = cv2.resize(img, half, dst=_buffer(scratch, half, img.dtype), interpolation=cv2.INTER_AREA)
    if (img.shape[1], img.shape[0]) == (w, h):
        return img
    factor = img.shape[1] // w
    if img.dtype == np.uint8 and _BLOCK_MIN <= factor <= _BLOCK_MAX and img.shape == (h * factor, w * factor):
        return _block_mean_u8(img, factor)
    return cv2.resize(img, (w, h), dst=_buffer(scratch, (w, h), img.dtype), interpolation=cv2.INTER_AREA)


# Integer factors handled by _block_mean_u8: OpenCV's own 2x path is already vectorised (and
# rounds (sum + 2) >> 2, not half-to-even); 255 * 16**2 still fits the uint16 block sums.
_BLOCK_MIN = 3
_BLOCK_MAX = 16


def _block_mean_u8(img: np.ndarray, factor: int) -> np.ndarray:
    """``cv2.resize(img, ..., INTER_AREA)`` by an integer ``factor`` >= 3, byte for byte.

    OpenCV sums each ``factor`` x ``factor`` block in a scalar loop and rounds
    ``sum * (1.f / factor**2)`` half to even; here the block sums come from ``factor`` row-strided
    views added as ``uint16`` (vectorised) and then the columns of each block, and
    ``convertScaleAbs`` applies the same float scale and rounding. For 1080p that final 3x step
    costs half of OpenCV's (tests/test_decode_scale.py checks equality for every block sum).
    """
    rows = np.add(img[0::factor], img[1::factor], dtype=np.uint16)
    for k in range(2, factor):
        rows += img[k::factor]
    blocks = rows.reshape(rows.shape[0], rows.shape[1] // factor, factor)
    sums = blocks[..., 0] + blocks[..., 1]
    for k in range(2, factor):
        sums += blocks[..., k]
    return _mean_of_block_sums(sums, factor)


def _mean_of_block_sums(sums: np.ndarray, factor: int) -> np.ndarray:
    """OpenCV's rounding of an area mean: ``sum * (1.f / factor**2)``, half to even, as uint8."""
    return cv2.convertScaleAbs(sums, alpha=1.0 / (factor * factor))


def _fused_last_steps(
    img: np.ndarray, half: tuple[int, int], size: tuple[int, int], scratch: dict[tuple, np.ndarray] | None
) -> np.ndarray | None:
    """The last halving and the integer block mean after it in one pass of the C kernel, or
    None where that is not the next step (or the kernel is not built).

    Same bytes as ``cv2.resize`` to ``half`` then :func:`_block_mean_u8`: the kernel halves
    with OpenCV's exact-2x rounding ``(a + b + c + d + 2) >> 2`` and sums the blocks in integers;
    only the intermediate image is never written (~0.1 ms of ~0.5 ms per 1080p frame).
    """
    w, h = size
    hw, hh = half
    factor = hw // w
    if (
        _native is None
        or img.dtype != np.uint8
        or img.strides[1] != 1
        or img.shape != (2 * hh, 2 * hw)
        or not _BLOCK_MIN <= factor <= _BLOCK_MAX
        or (hh, hw) != (h * factor, w * factor)
        or _halving_keeps_area(hw, hh, w, h)
    ):
        return None
    sums = _buffer(scratch, size, np.dtype(np.uint16))
    if sums is None:
        sums = np.empty((h, w), np.uint16)
    _native.halve_block_sums(img, factor, sums)
    return _mean_of_block_sums(sums, factor)


def _buffer(
    scratch: dict[tuple, np.ndarray] | None, size: tuple[int, int], dtype: np.dtype
) -> np.ndarray | None:
    """The reused destination of one resize step to ``size`` (width, height), or None (allocate)."""
    if scratch is None:
        return None
    key = (size, dtype.str)
    buf = scratch.get(key)
    if buf is None:
        buf = scratch[key] = np.empty((size[1], size[0]), dtype)
    return buf


def _halving_keeps_area(src_w: int, src_h: int, w: int, h: int) -> bool:
    """Halve when the result still divides exactly into the target's blocks, or when the
    factor left is >= 4 (then the final step's fractional weights hardly matter)."""
    if src_w < 2 * w or src_h < 2 * h:
        return False
    exact = src_w % (2 * w) == 0 and src_h % (2 * h) == 0
    return exact or (src_w >= 4 * w and src_h >= 4 * h)


def _resize_size(geometry: AnalysisGeometry) -> tuple[int, int]:
    """cv2 (width, height) *before* rotation."""
    if geometry.rotation % 180:
        return geometry.height, geometry.width
    return geometry.width, geometry.height


class LumaBatcher:
    """Push-style batching: decoded frames in, a :class:`FrameBatch` out every ``batch_size``.

    The one place that turns full-resolution frames into analysis batches, for loops that
    decode for another purpose too (``preflight fix`` encodes, ``qa score`` compares) as well as
    for :func:`iter_luma_batches`. A frame without a PTS gets the previous PTS plus the last
    step seen, so time stays monotonic.
    """

    def __init__(
        self, geometry: AnalysisGeometry, *, batch_size: int = DEFAULT_BATCH, color: bool = False
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.geometry = geometry
        self.count = 0
        self._shape = (batch_size, geometry.height, geometry.width)
        self._color = color
        self._start = 0
        self._n = 0
        self._time_base: Fraction | None = None
        self._last_pts: int | None = None
        self._step = 1
        self._scratch: dict[tuple, np.ndarray] = {}  # resize buffers reused frame to frame
        self._new_buffers()

    def _new_buffers(self) -> None:
        # Fresh buffers per batch: consumers may keep a batch (e.g. one frame of context)
        # while the next one fills.
        self._luma = np.empty(self._shape, dtype=np.uint8)
        self._bgr = np.empty((*self._shape, 3), dtype=np.uint8) if self._color else None
        self._pts = np.empty(self._shape[0], dtype=np.int64)

    def add(self, frame: av.VideoFrame, pts: int | None = None) -> FrameBatch | None:
        """Take the next frame (``pts`` overrides ``frame.pts``); return a batch when one fills."""
        if self._time_base is None:
            self._time_base = Fraction(frame.time_base) if frame.time_base else Fraction(1, 1)
        p = pts if pts is not None else frame.pts
        if p is None:
            p = (self._last_pts + self._step) if self._last_pts is not None else 0
        elif self._last_pts is not None and p > self._last_pts:
            self._step = p - self._last_pts
        self._last_pts = p
        i = self._n
        self._luma[i] = analysis_luma(frame, self.geometry, scratch=self._scratch)
        if self._bgr is not None:
            self._bgr[i] = analysis_bgr(frame, self.geometry)
        self._pts[i] = p
        self._n += 1
        self.count += 1
        return self.flush() if self._n == self._shape[0] else None

    def flush(self) -> FrameBatch | None:
        """The partial batch collected so far, if any."""
        n = self._n
        if not n:
            return None
        assert self._time_base is not None
        batch = FrameBatch(
            start=self._start,
            pts=self._pts[:n],
            luma=self._luma[:n],
            time_base=self._time_base,
            bgr=self._bgr[:n] if self._bgr is not None else None,
        )
        self._start += n
        self._n = 0
        self._new_buffers()
        return batch


def iter_luma_batches(
    path: str,
    geometry: AnalysisGeometry,
    *,
    batch_size: int = DEFAULT_BATCH,
    fast: bool = True,
    color: bool = False,
    on_warning: WarningSink | None = None,
) -> Iterator[FrameBatch]:
    """Stream analysis-size luma in batches of ``batch_size`` frames (see :class:`LumaBatcher`).

    Memory is two batches at most, independent of clip length.
    """
    batcher = LumaBatcher(geometry, batch_size=batch_size, color=color)
    for frame in iter_frames(path, fast=fast, on_warning=on_warning):
        batch = batcher.add(frame)
        if batch is not None:
            yield batch
    batch = batcher.flush()
    if batch is not None:
        yield batch
