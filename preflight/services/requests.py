"""From a fix plan to request files: ``DIR/requests/<segment file stem>.<service>.json``.

The glue between the plan (segments, placed anchors) and the pure body builders of
:mod:`preflight.services.bodies`: parsing ``--video-url``, referencing files (URL template, data
URI, or a marked placeholder), building and validating every body before anything is written,
writing them atomically and listing them in the manifest.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import mimetypes
import os
import string
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError, preview
from ..fix.anchors import AnchorSpec, PlacedAnchor, place_anchors
from ..fix.manifest import Manifest
from ..fix.plan import Plan
from ..media.outputs import atomic_path, check_output_path, write_text_atomic
from ..profile import Profile
from .bodies import SegmentAnchor, SegmentInput, build_body, request_name, validate_body
from .table import GEN4_SIZES, Service

REQUESTS_DIR = "requests"
PLACEHOLDER = "<UPLOAD {file} AND PUT ITS HTTPS URL HERE>"


def parse_video_url(text: str) -> str:
    """Validate a ``--video-url`` template: an https URL with ``{file}`` where the file name goes.

    Raises
    ------
    UsageError
        No ``{file}``, another ``{field}``, unbalanced braces, or not an https URL with a host.
    """
    how = "expected an https URL template with {file}, e.g. https://bucket.example/clips/{file}"
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
    except ValueError:
        raise UsageError(f"--video-url {preview(text)}: unbalanced braces; {how}") from None
    # exactly {file}: no other field, and no format spec or conversion ({file:d}, {file!x}, {file:>9e9})
    if not fields or any(field != ("file", "", None) for field in fields):
        raise UsageError(f"--video-url {preview(text)}: {how}")
    try:
        parts = urllib.parse.urlsplit(fill_template(text, "x.mp4"))
        parts.port  # noqa: B018  (raises ValueError for a port outside 0-65535)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise UsageError(f"--video-url {preview(text)}: {how}") from None
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in text):
        raise UsageError(f"--video-url {preview(text)}: {how}")
    return text


def fill_template(template: str, file: str) -> str:
    """``template`` with ``{file}`` replaced by the URL-quoted base name of ``file``."""
    return template.format(file=urllib.parse.quote(Path(file).name))


def data_uri_size(n_bytes: int, mime: str) -> int:
    """Length of the data URI of a file of ``n_bytes`` (base64)."""
    return len(f"data:{mime};base64,") + 4 * ((n_bytes + 2) // 3)


def uri_resolver(service: Service, *, template: str | None, directory: Path | None) -> Callable[[str], str]:
    """How ``service``'s bodies reference a file (segment name, or anchor image path).

    With ``template``: the URL where the user uploads it. Without: a data URI when the service
    documents one and the file exists (segments in ``directory``) and fits its limit for that kind
    of file (:meth:`~.table.Service.data_uri_limit`); else :data:`PLACEHOLDER`.
    """

    def uri_for(file: str) -> str:
        if template is not None:
            return fill_template(template, file)
        path = Path(file) if Path(file).is_absolute() or directory is None else directory / file
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        limit = service.data_uri_limit(mime)
        if limit is not None and path.is_file() and data_uri_size(path.stat().st_size, mime) <= limit:
            return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        return PLACEHOLDER.format(file=Path(file).name)

    return uri_for


def services_profile(profile: Profile, services: Sequence[Service]) -> tuple[Profile, list[str]]:
    """The profile ``fix`` uses for ``services``.

    A Gen-4 service renders only :data:`GEN4_SIZES`: when one is chosen and the profile allows
    other sizes, the size plan switches to those sizes (so one set of segments fits every chosen
    service) and a note says so. The services' own limits judge the anchors per request, so the
    profile's anchor count must not refuse them first: ``max_anchors`` is lifted to the largest
    count any chosen service accepts (``gen4-aleph`` allows none in time, but references exist).
    """
    notes = []
    changes: dict[str, Any] = {}
    gen4 = [s.name for s in services if s.gen4]
    if gen4 and (not profile.output_sizes or not set(profile.output_sizes) <= set(GEN4_SIZES)):
        changes["output_sizes"] = GEN4_SIZES
        notes.append(
            f"{', '.join(gen4)} render(s) only the Gen-4 sizes: the segments are conformed to the nearest "
            f"of them instead of the {profile.name} size plan"
        )
    if services:
        changes["max_anchors"] = max(profile.max_anchors, *(s.max_anchors for s in services))
    return (dataclasses.replace(profile, **changes) if changes else profile), notes


def prepare_requests(
    services: Sequence[Service],
    *,
    prompt: str,
    specs: Sequence[AnchorSpec],
    plan: Plan,
    precision_s: float,
    names: Sequence[str],
    template: str | None,
    directory: Path | None,
    task_uuid: Callable[[], str],
) -> tuple[RequestFile, ...]:
    """Place ``specs`` in ``plan`` and build every body (:func:`build_requests`).

    Anchors are placed without a count limit here so that a segment with too many anchors is
    refused by the service's own rule, naming the service.
    """
    placed = place_anchors(specs, plan, max_anchors=max(1, len(specs)), precision_s=precision_s)
    return build_requests(
        services,
        prompt=prompt,
        segments=segment_inputs(plan, placed, names),
        template=template,
        directory=directory,
        task_uuid=task_uuid,
    )


def segment_inputs(
    plan: Plan, anchors: Sequence[PlacedAnchor], names: Sequence[str]
) -> tuple[SegmentInput, ...]:
    """One :class:`SegmentInput` per planned segment, with its placed anchors."""
    fps = plan.rate.fps
    return tuple(
        SegmentInput(
            index=seg.index,
            file=name,
            duration_s=float(seg.frame_count / fps),
            width=plan.size.width,
            height=plan.size.height,
            anchors=tuple(
                SegmentAnchor(spec=a.spec, at=a.at, time_s=a.time_s, image=a.image)
                for a in anchors
                if a.segment == seg.index
            ),
        )
        for seg, name in zip(plan.segments, names, strict=True)
    )


@dataclass(frozen=True)
class RequestFile:
    """One body to write: ``requests/<name>``."""

    service: str
    segment: int
    name: str
    body: Any

    def text(self) -> str:
        return json.dumps(self.body, indent=2, ensure_ascii=False) + "\n"


def build_requests(
    services: Sequence[Service],
    *,
    prompt: str,
    segments: Sequence[SegmentInput],
    template: str | None,
    directory: Path | None,
    task_uuid: Callable[[], str],
) -> tuple[RequestFile, ...]:
    """Every (segment, service) body, each checked against its limits and its schema.

    Raises
    ------
    UsageError
        The first limit or schema rule broken, naming the service.
    """
    out = []
    for service in services:
        uri_for = uri_resolver(service, template=template, directory=directory)
        for seg in segments:
            body = build_body(service, prompt=prompt, segment=seg, uri_for=uri_for, task_uuid=task_uuid())
            validate_body(service, body)
            out.append(RequestFile(service.name, seg.index, request_name(seg, service), body))
    return tuple(out)


def placeholder_count(requests: Sequence[RequestFile]) -> int:
    """How many bodies still hold a :data:`PLACEHOLDER` to fill in by hand."""
    return sum("<UPLOAD " in r.text() for r in requests)


def write_requests(
    out_dir: Path, requests: Sequence[RequestFile], *, force: bool, inputs: Sequence[str] = ()
) -> list[Path]:
    """Write the bodies into ``out_dir/requests/`` (checked first, then each atomically)."""
    folder = Path(out_dir) / REQUESTS_DIR
    folder.mkdir(exist_ok=True)
    paths = [folder / r.name for r in requests]
    for p in paths:
        check_output_path(p, inputs=inputs, force=force)
    for p, r in zip(paths, requests, strict=True):
        with atomic_path(p) as tmp:
            tmp.write_text(r.text(), encoding="utf-8")
    return paths


def manifest_with_requests(manifest: Manifest, requests: Sequence[RequestFile]) -> Manifest:
    """``manifest`` with each segment listing its request files (``requests``: paths relative to
    the manifest, by service)."""
    segments = tuple(
        dataclasses.replace(
            seg, requests={r.service: f"{REQUESTS_DIR}/{r.name}" for r in requests if r.segment == seg.index}
        )
        for seg in manifest.segments
    )
    return dataclasses.replace(manifest, segments=segments)


def rewrite_manifest(path: str | os.PathLike[str], manifest: Manifest) -> None:
    """Replace the manifest file atomically with ``manifest``, in the one format ``fix`` writes
    (:meth:`preflight.fix.manifest.Manifest.to_json`)."""
    write_text_atomic(path, manifest.to_json())
