"""Editor profiles: data files, never code.

A profile is a TOML document. The built-in ones ship in ``preflight/profiles``; a user passes
``--profile NAME`` for a built-in one or ``--profile PATH`` for their own file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

from .errors import UsageError

DEFAULT_PROFILE = "aleph-2"
SHAKE_CLASSES = ("stable", "moderate", "handheld", "severe")


@dataclass(frozen=True)
class Profile:
    """Limits of one editor, read from a profile file.

    Attributes mirror the TOML tables; see ``preflight/profiles/aleph-2.toml`` for the
    documented meaning of each.
    """

    name: str
    description: str
    min_duration_s: float
    max_duration_s: float
    min_short_side: int
    max_short_side: int
    min_fps: float
    max_fps: float
    constant_fps: bool
    vfr_tolerance: float
    aspect_ratios: tuple[tuple[str, Fraction], ...]
    aspect_tolerance: float
    max_cuts: int
    max_anchors: int
    anchor_precision_s: float
    output_sizes: tuple[tuple[int, int], ...]
    shake_thresholds_pct: tuple[float, float, float]
    shake_warn_class: str
    dark_mean_luma: float
    bright_mean_luma: float
    crushed_pct: float
    clipped_pct: float
    flicker_std: float
    soft_sharpness: float
    source: str

    def shake_class(self, score_pct: float) -> str:
        """Class name (``stable``/``moderate``/``handheld``/``severe``) of a shake score."""
        for name, upper in zip(SHAKE_CLASSES, self.shake_thresholds_pct, strict=False):
            if score_pct < upper:
                return name
        return SHAKE_CLASSES[-1]

    def nearest_aspect(self, ratio: float) -> tuple[str, Fraction, float]:
        """The conventional ratio closest to ``ratio`` and the relative error to it."""
        best = min(self.aspect_ratios, key=lambda item: abs(float(item[1]) / ratio - 1.0))
        return best[0], best[1], abs(float(best[1]) / ratio - 1.0)


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    root = resources.files("preflight") / "profiles"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a built-in profile by name, or a user's profile from a TOML path.

    Raises
    ------
    UsageError
        Unknown name, unreadable file, or a file missing a required key.
    """
    text, source = _read_profile_text(str(name_or_path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"profile {source}: not valid TOML ({exc})") from None
    try:
        return _from_dict(data, source)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"profile {source}: missing or invalid key {exc}") from None


def _read_profile_text(name_or_path: str) -> tuple[str, str]:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        try:
            return candidate.read_text(encoding="utf-8"), str(candidate)
        except OSError as exc:
            raise UsageError(f"profile {candidate}: cannot read ({exc.strerror})") from None
    resource = resources.files("preflight") / "profiles" / f"{name_or_path}.toml"
    if not resource.is_file():
        known = ", ".join(builtin_profiles())
        raise UsageError(
            f"unknown profile {name_or_path!r}: use one of {known} or a path to a .toml file"
        )
    return resource.read_text(encoding="utf-8"), name_or_path


def _parse_ratio(text: str) -> Fraction:
    num, _, den = text.partition(":")
    return Fraction(int(num), int(den))


def _parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def _from_dict(d: dict[str, Any], source: str) -> Profile:
    q = d["quality"]
    thresholds = (
        float(q["shake_moderate_pct"]),
        float(q["shake_handheld_pct"]),
        float(q["shake_severe_pct"]),
    )
    if list(thresholds) != sorted(thresholds):
        raise ValueError("quality.shake_*_pct must increase: moderate < handheld < severe")
    warn_class = str(q["shake_warn_class"])
    if warn_class not in SHAKE_CLASSES:
        raise ValueError(f"quality.shake_warn_class must be one of {SHAKE_CLASSES}")
    return Profile(
        name=str(d["name"]),
        description=str(d.get("description", "")),
        min_duration_s=float(d["duration"]["min_s"]),
        max_duration_s=float(d["duration"]["max_s"]),
        min_short_side=int(d["resolution"]["min_short_side"]),
        max_short_side=int(d["resolution"]["max_short_side"]),
        min_fps=float(d["frame_rate"]["min_fps"]),
        max_fps=float(d["frame_rate"]["max_fps"]),
        constant_fps=bool(d["frame_rate"]["constant"]),
        vfr_tolerance=float(d["frame_rate"]["vfr_tolerance"]),
        aspect_ratios=tuple((r, _parse_ratio(r)) for r in d["aspect"]["conventional"]),
        aspect_tolerance=float(d["aspect"]["tolerance"]),
        max_cuts=int(d["cuts"]["max_cuts"]),
        max_anchors=int(d["anchors"]["max_anchors"]),
        anchor_precision_s=float(d["anchors"]["precision_s"]),
        output_sizes=tuple(_parse_size(s) for s in d["output"].get("sizes", [])),
        shake_thresholds_pct=thresholds,
        shake_warn_class=warn_class,
        dark_mean_luma=float(q["dark_mean_luma"]),
        bright_mean_luma=float(q["bright_mean_luma"]),
        crushed_pct=float(q["crushed_pct"]),
        clipped_pct=float(q["clipped_pct"]),
        flicker_std=float(q["flicker_std"]),
        soft_sharpness=float(q["soft_sharpness"]),
        source=source,
    )
