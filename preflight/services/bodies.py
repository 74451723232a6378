"""Request bodies for the editor services: limits, construction, schema validation.

Pure functions: a segment (its file name, duration, size and its anchors in segment time), a
prompt and a way to reference files (:data:`UriFor`) go in; the body the service documents comes
out. Every limit is checked before a body is built (:func:`check_limits`), and every body is
validated against the service's JSON Schema shipped in ``preflight/services/schemas/``
(:func:`validate_body`) before anyone writes it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..errors import UsageError
from .table import (
    GEN4_SIZES,
    MAX_TIMESTAMP_S,
    PROMPT_MAX_CHARS,
    PROMPT_MIN_CHARS,
    TIMESTAMP_STEP_S,
    AnchorStyle,
    Service,
    SizeStyle,
)

#: Maps a file (a segment file name or an anchor image path) to the string the body holds.
UriFor = Callable[[str], str]


@dataclass(frozen=True)
class SegmentAnchor:
    """An anchor in segment time: ``at`` is ``first``, ``last`` or ``time``; ``time_s`` is rounded
    to 0.01 s; ``image`` is the anchor image path (``None``: a time marker without an image)."""

    spec: str
    at: str
    time_s: float
    image: str | None


@dataclass(frozen=True)
class SegmentInput:
    """What a request needs of one fixed segment."""

    index: int
    file: str
    duration_s: float
    width: int
    height: int
    anchors: tuple[SegmentAnchor, ...] = ()

    @property
    def stem(self) -> str:
        return self.file.rsplit(".", 1)[0]

    @property
    def images(self) -> tuple[SegmentAnchor, ...]:
        """The anchors that carry an image (only those go into a body)."""
        return tuple(a for a in self.anchors if a.image)


def request_name(segment: SegmentInput, service: Service) -> str:
    """``<segment file stem>.<service>.json``."""
    return f"{segment.stem}.{service.name}.json"


def _on_step(t: float) -> bool:
    return abs(round(t / TIMESTAMP_STEP_S) * TIMESTAMP_STEP_S - t) < 1e-9


def check_prompt(service: Service, prompt: str) -> None:
    """Raise :class:`UsageError` naming ``service`` when ``prompt`` is outside 1-1000 characters."""
    if not PROMPT_MIN_CHARS <= len(prompt) <= PROMPT_MAX_CHARS:
        raise UsageError(
            f"{service.name}: the prompt has {len(prompt)} characters; it takes "
            f"{PROMPT_MIN_CHARS}-{PROMPT_MAX_CHARS} (--prompt)"
        )


def check_limits(service: Service, *, prompt: str, segment: SegmentInput) -> None:
    """Every documented limit of ``service`` for one segment's request.

    Raises
    ------
    UsageError
        One line naming the service, the segment and the rule broken: prompt length, anchor
        count, anchor time (inside the segment, 0-30 s, 0.01 s steps), video length, size.
    """
    check_prompt(service, prompt)
    where = f"{service.name}: segment {segment.index} ({segment.file})"
    images = segment.images
    if len(images) > service.max_anchors:
        kind = "reference image(s)" if not service.timed else "timed anchor image(s)"
        raise UsageError(
            f"{where} has {len(images)} anchor images; {service.name} takes at most "
            f"{service.max_anchors} {kind} per request"
        )
    if service.max_video_s is not None and segment.duration_s > service.max_video_s + 1e-9:
        raise UsageError(
            f"{where} lasts {segment.duration_s:.2f} s; {service.name} takes videos up to "
            f"{service.max_video_s:g} s"
        )
    if service.timed:
        for a in images:
            if not 0 <= a.time_s <= segment.duration_s + 1e-9:
                raise UsageError(
                    f"{where}: anchor {a.spec!r} at {a.time_s:.2f} s is outside the segment "
                    f"(0-{segment.duration_s:.2f} s)"
                )
            if service.anchors is AnchorStyle.FRAME_IMAGES and a.at == "time" and a.time_s > MAX_TIMESTAMP_S:
                raise UsageError(
                    f"{where}: anchor {a.spec!r} at {a.time_s:.2f} s; timestamps must lie in "
                    f"[0, {MAX_TIMESTAMP_S:g}] s"
                )
            if not _on_step(a.time_s):
                raise UsageError(f"{where}: anchor {a.spec!r} at {a.time_s!r} s is not on a 0.01 s step")
    if service.gen4 and (segment.width, segment.height) not in GEN4_SIZES:
        sizes = ", ".join(f"{w}x{h}" for w, h in GEN4_SIZES)
        raise UsageError(f"{where} is {segment.width}x{segment.height}; {service.name} takes only {sizes}")


def build_body(
    service: Service, *, prompt: str, segment: SegmentInput, uri_for: UriFor, task_uuid: str
) -> Any:
    """The request body ``service`` documents for ``segment`` (limits checked first).

    ``uri_for`` references the segment file and each anchor image; ``task_uuid`` (a UUID v4) is
    used by the Runware services only.
    """
    check_limits(service, prompt=prompt, segment=segment)
    video = uri_for(segment.file)
    images = segment.images
    name = service.name
    if name in ("runway", "runway-gen4", "cometapi"):
        body: dict[str, Any] = {"model": service.model, "videoUri": video, "promptText": prompt}
        if service.size is SizeStyle.RATIO:
            body["ratio"] = f"{segment.width}:{segment.height}"
        if images and service.anchors is AnchorStyle.KEYFRAMES:
            body["keyframes"] = [{"uri": uri_for(a.image or ""), "seconds": a.time_s} for a in images]
        elif images:
            body["references"] = [{"type": "image", "uri": uri_for(a.image or "")} for a in images]
        return body
    if name == "cloudflare":
        inp: dict[str, Any] = {"video_uri": video, "prompt": prompt}
        if images:
            inp["keyframes"] = [{"uri": uri_for(a.image or ""), "seconds": a.time_s} for a in images]
        return {"model": service.model, "input": inp}
    if name in ("runware", "runware-gen4"):
        inputs: dict[str, Any] = {"video": video}
        task: dict[str, Any] = {
            "taskType": "videoInference",
            "taskUUID": task_uuid,
            "model": service.model,
            "positivePrompt": prompt,
            "inputs": inputs,
        }
        if service.anchors is AnchorStyle.FRAME_IMAGES and images:
            inputs["frameImages"] = [_frame_image(a, uri_for) for a in images]
        elif images:
            inputs["referenceImages"] = [uri_for(a.image or "") for a in images]
        if service.size is SizeStyle.WIDTH_HEIGHT:
            task["width"], task["height"] = segment.width, segment.height
        return [task]
    raise UsageError(f"{name}: no body builder for this service")  # pragma: no cover - table/code mismatch


def _frame_image(a: SegmentAnchor, uri_for: UriFor) -> dict[str, Any]:
    if a.at in ("first", "last"):
        return {"image": uri_for(a.image or ""), "frame": a.at}
    return {"image": uri_for(a.image or ""), "timestamp": a.time_s}


@functools.cache
def _validator(name: str) -> Any:
    import jsonschema

    text = (resources.files("preflight.services") / "schemas" / f"{name}.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_for(service: Service) -> dict[str, Any]:
    """The JSON Schema of ``service``'s request body (shipped as package data)."""
    return _validator(service.name).schema


def validate_body(service: Service, body: Any) -> None:
    """Raise :class:`UsageError` naming the service and the first schema rule ``body`` breaks."""
    errors = sorted(_validator(service.name).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "<body>"
        message = " ".join(e.message.split())
        if len(message) > 160:
            message = message[:157] + "..."
        raise UsageError(f"{service.name}: request body breaks its schema at {where}: {message}")


def timing_warnings(services: Sequence[Service], segments: Sequence[SegmentInput]) -> list[str]:
    """Warnings for what a body cannot say: lost anchor times, anchors without an image."""
    out = []
    for s in services:
        if s.timed:
            continue
        for seg in segments:
            if seg.images:
                times = ", ".join(f"{a.time_s:.2f} s" for a in seg.images)
                out.append(
                    f"{s.name} takes reference images without a time: segment {seg.index}'s anchor "
                    f"image(s) go in as references and their timing ({times}) is lost"
                )
    for seg in segments:
        for a in seg.anchors:
            if not a.image:
                out.append(
                    f"anchor {a.spec!r} has no image and is left out of the request bodies (export the "
                    f"frame with `preflight anchors`, edit it, pass it back with --anchor {a.spec}=IMAGE)"
                )
    return out
