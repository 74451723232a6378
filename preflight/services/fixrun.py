"""``preflight fix --service``: the request options, checked up front, and the files after the fix.

Order (nothing is written when a limit is broken): :func:`request_options` checks the services,
the prompt and ``--video-url`` before any decoding; :func:`plan_requests` builds and validates
every body from the plan before the segments are written (``fix`` passes it as the
``before_write`` hook; ``fix --dry-run`` calls it and writes nothing); :func:`write_fix_requests`
then builds the final bodies (data URIs need the written segments) and lists them in the manifest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..manifest import AnchorSpec
from ..plan import Plan
from .bodies import check_prompt, timing_warnings
from .cost import CostEstimate, estimate
from .requests import (
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


def request_notes(
    opts: RequestOptions,
    plan: Plan,
    specs: Sequence[AnchorSpec],
    requests: Sequence[RequestFile],
    *,
    precision_s: float,
    names: Sequence[str],
) -> list[str]:
    """Warnings for the user: lost anchor times, anchors without images, placeholders to fill."""
    from ..manifest import place_anchors

    placed = place_anchors(specs, plan, max_anchors=max(1, len(specs)), precision_s=precision_s)
    notes = timing_warnings(opts.services, segment_inputs(plan, placed, names))
    n = placeholder_count(requests)
    if n:
        notes.append(
            f"{n} request bod(ies) hold a '<UPLOAD ... HERE>' placeholder: upload the files and put their "
            "https URLs there, or give --video-url TEMPLATE with {file}"
        )
    return notes


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
    manifest: Mapping[str, Any],
    force: bool,
    source: str,
) -> tuple[list[Path], dict[str, Any], tuple[RequestFile, ...]]:
    """Build the final bodies, write ``requests/``, and rewrite the manifest listing them."""
    requests = plan_requests(opts, plan, specs, precision_s=precision_s, names=names, directory=out_dir)
    paths = write_requests(out_dir, requests, force=force, inputs=[source])
    doc = manifest_with_requests(manifest, requests)
    rewrite_manifest(manifest_path, doc)
    return paths, doc, requests
