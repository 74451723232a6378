"""Edit regions: where the edit is allowed to change pixels, per source frame.

Kinds (``qa score`` takes one):

* :class:`StaticMask` — one mask image for the whole clip (``--mask``, white = edited).
* :class:`BoxRegion` — rectangles, each optionally limited to a time range (``--box``).
* :class:`MaskVideo` — a video whose frame *i* is the mask of source frame *i* (``--mask-video``).
* :class:`MaskDir` — a folder of images, the *i*-th in natural sort order for source frame *i*
  (``--mask-dir``).
* Auto-estimated regions live in :mod:`qa.autoregion`.

Every kind yields, for each source frame, a ``uint8`` 0/1 mask on the *scoring grid* (the source's
coded size in display orientation) or ``None`` for "nothing edited in this frame". Dilation by the
SSIM window radius happens later (:meth:`qa.ssim.SSIMKernel.prepare`), at the grid actually scored.

Mask size policy (documented in ``qa score --help``): a mask the size of the source grid or of the
source's displayed size is used as is; any other size **with the same aspect ratio (within 1%)**
is resampled to the grid with a warning, conservatively (a grid pixel counts as edited when any
part of it was); a mask with another aspect ratio is an error, because no resampling can say
where the edit was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

from preflight.errors import preview
from preflight.sinks import WarningSink

from .errors import MaskError, QAUsageError

MASK_THRESHOLD = 128
"""Mask pixels >= this (on 0-255) are edited: anti-aliased edges count from half coverage."""
ASPECT_TOLERANCE = 0.01
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")



@dataclass(frozen=True)
class Grid:
    """The scoring grid: the source's coded size in display orientation, and its displayed size.

    ``width``/``height`` are what the luma arrays are (coded, rotated); ``display_width``/
    ``display_height`` apply the sample aspect ratio too. Boxes in pixels refer to the displayed
    size, which is what a user sees in a player.
    """

    width: int
    height: int
    display_width: int
    display_height: int

    @property
    def aspect(self) -> float:
        return self.display_width / self.display_height


# --------------------------------------------------------------------------- boxes
@dataclass(frozen=True)
class Box:
    """A rectangle, in displayed pixels or as fractions (0-1) of the displayed size.

    ``t0``/``t1``: active time range in seconds from the first source frame (inclusive; ``None``
    = open end).
    """

    x: float
    y: float
    w: float
    h: float
    normalized: bool
    t0: float | None = None
    t1: float | None = None

    def active(self, t: float) -> bool:
        # Half a microsecond of slack: frame times are exact fractions printed as floats.
        return (self.t0 is None or t >= self.t0 - 5e-7) and (self.t1 is None or t <= self.t1 + 5e-7)

    def pixel_rect(self, grid: Grid) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` on the scoring grid, end-exclusive, clipped; conservative rounding."""
        if self.normalized:
            fx0, fy0, fx1, fy1 = self.x, self.y, self.x + self.w, self.y + self.h
        else:
            fx0, fx1 = self.x / grid.display_width, (self.x + self.w) / grid.display_width
            fy0, fy1 = self.y / grid.display_height, (self.y + self.h) / grid.display_height
        x0 = int(np.floor(fx0 * grid.width + 1e-9))
        y0 = int(np.floor(fy0 * grid.height + 1e-9))
        x1 = int(np.ceil(fx1 * grid.width - 1e-9))
        y1 = int(np.ceil(fy1 * grid.height - 1e-9))
        return max(0, x0), max(0, y0), min(grid.width, x1), min(grid.height, y1)

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"x": self.x, "y": self.y, "w": self.w, "h": self.h}
        d["normalized"] = self.normalized
        if self.t0 is not None or self.t1 is not None:
            d["t0"] = self.t0
            d["t1"] = self.t1
        return d


_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_BOX_RE = re.compile(
    rf"^\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*(?:@\s*({_NUM})?\s*-\s*({_NUM})?\s*)?$"
)


