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
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..check.shot_tracker import ShotTracker
from ..check.shots import Transition
from ..media.convert import FrameConverter, Mapped, convert_mapped, map_frames, timed
from ..media.decode import iter_frames
from ..media.deinterlace import deinterlaced
from ..media.encode import SegmentWriter, SpliceError, add_video_stream, open_output, prepare_frame
from ..media.outputs import check_output_path, make_temp, reraise_as_storage_error
from ..media.probe import Probe
from ..profile import Profile
from ..sinks import ProgressSink, WarningLog, WarningSink
from .manifest import Manifest
from .plan import Plan
from .segments import (
    MANIFEST_NAME,
    AudioFeed,
    SegmentResult,
    abort_on_failure,
    claim_output_dir,
    complete_segment,
    precheck_output_dir,
    prepare_output_dir,
    segment_names,
    write_segment_set,
)
from .splice import PassResult, split_intermediate


def transitions_for(
    path: str,
    *,
    probe_result: Probe | None = None,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> tuple[tuple[Transition, ...], int]:
    """Transitions and decodable frame count of ``path`` from ``preflight check``'s analysis.

    The import is local so this module loads even where the analysis stack is unavailable.
    """
    from ..check.analyze import analyze

    result = analyze(path, probe_result=probe_result, progress=progress, on_warning=on_warning)
    return tuple(result.transitions), int(result.frame_count)


def plan_fix(
    path: str,
    *,
    profile: str | os.PathLike[str] | Profile = "aleph-2",
    probe_result: Probe | None = None,
    crf: int = 18,
    preset: str = "medium",
    aspect: str | None = None,
    merge_ranges: Sequence[tuple[float, float]] = (),
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> Plan:
    """What ``fix`` would do to ``path`` (``preflight fix --dry-run``): one analysis decode, then
    the plan. Writes nothing; a clip that cannot be fixed gives a plan with ``problem`` set.

    Raises
    ------
    UsageError
        Unknown profile, CRF or preset out of range.
    InputError
        Unreadable or invalid input.
    """
    from ..media.probe import probe
    from ..profile import load_profile
    from .plan import make_plan, validate_encoder_options

    validate_encoder_options(crf=crf, preset=preset)
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    info = probe_result or probe(path)
    transitions, frame_count = transitions_for(
        path, probe_result=info, progress=progress, on_warning=on_warning
    )
    return make_plan(info, transitions, profile, frame_count=frame_count, crf=crf, preset=preset,
                     aspect=aspect, merge_ranges=merge_ranges)


def _output_frames(
    plan: Plan,
    frames: Iterator[av.VideoFrame],
    *,
    on_warning: WarningSink,
    progress: ProgressSink | None,
) -> Iterator[tuple[Mapped, av.VideoFrame]]:
    """The plan's output frames from the source's decoded ``frames``: deinterlaced when the plan
    says the source is interlaced, mapped onto the output rate and converted to the output size."""
    enc, rate = plan.encoder, plan.rate
    if enc.deinterlace:
        frames = deinterlaced(frames, parity=enc.deinterlace)
    mapped = map_frames(frames, mode=rate.mode, step=rate.step, fps=rate.fps, count=rate.frame_count,
                        on_warning=on_warning, label=plan.source)
    return convert_mapped(mapped, FrameConverter(plan.size, tonemap=enc.tonemap), progress=progress)


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
    results: list[SegmentResult] = []
    writer: SegmentWriter | None = None
    seg_i = -1
    first: tuple[int, int] | None = None
    last_src: tuple[int, int] = (0, 0)

    def finish_segment() -> None:
        nonlocal writer, first
        assert writer is not None and first is not None
        results.append(complete_segment(writer, audio, plan.segments[seg_i], first=first, last=last_src))
        writer = None
        first = None

    with abort_on_failure(audio, lambda: writer):
        frames = iter_frames(plan.source, on_warning=warn)
        for m, frame in _output_frames(plan, frames, on_warning=warn, progress=progress):
            while seg_i < 0 or m.k >= plan.segments[seg_i].end_frame:
                if writer is not None:
                    finish_segment()
                seg_i += 1
                writer = SegmentWriter(
                    paths[seg_i], enc, width=size.width, height=size.height, fps=rate.fps,
                    **audio.writer_options(),  # type: ignore[arg-type]
                )
            assert writer is not None
            if first is None:
                first = (m.index, m.pts)
            last_src = (m.index, m.pts)
            writer.write_video(frame)
            if writer.frames % 8 == 0:
                audio.feed(writer, plan.segments[seg_i], final=False)
        if writer is not None:
            finish_segment()
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
    warn = WarningLog(on_warning)

    rate, size, enc = plan.rate, plan.size, plan.encoder
    detector = ShotTracker(probe_result)

    def tapped() -> Iterator[av.VideoFrame]:
        for _i, pts, _t, frame in timed(iter_frames(plan.source, on_warning=warn)):
            detector.add(frame, pts)
            if frame.pts is None:
                frame.pts = pts  # so the frame mapping sees the same filled-in time
            yield frame

    n_out = rate.frame_count
    src_index = np.zeros(n_out, dtype=np.int64)
    src_pts = np.zeros(n_out, dtype=np.int64)
    container = open_output(intermediate)
    try:
        stream = add_video_stream(container, enc, width=size.width, height=size.height, fps=rate.fps)
        time_base = Fraction(1, 1) / rate.fps
        # The detector sees the frames as decoded (at its 320-px analysis size combing is gone
        # anyway); the encoder gets them deinterlaced when the source is interlaced.
        for m, frame in _output_frames(plan, tapped(), on_warning=warn, progress=progress):
            src_index[m.k], src_pts[m.k] = m.index, m.pts
            for packet in stream.encode(prepare_frame(frame, m.k, time_base)):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        extradata = bytes(stream.codec_context.extradata or b"")
    finally:
        container.close()
    return PassResult(
        transitions=detector.finish(), decoded_frames=detector.count, source_index=src_index,
        source_pts=src_pts, extradata=extradata, warnings=warn.messages,
    )


@dataclass(frozen=True)
class FixResult:
    """What a fix did: the plan it carried out, the files it wrote and the manifest saved beside
    them (whose ``anchors`` are the placed anchors)."""

    plan: Plan
    manifest_path: Path
    segment_paths: tuple[Path, ...]
    manifest: Manifest

    @property
    def anchors(self) -> list[dict[str, object]]:
        """The placed anchors, as recorded in the manifest."""
        return [a.to_dict() for a in self.manifest.anchors]


def _remove_if_created(out_dir: Path, created: bool) -> None:
    """Remove the output directory this run created, if nothing else is inside (after a failure)."""
    if created:
        with contextlib.suppress(OSError):
            out_dir.rmdir()


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

    ``anchors`` are parsed :class:`preflight.fix.anchors.AnchorSpec` s (placed and validated before
    any file is touched).

    Raises
    ------
    OutputError
        Output directory unusable, an output would overwrite the input, or exists without ``force``.
    """
    from .anchors import place_anchors
    from .manifest import build_manifest

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
        with claim_output_dir(out_dir, stem, on_warning):
            manifest_path, finals, manifest = write_segment_set(
                out_dir, names, source=plan.source, force=force,
                write=lambda tmps: transcode(
                    plan, tmps, probe_result=probe_result, progress=progress, on_warning=on_warning
                ),
                describe=lambda results: build_manifest(plan, probe_result, results, names, placed),
                on_warning=on_warning,
            )
    except BaseException:
        _remove_if_created(out_dir, created)
        raise
    return FixResult(plan=plan, manifest_path=manifest_path, segment_paths=tuple(finals), manifest=manifest)


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
        As :func:`run_fix`, :func:`preflight.fix.anchors.place_anchors`, :func:`preflight.media.probe.probe`.
    """
    from ..media.probe import probe
    from .anchors import check_anchor_range, place_anchors
    from .manifest import build_manifest
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
        claim.enter_context(claim_output_dir(out_dir, stem, on_warning))
        intermediate = make_temp(out_dir, stem, suffix=".intermediate.mp4")
    except BaseException:
        claim.close()
        _remove_if_created(out_dir, created)
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

        manifest_path, finals, manifest = write_segment_set(
            out_dir, names, source=path, force=force, write=write,
            describe=lambda results: build_manifest(plan, info, results, names, placed),
            on_warning=on_warning,
        )
    except BaseException as exc:
        with contextlib.suppress(OSError):
            intermediate.unlink()
        claim.close()
        _remove_if_created(out_dir, created)
        reraise_as_storage_error(out_dir, exc)  # a full disk is no bug: exit 2, not 4
    with contextlib.suppress(OSError):
        intermediate.unlink()
    claim.close()
    result = FixResult(plan=plan, manifest_path=manifest_path, segment_paths=tuple(finals), manifest=manifest)
    return plan, result
