"""Turn the INPUT arguments of a batch into a list of files, finding videos by content.

A named file is always an item (a broken one gets an ``error`` line, which is what the user wants
to hear about). A directory is searched recursively; a file in it is an item when its extension
is a video extension *or* its first bytes are the signature of a video container (an MP4 saved
without extension, a Matroska file named ``.bin``). A glob (``*``, ``?``, ``[``; ``**`` recurses)
expands to the files it matches. Hidden files and folders (``.name``) are skipped in directories.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence

from ..errors import UsageError
from ..media.probe import VIDEO_EXTENSIONS

# Files named with one of VIDEO_EXTENSIONS are taken as video without looking inside (even when
# empty or broken); other files are sniffed: their first SNIFF_BYTES.
SNIFF_BYTES = 1024
_GLOB_CHARS = frozenset("*?[")


def is_glob(text: str) -> bool:
    """Whether ``text`` holds a glob character (``*``, ``?``, ``[``)."""
    return bool(_GLOB_CHARS & set(text))


def looks_like_video(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts like a video container or stream.

    Recognises ISO BMFF / QuickTime (``ftyp``, ``moov``, ``mdat``, ``free``, ``wide`` box at offset
    4), Matroska/WebM (EBML), AVI, ASF/WMV, FLV, Ogg, YUV4MPEG2, MPEG program stream, MPEG
    transport stream (sync byte every 188 bytes), IVF and raw H.264/HEVC Annex B start codes.
    Audio-only containers of the same families pass too; ``check`` then reports "no video stream".
    """
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return True
    if head.startswith(
        (
            b"\x1a\x45\xdf\xa3",
            b"FLV\x01",
            b"OggS",
            b"YUV4MPEG2",
            b"DKIF",
            b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",
            b"\x00\x00\x01\xba",
        )
    ):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    if len(head) >= 377 and head[0] == head[188] == head[376] == 0x47:
        return True
    return head.startswith((b"\x00\x00\x00\x01\x67", b"\x00\x00\x00\x01\x40", b"\x00\x00\x00\x01\x09"))


def is_video_candidate(path: str) -> bool:
    """Extension in :data:`VIDEO_EXTENSIONS`, or content that :func:`looks_like_video`."""
    if os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as f:
            return looks_like_video(f.read(SNIFF_BYTES))
    except OSError:
        return False


def _walk(root: str) -> Iterable[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield os.path.join(dirpath, name)


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """The files a batch runs on, in argument order then sorted path order, without repeats.

    Raises
    ------
    preflight.errors.UsageError
        No inputs, or a glob or directory that yields no file.
    """
    if not inputs:
        raise UsageError("give at least one input file, directory or glob")
    found: dict[str, None] = {}
    for item in inputs:
        if os.path.isdir(item):
            videos = [p for p in _walk(item) if is_video_candidate(p)]
            if not videos:
                raise UsageError(f"{item}: no video files in this directory")
            found.update(dict.fromkeys(videos))
        elif os.path.lexists(item) or not is_glob(item):
            found[item] = None  # a named file, even missing: its line says why it failed
        else:
            matches = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"{item}: the pattern matches no file")
            found.update(dict.fromkeys(matches))
    return list(found)