MAX_BOX_CHARS = 200
MAX_BOX_PIXELS = 1_000_000.0
"""Largest coordinate or size of a box in pixels (no video is that large)."""
MAX_BOX_SECONDS = 10_000_000.0


def parse_box(text: str) -> Box:
    """Parse ``x,y,w,h`` or ``x,y,w,h@t0-t1`` (seconds; either end may be omitted).

    All four numbers <= 1 means fractions of the displayed size (``0.25,0.25,0.5,0.5`` is the
    centre quarter); otherwise pixels of the displayed frame.

    Raises
    ------
    QAUsageError
        Malformed or over-long text, a number that is not finite or beyond
        :data:`MAX_BOX_PIXELS`/:data:`MAX_BOX_SECONDS`, non-positive size, negative position or
        time, or ``t1 < t0``.
    """
    shown = preview(text)
    if len(text) > MAX_BOX_CHARS:
        raise QAUsageError(f"--box {shown}: longer than {MAX_BOX_CHARS} characters: not a box")
    m = _BOX_RE.match(text)
    if not m:
        raise QAUsageError(
            f"--box {shown}: expected x,y,w,h or x,y,w,h@t0-t1 (pixels, or fractions 0-1; "
            "times in seconds, e.g. 100,50,320,240@1.5-4)"
        )
    x, y, w, h = (float(v) for v in m.group(1, 2, 3, 4))
    t0 = float(m.group(5)) if m.group(5) else None
    t1 = float(m.group(6)) if m.group(6) else None
    if not all(abs(v) <= MAX_BOX_PIXELS for v in (x, y, w, h)):
        raise QAUsageError(f"--box {shown}: x, y, w and h must be finite and at most {MAX_BOX_PIXELS:.0f} px")
    if not all(t is None or abs(t) <= MAX_BOX_SECONDS for t in (t0, t1)):
        raise QAUsageError(f"--box {shown}: times must be finite and at most {MAX_BOX_SECONDS:.0f} s")
    if w <= 0 or h <= 0:
        raise QAUsageError(f"--box {shown}: width and height must be > 0")
    if x < 0 or y < 0:
        raise QAUsageError(f"--box {shown}: x and y must be >= 0")
    if (t0 is not None and t0 < 0) or (t1 is not None and t1 < 0):
        raise QAUsageError(f"--box {shown}: times must be >= 0 s")
    if t0 is not None and t1 is not None and t1 < t0:
        raise QAUsageError(f"--box {shown}: end time {t1:g} s is before start time {t0:g} s")
    normalized = max(x, y, w, h) <= 1.0
    if normalized and (x + w > 1.0 + 1e-9 or y + h > 1.0 + 1e-9):
        raise QAUsageError(f"--box {shown}: a fractional box must lie within 0-1 (x + w <= 1, y + h <= 1)")
    return Box(x=x, y=y, w=w, h=h, normalized=normalized, t0=t0, t1=t1)


# --------------------------------------------------------------------------- mask images
def fit_mask(mask: np.ndarray, grid: Grid, *, name: str, warn: WarningSink | None = None) -> np.ndarray:
    """Bring a thresholded mask (``uint8`` 0/1) onto the scoring grid (see the module doc).

    Raises
    ------
    MaskError
        Aspect ratio differs from the source's by more than 1%.
    """
    h, w = mask.shape
    if (w, h) == (grid.width, grid.height):
        return mask
    if (w, h) != (grid.display_width, grid.display_height):
        aspect = w / h
        if abs(aspect / grid.aspect - 1.0) > ASPECT_TOLERANCE:
            raise MaskError(
                name,
                f"mask is {w}x{h} (aspect {aspect:.3f}) but the source is {grid.display_width}x"
                f"{grid.display_height} (aspect {grid.aspect:.3f}); make the mask the source's size",
            )
        if warn is not None:
            warn(
                f"{name}: mask is {w}x{h}, source is {grid.display_width}x{grid.display_height}: "
                "resampled (a pixel counts as edited if any part of it was)"
            )
    # Area resampling of 0/1 then "> 0" marks a grid pixel edited if any covered mask pixel was.
    interp = cv2.INTER_AREA if w >= grid.width and h >= grid.height else cv2.INTER_LINEAR
    scaled = cv2.resize(mask * np.uint8(255), (grid.width, grid.height), interpolation=interp)
    return (scaled > 0).astype(np.uint8)


