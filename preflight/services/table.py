"""The editor services ``preflight fix --service`` writes requests for, as data.

Read from each service's public API documentation on :data:`TABLE_READ`; when a service changes
its request format, update this table (and the JSON Schema beside it in ``schemas/``), not the
code that builds the bodies. Where the documentation gave no number, the value is inferred and
the field ``notes`` says so.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum

from ..errors import UsageError, preview

TABLE_READ = datetime.date(2026, 11, 28)

PROMPT_MIN_CHARS = 1
PROMPT_MAX_CHARS = 1000
MAX_TIMESTAMP_S = 30.0
TIMESTAMP_STEP_S = 0.01

#: The fixed output sizes of the Gen-4 Aleph services (``ratio`` ``W:H``, or ``width``/``height``).
GEN4_SIZES: tuple[tuple[int, int], ...] = (
    (1280, 720),
    (720, 1280),
    (1104, 832),
    (832, 1104),
    (960, 960),
    (1584, 672),
    (848, 480),
    (640, 480),
)


class AnchorStyle(str, Enum):
    """How a service takes anchor images."""

    KEYFRAMES = "keyframes"  # {uri, seconds}: seconds on the input video
    FRAME_IMAGES = "frame_images"  # {image, frame: first|last} or {image, timestamp}
    REFERENCES = "references"  # images without a time


class SizeStyle(str, Enum):
    """How a service is told the output size."""

    SOURCE = "source"  # source aspect kept, nothing to say
    RATIO = "ratio"  # "ratio": "W:H" from GEN4_SIZES
    WIDTH_HEIGHT = "width_height"  # "width", "height" from GEN4_SIZES


@dataclass(frozen=True)
class Service:
    """One row of the service table.

    Attributes
    ----------
    name : str
        The ``--service`` value; also the middle of ``<segment stem>.<name>.json``.
    what : str
        API and endpoint, for the plan printout.
    model : str
        The model identifier the body names.
    anchors : AnchorStyle
    max_anchors : int
        Anchor images per request.
    size : SizeStyle
    data_uri_max_bytes : int or None
        Largest data URI the service accepts for the video (and images); ``None``: it documents
        none, so without ``--video-url`` the body gets a placeholder.
    image_data_uri_max_bytes : int or None
        A lower limit for images, where the service documents one (Runway: 5 MB).
    max_video_s : float or None
        Longest input video, when documented.
    notes : str
    """

    name: str
    what: str
    model: str
    anchors: AnchorStyle
    max_anchors: int
    size: SizeStyle
    data_uri_max_bytes: int | None = None
    max_video_s: float | None = None
    notes: str = ""
    image_data_uri_max_bytes: int | None = None

    def data_uri_limit(self, mime: str) -> int | None:
        """Largest data URI this service takes for a file of MIME type ``mime`` (``None``: none)."""
        image = self.image_data_uri_max_bytes
        if mime.startswith("image/") and image is not None:
            return min(image, self.data_uri_max_bytes or image)
        return self.data_uri_max_bytes

    @property
    def gen4(self) -> bool:
        """Whether the service renders only :data:`GEN4_SIZES`."""
        return self.size is not SizeStyle.SOURCE

    @property
    def timed(self) -> bool:
        """Whether anchors keep their time in this service's body."""
        return self.anchors is not AnchorStyle.REFERENCES


_MB = 1024 * 1024
_SAME_MODEL = "reference count not documented: 1 as for gen4_aleph on Runway (same model)"

SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            "runway",
            "Runway API POST /v1/video_to_video (X-Runway-Version: 2024-11-06)",
            "aleph2",
            AnchorStyle.KEYFRAMES,
            5,
            SizeStyle.SOURCE,
            data_uri_max_bytes=16 * _MB,
            image_data_uri_max_bytes=5 * _MB,
        ),
        Service(
            "runway-gen4",
            "Runway API POST /v1/video_to_video (X-Runway-Version: 2024-11-06)",
            "gen4_aleph",
            AnchorStyle.REFERENCES,
            1,
            SizeStyle.RATIO,
            data_uri_max_bytes=16 * _MB,
            image_data_uri_max_bytes=5 * _MB,
        ),
        Service(
            "runware",
            "Runware videoInference",
            "runway:aleph@2.0",
            AnchorStyle.FRAME_IMAGES,
            5,
            SizeStyle.SOURCE,
        ),
        Service(
            "runware-gen4",
            "Runware videoInference",
            "runway:2@1",
            AnchorStyle.REFERENCES,
            1,
            SizeStyle.WIDTH_HEIGHT,
            notes=_SAME_MODEL,
        ),
        Service(
            "cloudflare",
            "Cloudflare Workers AI runwayml/aleph-2",
            "runwayml/aleph-2",
            AnchorStyle.KEYFRAMES,
            5,
            SizeStyle.SOURCE,
            max_video_s=30.0,
        ),
        Service(
            "cometapi",
            "CometAPI POST /runwayml/v1/video_to_video",
            "gen4_aleph",
            AnchorStyle.REFERENCES,
            1,
            SizeStyle.RATIO,
            notes=_SAME_MODEL,
        ),
    )
}


def parse_service(text: str) -> Service:
    """The :class:`Service` named ``text`` (case and surrounding blanks ignored).

    Raises
    ------
    UsageError
        Unknown name (the message lists the known ones).
    """
    key = text.strip().lower()
    if key not in SERVICES:
        raise UsageError(f"--service {preview(text)}: unknown service; use one of {', '.join(SERVICES)}")
    return SERVICES[key]
