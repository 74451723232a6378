"""``preflight join``: edited segments back into one clip, in source order (the inverse of fix).

Each edited segment is checked against its source segment (duration within one frame), decoded
once, mapped by timestamp onto exactly its source segment's frames at the common rate (so an
editor that returns 24 fps for a 30 fps segment still lines up), scaled to the common size and
encoded into a single output. Audio comes from the edited segments (each cut or padded to its
segment's exact length, silence where a segment has none) or, with ``source_audio``, from the
source clip retimed as fix retimed its video. The output is written to a temporary file and
renamed only when complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import FailedError, InputError, PreflightError, UsageError, preview
from ..media.audio import AUDIO_LEAD_S, AudioSamples
from ..media.convert import FrameConverter, convert_mapped, map_frames
from ..media.decode import iter_frames
from ..media.encode import SegmentWriter
from ..media.outputs import atomic_path, check_output_path
from ..media.probe import VIDEO_EXTENSIONS, Probe, check_readable_file, probe
from ..sinks import ProgressSink, WarningLog, WarningSink
from .manifest import Manifest, Segment, load_manifest
from .plan import EncoderPlan, SizePlan, validate_encoder_options

OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov")
"""What ``join`` writes is MP4 data: the output name must say so."""


class SegmentMismatchError(FailedError, InputError):
    """Edited segments whose duration differs from their source segment by more than a frame."""


@dataclass(frozen=True)
class JoinedSegment:
    index: int
    edited: str
    edited_duration_s: float
    source_duration_s: float
    frames: int
    audio: str

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "edited": self.edited,
            "edited_duration_s": round(self.edited_duration_s, 4),
            "source_duration_s": round(self.source_duration_s, 4),
            "frames": self.frames,
            "audio": self.audio,
        }


@dataclass(frozen=True)
class JoinResult:
    output: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    audio: str
    segments: tuple[JoinedSegment, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "preflight.join/1",
            "output": str(self.output),
            "width": self.width,
            "height": self.height,
            "fps": str(self.fps),
            "frame_count": self.frame_count,
            "duration_s": round(float(Fraction(self.frame_count) / self.fps), 4),
            "audio": self.audio,
            "segments": [s.to_dict() for s in self.segments],
            "warnings": list(self.warnings),
        }


def find_edited(manifest: Manifest, edited_dir: str | os.PathLike[str]) -> list[Path]:
    """The edited file of every segment: the same name, or the same stem with another video
    extension (editors often return .mov). Missing ones are named together.

    Raises
    ------
    InputError
        ``edited_dir`` is not a directory, or segments are missing or ambiguous.
    """
    d = Path(edited_dir)
    if not d.is_dir():
        raise InputError(str(d), "edited segments directory does not exist")
    found: list[Path] = []
    missing: list[str] = []
    for seg in manifest.segments:
        exact = d / seg.file
        if exact.is_file():
            found.append(exact)
            continue
        stem = Path(seg.file).stem
        alts = sorted(p for p in d.glob(f"{stem}.*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())
        if len(alts) == 1:
            found.append(alts[0])
        elif len(alts) > 1:
            names = ", ".join(p.name for p in alts)
            raise InputError(str(d), f"segment {seg.index}: several candidates {names}")
        else:
            missing.append(seg.file)
    if missing:
        shown = ", ".join(preview(m, 40) for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(str(d), f"missing edited segment(s): {shown}{more}")
    return found


def _seconds(seg: Segment, fps: Fraction) -> float:
    """A segment's exact duration at the output rate ``fps``."""
    return float(Fraction(seg.frame_count) / fps)


def check_durations(
    manifest: Manifest, segments: Sequence[Segment], probes: Sequence[Probe]
) -> None:
    """Refuse segments whose duration differs from the source segment's by more than one frame.

    Raises
    ------
    SegmentMismatchError
        Naming every offending segment with both durations.
    """
    fps = manifest.output.fps
    frame = 1.0 / float(fps)
    bad = []
    for seg, p in zip(segments, probes, strict=True):
        want = _seconds(seg, fps)
        if abs(p.duration_s - want) > frame + 1e-6:
            bad.append(f"{Path(p.path).name} lasts {p.duration_s:.3f} s, its source segment {want:.3f} s")
    if bad:
        raise SegmentMismatchError(
            str(manifest.path.parent),
            f"edited segment(s) differ from their source segment by more than one frame "
            f"({frame * 1000:.1f} ms): " + "; ".join(bad),
        )


