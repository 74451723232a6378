"""The segments of a fix as one set of files: each segment's audio fed as its video advances
(:class:`AudioFeed`), what was written (:class:`SegmentResult`), the segments and manifest renamed
into place together (:func:`write_segment_set`), and the output directory: default name,
validation, lock and leftovers of killed runs."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import OutputError
from ..media.audio import AUDIO_LEAD_S, AudioPackets, AudioSamples
from ..media.encode import SegmentWriter
from ..media.outputs import (
    atomic_path,
    check_output_path,
    is_unchanged,
    output_lock,
    remove_stale_temporaries,
    same_file,
    temp_name_pattern,
)
from ..media.probe import VIDEO_EXTENSIONS, Probe
from ..sinks import WarningSink
from .manifest import Manifest
from .plan import Plan, SegmentPlan


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


def complete_segment(
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
def abort_on_failure(audio: AudioFeed, current: Callable[[], SegmentWriter | None]) -> Iterator[None]:
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


def segment_names(stem: str, count: int) -> list[str]:
    """File names of the segments: ``<stem>_fixed.mp4``, or ``<stem>_seg01.mp4``... when split."""
    if count == 1:
        return [f"{stem}_fixed.mp4"]
    width = max(2, len(str(count)))
    return [f"{stem}_seg{i:0{width}d}.mp4" for i in range(1, count + 1)]


MANIFEST_NAME = "manifest.json"


def write_segment_set(
    out_dir: Path,
    names: Sequence[str],
    *,
    source: str,
    force: bool,
    write: Callable[[list[Path]], list[SegmentResult]],
    describe: Callable[[list[SegmentResult]], Manifest],
    on_warning: WarningSink | None,
) -> tuple[Path, list[Path], Manifest]:
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
        tmp_manifest.write_text(manifest.to_json(), encoding="utf-8")
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
def claim_output_dir(out_dir: Path, stem: str, on_warning: WarningSink | None) -> Iterator[None]:
    """Be the only run writing to ``out_dir`` (:func:`preflight.media.outputs.output_lock`) and remove
    the temporaries an earlier, killed run of the same output left there."""
    with output_lock(out_dir):
        removed = remove_stale_temporaries(out_dir, _temp_pattern(stem))
        if removed and on_warning is not None:
            names = ", ".join(removed)
            on_warning(f"removed {len(removed)} temporary file(s) an interrupted run left: {names}")
        yield


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


