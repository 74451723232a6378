"""Assemble the segments of a fix from the single-pass intermediate stream: whole closed GOPs are
copied, only the GOP that straddles a segment boundary is re-encoded (:func:`split_intermediate`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..check.shots import Transition
from ..media.encode import SegmentWriter, SpliceError, prepare_frame
from ..media.h264 import Gop, IntermediateStream, annexb_to_length_prefixed, chunk_encoder
from ..media.probe import Probe
from ..sinks import ProgressSink
from .plan import Plan
from .segments import AudioFeed, SegmentResult, abort_on_failure, complete_segment


@dataclass(frozen=True)
class PassResult:
    """What the single pass measured and wrote."""

    transitions: tuple[Transition, ...]
    decoded_frames: int
    source_index: np.ndarray  # (N_out,) int64: decoded source frame shown at each output frame
    source_pts: np.ndarray  # (N_out,) int64: its PTS
    extradata: bytes  # Annex B SPS/PPS of the intermediate's encoder
    warnings: tuple[str, ...]


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
    src = IntermediateStream(intermediate, rate.fps)
    audio = AudioFeed(plan, probe_result)
    results: list[SegmentResult] = []
    writer: SegmentWriter | None = None
    with contextlib.closing(src), abort_on_failure(audio, lambda: writer):
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
            results.append(complete_segment(writer, audio, seg, first=first, last=last))
            writer = None
    return results


def _reencode(
    src: IntermediateStream,
    gop: Gop,
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
    cc = chunk_encoder(plan.encoder, plan.size.width, plan.size.height, fps)
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