def threshold_mask(gray: np.ndarray) -> np.ndarray:
    """White = edited: ``uint8`` 0/1 from a gray image (8- or 16-bit)."""
    if gray.dtype == np.uint16:
        return (gray >= MASK_THRESHOLD * 257).astype(np.uint8)
    if gray.dtype == np.bool_:
        return gray.astype(np.uint8)
    return (gray >= MASK_THRESHOLD).astype(np.uint8)


def read_mask_image(path: str | Path) -> np.ndarray:
    """Read a mask image as gray; alpha, if present, is ignored (white pixels mark the edit).

    Raises
    ------
    MaskError
        Missing or unreadable file.
    """
    p = Path(path)
    if not p.is_file():
        raise MaskError(str(path), "no such mask file" if not p.exists() else "is not a file")
    img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    if img is None:
        raise MaskError(str(path), "not a readable image (PNG, JPEG, BMP, TIFF or WebP expected)")
    return img


# --------------------------------------------------------------------------- region kinds
class RegionKind(str, Enum):
    """What a :class:`Region` is made of (its ``kind`` in the JSON report)."""

    NONE = "none"
    MASK = "mask"
    BOXES = "boxes"
    MASK_VIDEO = "mask_video"
    MASK_DIR = "mask_dir"


class Region:
    """Base of region kinds. ``open(grid, fps, frame_count, warn)`` once, then ``mask_at(i, t)``.

    Callers ask the region rather than test its class: :attr:`masks_repeat` (the same array object
    comes back for the same region, so work on it may be cached by identity), :attr:`empty_allowed`
    (frames without a region are normal), :meth:`nothing_left_error` and :meth:`union_mask`.
    """

    kind: RegionKind = RegionKind.NONE
    source_path: str | None = None
    masks_repeat: bool = False
    """``mask_at`` returns the very same array whenever the region is the same."""
    empty_allowed: bool = False
    """A frame without region is expected (boxes with time ranges), not a sign of a bad mask."""

    def nothing_left_error(self, message: str) -> Exception:
        """The error to raise when the region leaves nothing of the frame to score."""
        return MaskError(self.source_path or "mask", message)

    def union_mask(self) -> np.ndarray | None:
        """Union over time of the region on the grid (uint8 0/1), when known without decoding."""
        return None

    def open(self, grid: Grid, *, frame_count: int, warn: WarningSink | None = None) -> None:
        self.grid = grid

    def mask_at(self, index: int, t: float) -> np.ndarray | None:  # pragma: no cover - interface
        raise NotImplementedError

    def static(self) -> bool:
        """True when every frame has the same mask (so it is validated and prepared once)."""
        return False

    def close(self) -> None:
        """Release files (mask video)."""

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind.value}


class StaticMask(Region):
    """One mask image (white = edited) for every frame."""

    kind = RegionKind.MASK

    def __init__(self, path: str | Path):
        self.source_path = str(path)
        self._mask: np.ndarray | None = None

    def open(self, grid: Grid, *, frame_count: int, warn: WarningSink | None = None) -> None:
        super().open(grid, frame_count=frame_count, warn=warn)
        mask = threshold_mask(read_mask_image(self.source_path))
        if not mask.any():
            raise MaskError(
                self.source_path,
                "mask is empty (no white pixel marks the edit); omit the region option to score the "
                "whole frame",
            )
        self._mask = fit_mask(mask, grid, name=self.source_path, warn=warn)

    def static(self) -> bool:
        return True

    def mask_at(self, index: int, t: float) -> np.ndarray | None:
        return self._mask

    def union_mask(self) -> np.ndarray | None:
        return self._mask

    def describe(self) -> dict[str, object]:
        d: dict[str, object] = {"kind": self.kind.value, "path": self.source_path}
        if self._mask is not None:
            d["coverage_pct"] = round(100.0 * float(self._mask.mean()), 3)
        return d


