"""``preflight fix --service``: the request options, checked up front, and the files after the fix.

Order (nothing is written when a limit is broken): :func:`request_options` checks the services,
the prompt and ``--video-url`` before any decoding; :func:`plan_requests` builds and validates
every body from the plan before the segments are written (``fix`` passes it as the
``before_write`` hook; ``fix --dry-run`` calls it and writes nothing); :func:`write_fix_requests`
then builds the final bodies (data URIs need the written segments) and lists them in the manifest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..fix.anchors import AnchorSpec, place_anchors
from ..fix.manifest import Manifest
from ..fix.plan import Plan
from ..fix.segments import segment_names
from ..media.outputs import check_output_path
from ..media.probe import Probe
from .bodies import check_prompt, timing_warnings
from .cost import CostEstimate, estimate
from .requests import (
    REQUESTS_DIR,
    RequestFile,
    manifest_with_requests,
    parse_video_url,
    placeholder_count,
    prepare_requests,
    rewrite_manifest,
    segment_inputs,
    write_requests,
)
from .table import Service, parse_service

TIMELINE_NAME = "segments.otio"
EDL_NAME = "segments.edl"


@dataclass(frozen=True)
class RequestOptions:
    """``--service``/``--prompt``/``--video-url`` as validated."""

    services: tuple[Service, ...]
    prompt: str
    template: str | None


def request_options(
    services: Sequence[str], *, prompt: str | None, video_url: str | None
) -> RequestOptions | None:
    """Validate the options; ``None`` when no service was asked for.

    Raises
    ------
    UsageError
        Unknown service, no ``--prompt`` (or one without ``--service``), a prompt outside a
        service's limit, a bad ``--video-url``.
    """
    if not services:
        if prompt is not None or video_url is not None:
            raise UsageError("--prompt and --video-url need --service NAME")
        return None
    chosen = tuple(dict.fromkeys(parse_service(s) for s in services))
    if prompt is None:
        raise UsageError("--service needs --prompt TEXT (what the editor should do)")
    for s in chosen:
        check_prompt(s, prompt)
    template = parse_video_url(video_url) if video_url is not None else None
    return RequestOptions(services=chosen, prompt=prompt, template=template)


def plan_requests(
    opts: RequestOptions,
    plan: Plan,
    specs: Sequence[AnchorSpec],
    *,
    precision_s: float,
    names: Sequence[str],
    directory: Path | None,
) -> tuple[RequestFile, ...]:
    """Every body for ``plan`` (limits and schemas checked): see :func:`prepare_requests`."""
    return prepare_requests(
        opts.services,
        prompt=opts.prompt,
        specs=specs,
        plan=plan,
        precision_s=precision_s,
        names=names,
        template=opts.template,
        directory=directory,
        task_uuid=lambda: str(uuid.uuid4()),
    )


def requests_builder(
    opts: RequestOptions | None, specs: Sequence[AnchorSpec], *, stem: str, precision_s: float
) -> Callable[[Plan], tuple[RequestFile, ...]]:
    """``plan -> bodies`` (checked, not written; ``()`` without ``--service``): ``fix``'s
    ``before_write`` hook and the dry run's check."""

    def build(plan: Plan) -> tuple[RequestFile, ...]:
        if opts is None:
            return ()
        names = segment_names(stem, len(plan.segments))
        return plan_requests(opts, plan, specs, precision_s=precision_s, names=names, directory=None)

    return build


def request_notes(
    opts: RequestOptions | None,
    plan: Plan,
    specs: Sequence[AnchorSpec],
    requests: Sequence[RequestFile],
    *,
    precision_s: float,
    stem: str,
) -> list[str]:
    """Warnings for the user: lost anchor times, anchors without images, placeholders to fill."""
    if opts is None:
        return []
    names = segment_names(stem, len(plan.segments))
    placed = place_anchors(specs, plan, max_anchors=max(1, len(specs)), precision_s=precision_s)
    notes = timing_warnings(opts.services, segment_inputs(plan, placed, names))
    n = placeholder_count(requests)
    if n:
        notes.append(
            f"{n} request bod(ies) hold a '<UPLOAD ... HERE>' placeholder: upload the files and put their "
            "https URLs there, or give --video-url TEMPLATE with {file}"
        )
    return notes


def precheck_extras(
    out_dir: Path, source: str, opts: RequestOptions | None, *, force: bool, edl: bool
) -> None:
    """Refuse before any work when a timeline or request file of an earlier run would be replaced
    (without ``force``)."""
    if not out_dir.is_dir():
        return
    names = [TIMELINE_NAME, *([EDL_NAME] if edl else [])]
    folder = out_dir / REQUESTS_DIR
    if opts is not None and folder.is_dir():
        for s in opts.services:
            names += [f"{REQUESTS_DIR}/{p.name}" for p in folder.glob(f"*.{s.name}.json")]
    for name in names:
        if (out_dir / name).exists():
            check_output_path(out_dir / name, inputs=[source], force=force)


def write_extras(
    opts: RequestOptions | None,
    plan: Plan,
    specs: Sequence[AnchorSpec],
    result: Any,
    *,
    precision_s: float,
    source: str,
    probe: Probe,
    force: bool,
    edl: bool,
    on_warning: Callable[[str], None],
) -> dict[str, object]:
    """After ``fix_file`` (``result``: its ``FixResult``): the request bodies (``--service``), listed
    in the manifest, ``segments.otio`` and (``edl``) ``segments.edl``. Returns the paths written."""
    from ..timeline import segments_timeline, write_edl, write_otio

    out_dir = result.manifest_path.parent
    names = [p.name for p in result.segment_paths]
    extra: dict[str, object] = {}
    manifest: Manifest = result.manifest
    if opts is not None:
        paths, manifest, bodies = write_fix_requests(
            opts,
            plan,
            specs,
            precision_s=precision_s,
            names=names,
            out_dir=out_dir,
            manifest_path=result.manifest_path,
            manifest=manifest,
            force=force,
            source=source,
        )
        for message in request_notes(
            opts, plan, specs, bodies, precision_s=precision_s, stem=Path(source).stem
        ):
            on_warning(message)
        extra["requests"] = [str(p) for p in paths]
    timeline = segments_timeline(manifest, probe)
    write_otio(timeline, out_dir / TIMELINE_NAME)
    extra["otio"] = str(out_dir / TIMELINE_NAME)
    if edl:
        write_edl(timeline, out_dir / EDL_NAME)
        extra["edl"] = str(out_dir / EDL_NAME)
    return extra


def costs(opts: RequestOptions, plan: Plan) -> list[CostEstimate]:
    """Per chosen service: billed seconds and the estimate for one request per segment."""
    fps = plan.rate.fps
    durations = [float(s.frame_count / fps) for s in plan.segments]
    return [estimate(s, durations) for s in opts.services]


def write_fix_requests(
    opts: RequestOptions,
    plan: Plan,
    specs: Sequence[AnchorSpec],
    *,
    precision_s: float,
    names: Sequence[str],
    out_dir: Path,
    manifest_path: Path,
    manifest: Manifest,
    force: bool,
    source: str,
) -> tuple[list[Path], Manifest, tuple[RequestFile, ...]]:
    """Build the final bodies, write ``requests/``, and rewrite the manifest listing them."""
    requests = plan_requests(opts, plan, specs, precision_s=precision_s, names=names, directory=out_dir)
    paths = write_requests(out_dir, requests, force=force, inputs=[source])
    listed = manifest_with_requests(manifest, requests)
    rewrite_manifest(manifest_path, listed)
    return paths, listed, requests