def _common_size(manifest: Manifest, probes: Sequence[Probe], warn: WarningSink) -> tuple[int, int]:
    sizes = {(p.display_width, p.display_height) for p in probes}
    if len(sizes) == 1:
        w, h = sizes.pop()
    else:
        w, h = max(sizes, key=lambda s: s[0] * s[1])
        warn(f"edited segments come in {len(sizes)} sizes; all scaled to {w}x{h} (the largest)")
    out = manifest.output
    if abs((w / h) / (out.width / out.height) - 1.0) > 0.02:
        warn(f"edited size {w}x{h} has another aspect than the source segments ({out.width}x{out.height})")
    return max(2, w // 2 * 2), max(2, h // 2 * 2)


def _join_audio(
    manifest: Manifest, probes: Sequence[Probe], *, source_audio: bool, warn: WarningSink
) -> tuple[AudioSamples | None, int | None, str | None, str]:
    """Where the joined clip's audio comes from: (source samples or None, rate, layout, mode);
    mode is ``source``, ``edited`` (the edited segments' own audio) or ``none``."""
    src_samples: AudioSamples | None = None
    rate: int | None = None
    layout: str | None = None
    if source_audio:
        sp = probe(manifest.source)
        if not sp.audio:
            raise InputError(manifest.source, "has no audio stream (drop --source-audio)")
        src_samples = AudioSamples(
            manifest.source, video_start_s=Fraction(sp.start_pts) * sp.time_base,
            retime=manifest.output.retime,
        )
        rate, layout = src_samples.rate, src_samples.layout
        audio_mode = "source"
    else:
        with_audio = [p for p in probes if p.audio]
        if with_audio:
            a = with_audio[0].audio[0]
            rate = a.sample_rate
            layout = "mono" if a.channels == 1 else "stereo"
            audio_mode = "edited"
            for p in probes:
                if not p.audio:
                    warn(f"{Path(p.path).name} has no audio: silence for that segment")
        else:
            audio_mode = "none"
            if _has_audio(manifest.source):
                warn("no edited segment has audio: the joined clip is silent "
                     "(--source-audio takes the audio of the source clip instead)")
    return src_samples, rate, layout, audio_mode


def _join_segment(
    writer: SegmentWriter,
    seg: Segment,
    path: Path,
    p: Probe,
    *,
    size: tuple[int, int],
    rate: int | None,
    layout: str | None,
    src_samples: AudioSamples | None,
    audio_mode: str,
    warn: WarningSink,
    progress: ProgressSink | None,
) -> tuple[JoinedSegment, int]:
    """Append one edited segment (conformed to the manifest's rate and ``size``) and its audio;
    returns its record and the frames written."""
    fps = writer.fps
    width, height = size
    seg_audio: AudioSamples | None = None
    if src_samples is None and rate is not None and p.audio:
        seg_audio = AudioSamples(
            str(path), video_start_s=Fraction(p.start_pts) * p.time_base, rate=rate, layout=layout
        )
    seg_first = round(Fraction(seg.start_frame) / fps * rate) if rate else 0
    seg_end = round(Fraction(seg.start_frame + seg.frame_count) / fps * rate) if rate else 0
    fed = seg_first
    geometry = SizePlan(
        display_width=p.display_width, display_height=p.display_height, rotation=p.rotation,
        sar=p.sar, scaled_width=width, scaled_height=height, width=width, height=height,
        crop=None, pad=None, reason="join",
    )
    mapped = map_frames(
        iter_frames(str(path), on_warning=warn), mode="resample", step=1, fps=fps,
        count=seg.frame_count, on_warning=warn, label=str(path),
    )
    written = 0
    for _m, frame in convert_mapped(mapped, FrameConverter(geometry), progress=progress, progress_every=1):
        writer.write_video(frame)
        written += 1
        if rate and writer.frames % 8 == 0:
            now = round(Fraction(writer.frames) / fps * rate)
            target = min(seg_end, now + round(AUDIO_LEAD_S * rate))
            fed = _feed(writer, seg_audio, src_samples, fed, target, rate, layout)
    if rate:
        fed = _feed(writer, seg_audio, src_samples, fed, seg_end, rate, layout)
    if seg_audio is not None:
        seg_audio.close()
    return JoinedSegment(
        index=seg.index, edited=str(path), edited_duration_s=p.duration_s,
        source_duration_s=_seconds(seg, fps), frames=seg.frame_count,
        audio=audio_mode if (audio_mode != "edited" or p.audio) else "silence",
    ), written


def run_join(
    manifest_path: str | os.PathLike[str],
    edited_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    force: bool = False,
    source_audio: bool = False,
    crf: int | None = None,
    preset: str | None = None,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> JoinResult:
    """Reassemble edited segments into ``output``.

    Raises
    ------
    ManifestError, InputError
        Invalid manifest, missing or unreadable edited segments, missing source (``source_audio``).
    SegmentMismatchError
        Durations off by more than a frame.
    OutputError
        ``output`` exists without ``force``, is an input, or cannot be written.
    """
    warn = WarningLog(on_warning)

    if Path(output).suffix.lower() not in OUTPUT_EXTENSIONS:
        raise UsageError(
            f"output {preview(os.fspath(output))}: join writes MP4 data, so the name must end in "
            f"{', '.join(OUTPUT_EXTENSIONS)}"
        )
    manifest = load_manifest(manifest_path)
    crf = manifest.crf if crf is None else crf
    preset = manifest.preset if preset is None else preset
    validate_encoder_options(crf=crf, preset=preset)
    edited = find_edited(manifest, edited_dir)
    inputs = [manifest.path, *edited]
    if source_audio:
        if not os.path.lexists(manifest.source):
            raise InputError(
                manifest.source, "source clip named in the manifest is missing (needed by --source-audio)"
            )
        check_readable_file(manifest.source)
        inputs.append(Path(manifest.source))
    out = check_output_path(output, inputs=inputs, force=force)
    probes = [probe(p) for p in edited]
    check_durations(manifest, manifest.segments, probes)
    width, height = _common_size(manifest, probes, warn)
    fps = manifest.output.fps
    encoder = EncoderPlan(crf=crf, preset=preset)

    src_samples, rate, layout, audio_mode = _join_audio(
        manifest, probes, source_audio=source_audio, warn=warn
    )

    joined: list[JoinedSegment] = []
    total = 0
    with atomic_path(out) as tmp:
        writer = SegmentWriter(
            tmp, encoder, width=width, height=height, fps=fps, audio_rate=rate, audio_layout=layout
        )
        try:
            for seg, path, p in zip(manifest.segments, edited, probes, strict=True):
                seg_joined, frames = _join_segment(
                    writer, seg, path, p, size=(width, height), rate=rate, layout=layout,
                    src_samples=src_samples, audio_mode=audio_mode, warn=warn, progress=progress,
                )
                joined.append(seg_joined)
                total += frames
            writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            if src_samples is not None:
                src_samples.close()
    return JoinResult(
        output=out, width=width, height=height, fps=fps, frame_count=total, audio=audio_mode,
        segments=tuple(joined), warnings=warn.messages,
    )


def _has_audio(path: str) -> bool:
    """``path`` is a readable clip with an audio stream (False when missing or unreadable)."""
    if not Path(path).is_file():
        return False
    try:
        return bool(probe(path).audio)
    except PreflightError:
        return False


def _feed(
    writer: SegmentWriter,
    seg_audio: AudioSamples | None,
    src_samples: AudioSamples | None,
    fed: int,
    target: int,
    rate: int,
    layout: str | None,
) -> int:
    """Write audio of the output timeline up to sample ``target``; returns the new position."""
    n = target - fed
    if n <= 0:
        return fed
    if src_samples is not None:
        block = src_samples.take(n)
    elif seg_audio is not None:
        block = seg_audio.take(n)
    else:
        channels = 1 if layout == "mono" else 2
        block = np.zeros((channels, n), dtype=np.float32)
    writer.write_audio(block)
    return target