class BoxRegion(Region):
    """Union of the boxes active at each frame's time."""

    kind = RegionKind.BOXES
    masks_repeat = True
    empty_allowed = True

    def __init__(self, boxes: list[Box]):
        if not boxes:
            raise ValueError("BoxRegion needs at least one box")
        self.boxes = list(boxes)
        self._cache: dict[tuple[int, ...], np.ndarray | None] = {}

    def open(self, grid: Grid, *, frame_count: int, warn: WarningSink | None = None) -> None:
        super().open(grid, frame_count=frame_count, warn=warn)
        for b in self.boxes:
            x0, y0, x1, y1 = b.pixel_rect(grid)
            if x1 <= x0 or y1 <= y0:
                raise QAUsageError(
                    f"--box {b.x:g},{b.y:g},{b.w:g},{b.h:g} lies outside the {grid.display_width}x"
                    f"{grid.display_height} frame"
                )

    def static(self) -> bool:
        return all(b.t0 is None and b.t1 is None for b in self.boxes)

    def mask_at(self, index: int, t: float) -> np.ndarray | None:
        key = tuple(i for i, b in enumerate(self.boxes) if b.active(t))
        if key not in self._cache:
            self._cache[key] = self._paint(key) if key else None
        return self._cache[key]

    def nothing_left_error(self, message: str) -> Exception:
        return QAUsageError(f"--box: {message}")

    def union_mask(self) -> np.ndarray | None:
        """All boxes, ignoring their time ranges."""
        return self._paint(range(len(self.boxes)))

    def _paint(self, indices: Iterable[int]) -> np.ndarray:
        m = np.zeros((self.grid.height, self.grid.width), np.uint8)
        for i in indices:
            x0, y0, x1, y1 = self.boxes[i].pixel_rect(self.grid)
            m[y0:y1, x0:x1] = 1
        return m

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind.value, "boxes": [b.to_dict() for b in self.boxes]}


class MaskVideo(Region):
    """A video of masks: frame *i* (decode order) is the region of source frame *i*.

    A mask video shorter than the source is an error when the pass reaches its end (a one-frame
    video — a still — applies to every frame). Decoded in the caller's thread, frame by frame.
    """

    kind = RegionKind.MASK_VIDEO

    def __init__(self, path: str | Path):
        self.source_path = str(path)
        self._frames: Iterator | None = None
        self._last: np.ndarray | None = None
        self._next_index = 0
        self._count = 0
        self._warn: WarningSink | None = None

    def open(self, grid: Grid, *, frame_count: int, warn: WarningSink | None = None) -> None:
        from preflight.errors import InputError
        from preflight.media.decode import iter_frames
        from preflight.media.probe import check_readable_file, open_container

        super().open(grid, frame_count=frame_count, warn=warn)
        self._warn = warn
        try:
            check_readable_file(self.source_path)
            with open_container(self.source_path) as c:
                if not c.streams.video:
                    raise MaskError(self.source_path, "has no video stream: not a mask video")
                st = c.streams.video[0]
                self._count = int(st.frames or 0)
        except InputError as exc:
            raise MaskError(self.source_path, exc.problem) from None
        if 1 < self._count < frame_count:
            # Fail before decoding anything when the container already says it is too short.
            raise MaskError(
                self.source_path,
                f"mask video has {self._count} frames but the source has {frame_count}; "
                "give one mask frame per source frame",
            )
        self._frames = iter_frames(self.source_path)
        self._warned_size = False

    def mask_at(self, index: int, t: float) -> np.ndarray | None:
        from preflight.errors import InputError

        assert self._frames is not None, "open() first"
        while self._next_index <= index:
            try:
                frame = next(self._frames)
            except StopIteration:
                if self._next_index == 1 and self._last is not None:
                    return self._last if self._last.any() else None  # a still mask
                raise MaskError(
                    self.source_path,
                    f"mask video ends after {self._next_index} frames but the source has more "
                    f"(needed frame {index}); give one mask frame per source frame",
                ) from None
            except InputError as exc:
                raise MaskError(self.source_path, exc.problem) from None
            gray = frame.to_ndarray(format="gray")
            mask = threshold_mask(gray)
            if not self._warned_size:
                self._warned_size = True
                fitted = fit_mask(mask, self.grid, name=self.source_path, warn=self._warn)
            else:
                fitted = fit_mask(mask, self.grid, name=self.source_path, warn=None)
            self._last = fitted
            self._next_index += 1
        assert self._last is not None
        return self._last if self._last.any() else None

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
            self._frames = None

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind.value, "path": self.source_path}


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


