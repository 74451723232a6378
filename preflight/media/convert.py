"""Decoded frame -> output frame: rotation, square pixels, crop or pad, tone mapping, 8-bit
yuv420p (:class:`FrameConverter`, one FFmpeg filter graph), the mapping of decoded frames onto
an output frame rate (:func:`map_frames`), and the two together (:func:`convert_mapped`).

Used by ``fix`` (every segment) and ``join`` (edited segments conformed to the source's size).
The geometry comes in as any object with the :class:`FrameGeometry` fields (``fix``'s
``SizePlan``), so this module needs nothing from the planner.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av

from ..errors import InputError
from ..sinks import ProgressSink, WarningSink
from .filters import video_chain


class FrameGeometry(Protocol):
    """What :class:`FrameConverter` needs to know about the output picture."""

    rotation: int
    scaled_width: int
    scaled_height: int
    width: int
    height: int
    crop: tuple[int, int] | None
    pad: tuple[int, int] | None

    @property
    def identity(self) -> bool: ...


# FFmpeg filter chain pieces that turn a clockwise display rotation into pixels.
_ROTATE = {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}


@contextlib.contextmanager
def _cube_file(transfer: str) -> Iterator[Path]:
    """The HDR -> SDR LUT of ``transfer`` as a temporary .cube file, removed afterwards."""
    from .tonemap import sdr_lut, write_cube

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
        size: FrameGeometry,
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
            # HDR -> SDR (preflight.media.tonemap): scale in 16-bit R'G'B' (BT.2020 matrix), map through
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


def timed(frames: Iterable[av.VideoFrame]) -> Iterator[tuple[int, int, Fraction, av.VideoFrame]]:
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
    for index, pts, t, frame in timed(frames):
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


def convert_mapped(
    mapped: Iterable[Mapped],
    convert: Callable[[av.VideoFrame], av.VideoFrame],
    *,
    progress: ProgressSink | None = None,
    progress_every: int = 16,
) -> Iterator[tuple[Mapped, av.VideoFrame]]:
    """The frames of :func:`map_frames` converted: ``(mapping, converted frame)``.

    A source frame shown several times in a row (``repeat``, ``resample``) is converted once.
    ``progress`` gets the number of frames the caller has finished with (those it asked the
    next one after), in batches of ``progress_every``, and the rest at the end.
    """
    if progress_every < 1:
        raise ValueError(f"progress_every must be >= 1, got {progress_every}")
    cache: tuple[int, av.VideoFrame] | None = None
    pending = 0
    for m in mapped:
        if cache is None or cache[0] != m.index:
            cache = (m.index, convert(m.frame))
        yield m, cache[1]
        pending += 1
        if progress is not None and pending >= progress_every:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)