class MaskDir(Region):
    """A folder of mask images, one per source frame in natural sort order (``mask_2`` < ``mask_10``)."""

    kind = RegionKind.MASK_DIR

    def __init__(self, path: str | Path):
        self.source_path = str(path)
        self._files: list[Path] = []
        self._warned = False
        self._warn: WarningSink | None = None

    def open(self, grid: Grid, *, frame_count: int, warn: WarningSink | None = None) -> None:
        super().open(grid, frame_count=frame_count, warn=warn)
        d = Path(self.source_path)
        if not d.is_dir():
            raise MaskError(self.source_path, "is not a directory of mask images")
        self._files = sorted(
            (p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=_natural_key
        )
        if not self._files:
            raise MaskError(self.source_path, f"holds no mask images ({', '.join(IMAGE_SUFFIXES)})")
        if len(self._files) < frame_count:
            raise MaskError(
                self.source_path,
                f"holds {len(self._files)} mask images but the source has {frame_count} frames; "
                "give one mask per source frame",
            )
        self._warn = warn

    def mask_at(self, index: int, t: float) -> np.ndarray | None:
        if index >= len(self._files):
            raise MaskError(self.source_path, f"no mask image for source frame {index}")
        path = self._files[index]
        mask = threshold_mask(read_mask_image(path))
        fitted = fit_mask(mask, self.grid, name=str(path), warn=None if self._warned else self._warn)
        self._warned = True
        return fitted if fitted.any() else None

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind.value, "path": self.source_path, "files": len(self._files)}


def make_region(
    *,
    image: str | None = None,
    video: str | None = None,
    folder: str | None = None,
    boxes: Sequence[str] = (),
) -> Region | None:
    """The region named by one of a mask image, a mask video, a folder of per-frame masks or box
    texts (``x,y,w,h[@t0-t1]``, see :func:`parse_box`); ``None`` when none is given.

    Raises
    ------
    ValueError
        More than one kind given (callers say which options clash first).
    qa.errors.QAUsageError
        A malformed box.
    """
    given = [kind for kind in (image, video, folder, tuple(boxes)) if kind]
    if len(given) > 1:
        raise ValueError("make_region takes one region kind")
    if image:
        return StaticMask(image)
    if video:
        return MaskVideo(video)
    if folder:
        return MaskDir(folder)
    if boxes:
        return BoxRegion([parse_box(b) for b in boxes])
    return None


def downsample_region(mask: np.ndarray, factor: int) -> np.ndarray:
    """A region on a grid ``factor`` times coarser: a coarse pixel is edited if any of its block is.

    Block ``k`` covers fine pixels ``[k f - (f - 1) // 2, ...)`` like :func:`qa.ssim.wang_downsample`.
    """
    if factor == 1:
        return mask
    h, w = mask.shape
    oh, ow = -(-h // factor), -(-w // factor)
    lead = (factor - 1) // 2
    padded = np.zeros((oh * factor, ow * factor), np.uint8)
    src = mask[: oh * factor - lead, : ow * factor - lead]
    padded[lead : lead + src.shape[0], lead : lead + src.shape[1]] = src
    return padded.reshape(oh, factor, ow, factor).max(axis=(1, 3))
