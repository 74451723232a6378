"""Editor profiles: data files, never code.

A profile is a TOML document. The built-in ones ship in ``preflight/profiles``; a user passes
``--profile NAME`` for a built-in one or ``--profile PATH`` for their own file.
"""

from __future__ import annotations

import math
import re
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

from .errors import UsageError, one_line, preview

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


MAX_PROFILE_BYTES = 1_000_000
"""A profile file larger than this is refused before parsing."""
MAX_FPS = 1000.0
MAX_SIDE = 16384
MAX_DURATION_S = 86400.0


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a built-in profile by name, or a user's profile from a TOML path.

    Raises
    ------
    UsageError
        Unknown name, unreadable file, or any key missing, of the wrong type or out of range
        (one line naming the key).
    """
    text, source = _read_profile_text(str(name_or_path))
    return profile_from_text(text, source=source)


def profile_from_text(text: str, *, source: str = "<text>") -> Profile:
    """Parse and validate a profile from TOML ``text`` (``source`` names it in messages).

    Raises
    ------
    UsageError
        Not valid TOML, too large, or :func:`profile_from_dict` refuses it.
    """
    shown = _shown_source(source)
    if len(text) > MAX_PROFILE_BYTES:
        raise UsageError(f"profile {shown}: larger than {MAX_PROFILE_BYTES} characters: not a profile")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"profile {shown}: not valid TOML ({one_line(str(exc), 120)})") from None
    except RecursionError:
        raise UsageError(f"profile {shown}: not valid TOML (nested too deeply)") from None
    return profile_from_dict(data, source=source)


def _shown_source(source: str) -> str:
    return source if len(source) <= 80 and source.isprintable() else preview(source, 80)


def _read_profile_text(name_or_path: str) -> tuple[str, str]:
    shown = _shown_source(name_or_path)
    if "\0" in name_or_path or len(name_or_path) > 4096 or any(
        len(part) > 255 for part in Path(name_or_path).parts
    ):
        raise UsageError(f"profile {shown}: not a profile name or a usable path (too long or NUL byte)")
    candidate = Path(name_or_path)
    try:
        is_path = candidate.suffix == ".toml" or candidate.exists()
    except OSError as exc:
        raise UsageError(f"profile {shown}: cannot read ({exc.strerror})") from None
    if is_path:
        try:
            if candidate.is_file() and candidate.stat().st_size > MAX_PROFILE_BYTES:
                raise UsageError(f"profile {shown}: larger than {MAX_PROFILE_BYTES} bytes: not a profile")
            if candidate.exists() and not candidate.is_file():
                raise UsageError(f"profile {shown}: not a regular file")
            return candidate.read_text(encoding="utf-8"), str(candidate)
        except OSError as exc:
            raise UsageError(f"profile {shown}: cannot read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise UsageError(f"profile {shown}: not UTF-8 text") from None
    names = builtin_profiles()
    if name_or_path not in names:
        known = ", ".join(names)
        raise UsageError(
            f"unknown profile {preview(name_or_path)}: use one of {known} or a path to a .toml file"
        )
    resource = resources.files("preflight") / "profiles" / f"{name_or_path}.toml"
    return resource.read_text(encoding="utf-8"), name_or_path


# --------------------------------------------------------------------------- validation

_Kind = str  # "str", "bool", "int", "float", "list"

# table -> key -> (kind, required). The whole layout: any other key is refused (a typo would
# otherwise be ignored silently).
_LAYOUT: dict[str, dict[str, tuple[_Kind, bool]]] = {
    "": {"name": ("str", True), "description": ("str", False)},
    "duration": {"min_s": ("float", True), "max_s": ("float", True)},
    "resolution": {"min_short_side": ("int", True), "max_short_side": ("int", True)},
    "frame_rate": {
        "min_fps": ("float", True), "max_fps": ("float", True), "constant": ("bool", True),
        "vfr_tolerance": ("float", True),
    },
    "aspect": {"conventional": ("list", True), "tolerance": ("float", True)},
    "cuts": {"max_cuts": ("int", True)},
    "anchors": {"max_anchors": ("int", True), "precision_s": ("float", True)},
    "prompt": {"min_chars": ("int", False), "max_chars": ("int", False)},
    "output": {"max_short_side": ("int", False), "sizes": ("list", False)},
    "quality": {
        "shake_moderate_pct": ("float", True), "shake_handheld_pct": ("float", True),
        "shake_severe_pct": ("float", True), "shake_warn_class": ("str", True),
        "dark_mean_luma": ("float", True), "bright_mean_luma": ("float", True),
        "crushed_pct": ("float", True), "clipped_pct": ("float", True),
        "flicker_std": ("float", True), "soft_sharpness": ("float", True),
    },
}
_OPTIONAL_TABLES = ("prompt", "output")
_KIND_WORDS = {
    "str": "a string", "bool": "true or false (not a string)", "int": "an integer",
    "float": "a finite number", "list": "a list",
}


class _Reader:
    """Typed, range-checked access to the TOML dict; every error names the key."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = _shown_source(source)

    def error(self, key: str, why: str) -> UsageError:
        return UsageError(f"profile {self.source}: key {key}: {why}")

    def check_layout(self) -> None:
        for table, keys in _LAYOUT.items():
            if not table:
                continue
            value = self.data.get(table)
            if value is None and table in _OPTIONAL_TABLES:
                continue
            if not isinstance(value, dict):
                raise self.error(table, f"missing table [{table}]" if value is None else "must be a table")
            for key in value:
                if key not in keys:
                    raise self.error(f"{table}.{_key_text(key)}", f"unknown key (known: {', '.join(keys)})")
        for key in self.data:
            if key not in _LAYOUT and key not in _LAYOUT[""]:
                raise self.error(_key_text(key), "unknown key or table")

    def get(self, dotted: str) -> Any:
        table, _, key = dotted.rpartition(".")
        kind, required = _LAYOUT[table][key]
        holder = self.data.get(table) if table else self.data
        if not isinstance(holder, dict):  # an optional table given as None
            holder = {}
        if key not in holder:
            if required:
                raise self.error(dotted, "missing")
            return None
        value = holder[key]
        ok = {
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "list": isinstance(value, list),
        }[kind]
        if not ok:
            raise self.error(dotted, f"must be {_KIND_WORDS[kind]}, got {preview(value, 40)}")
        if kind == "float":
            if isinstance(value, int) and abs(value) > 10**15:
                raise self.error(dotted, f"out of range, got {preview(value, 40)}")
            if not math.isfinite(value):
                raise self.error(dotted, f"must be a finite number, got {value}")
            return float(value)
        return value

    def number(self, dotted: str, lo: float, hi: float, *, lo_open: bool = False) -> float:
        value = self.get(dotted)
        if value is None:
            return math.nan
        if value < lo or (lo_open and value == lo) or value > hi:
            low = f"> {lo:g}" if lo_open else f">= {lo:g}"
            raise self.error(dotted, f"must be {low} and <= {hi:g}, got {preview(value, 40)}")
        return value

    def ordered(self, low_key: str, high_key: str, low: float, high: float) -> None:
        if low > high:
            raise self.error(low_key, f"must be <= {high_key} ({low:g} > {high:g})")


_RATIO_RE = re.compile(r"([0-9]{1,6}):([0-9]{1,6})\Z")
_SIZE_RE = re.compile(r"([0-9]{1,6})[xX]([0-9]{1,6})\Z")


def _key_text(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", key) else preview(key, 40)


def _parse_ratio(text: str, key: str, reader: _Reader) -> Fraction:
    m = _RATIO_RE.match(text)
    if not m or int(m[1]) == 0 or int(m[2]) == 0:
        why = f"ratios are 'W:H' with positive integers like '16:9', got {preview(text, 40)}"
        raise reader.error(key, why)
    return Fraction(int(m[1]), int(m[2]))


def _parse_size(text: str, key: str, reader: _Reader) -> tuple[int, int]:
    m = _SIZE_RE.match(text)
    if not m:
        raise reader.error(key, f"sizes are 'WxH' in pixels like '1280x720', got {preview(text, 40)}")
    width, height = int(m[1]), int(m[2])
    if not (2 <= width <= MAX_SIDE and 2 <= height <= MAX_SIDE) or width % 2 or height % 2:
        raise reader.error(key, f"sizes must be even and 2-{MAX_SIDE} px per side, got {preview(text, 40)}")
    return width, height


def _strings(reader: _Reader, dotted: str, *, required: bool) -> list[str]:
    items = reader.get(dotted) or []
    if required and not items:
        raise reader.error(dotted, "must list at least one entry")
    if len(items) > 1000:
        raise reader.error(dotted, f"at most 1000 entries, got {len(items)}")
    for item in items:
        if not isinstance(item, str):
            raise reader.error(dotted, f"entries must be strings, got {preview(item, 40)}")
    return items


def profile_from_dict(d: dict[str, Any], *, source: str = "<dict>") -> Profile:
    """Validate a parsed profile completely and build it: types, finiteness, ranges, order.

    Raises
    ------
    UsageError
        One line naming the first offending key and what it must be.
    """
    if not isinstance(d, dict):
        raise UsageError(f"profile {_shown_source(source)}: must be a TOML table")
    r = _Reader(d, source)
    r.check_layout()
    name = r.get("name")
    if not name.strip() or len(name) > 100:
        raise r.error("name", f"must be 1-100 characters, got {preview(name, 40)}")
    description = r.get("description") or ""
    if len(description) > 1000:
        raise r.error("description", "at most 1000 characters")
    min_s = r.number("duration.min_s", 0.0, MAX_DURATION_S)
    max_s = r.number("duration.max_s", 0.0, MAX_DURATION_S, lo_open=True)
    r.ordered("duration.min_s", "duration.max_s", min_s, max_s)
    min_side = int(r.number("resolution.min_short_side", 2, MAX_SIDE))
    max_side = int(r.number("resolution.max_short_side", 2, MAX_SIDE))
    r.ordered("resolution.min_short_side", "resolution.max_short_side", min_side, max_side)
    if math.ceil(min_side / 2) * 2 > max_side:
        raise r.error("resolution.min_short_side", "the range must hold an even short side")
    min_fps = r.number("frame_rate.min_fps", 0.0, MAX_FPS, lo_open=True)
    max_fps = r.number("frame_rate.max_fps", 0.0, MAX_FPS, lo_open=True)
    r.ordered("frame_rate.min_fps", "frame_rate.max_fps", min_fps, max_fps)
    ratios = _strings(r, "aspect.conventional", required=True)
    sizes = _strings(r, "output.sizes", required=False)
    thresholds = tuple(
        r.number(f"quality.shake_{c}_pct", 0.0, 100.0, lo_open=True) for c in SHAKE_CLASSES[1:]
    )
    if list(thresholds) != sorted(set(thresholds)):
        raise r.error("quality.shake_*_pct", "must increase: moderate < handheld < severe")
    warn_class = r.get("quality.shake_warn_class")
    if warn_class not in SHAKE_CLASSES:
        raise r.error("quality.shake_warn_class", f"must be one of {', '.join(SHAKE_CLASSES)}")
    dark = r.number("quality.dark_mean_luma", 0.0, 1.0)
    bright = r.number("quality.bright_mean_luma", 0.0, 1.0)
    r.ordered("quality.dark_mean_luma", "quality.bright_mean_luma", dark, bright)
    min_chars = r.get("prompt.min_chars")
    max_chars = r.get("prompt.max_chars")
    for key, value in (("prompt.min_chars", min_chars), ("prompt.max_chars", max_chars),
                       ("output.max_short_side", r.get("output.max_short_side"))):
        if value is not None and not 0 <= value <= 10**6:
            raise r.error(key, f"must be >= 0 and <= 1000000, got {preview(value, 40)}")
    if min_chars is not None and max_chars is not None:
        r.ordered("prompt.min_chars", "prompt.max_chars", min_chars, max_chars)
    return Profile(
        name=name,
        description=description,
        min_duration_s=min_s,
        max_duration_s=max_s,
        min_short_side=min_side,
        max_short_side=max_side,
        min_fps=min_fps,
        max_fps=max_fps,
        constant_fps=r.get("frame_rate.constant"),
        vfr_tolerance=r.number("frame_rate.vfr_tolerance", 0.0, 1.0, lo_open=True),
        aspect_ratios=tuple((t, _parse_ratio(t, "aspect.conventional", r)) for t in ratios),
        aspect_tolerance=r.number("aspect.tolerance", 0.0, 1.0),
        max_cuts=int(r.number("cuts.max_cuts", 0, 10**6)),
        max_anchors=int(r.number("anchors.max_anchors", 0, 10**6)),
        anchor_precision_s=r.number("anchors.precision_s", 0.0, 60.0, lo_open=True),
        output_sizes=tuple(_parse_size(t, "output.sizes", r) for t in sizes),
        shake_thresholds_pct=thresholds,  # type: ignore[arg-type]
        shake_warn_class=warn_class,
        dark_mean_luma=dark,
        bright_mean_luma=bright,
        crushed_pct=r.number("quality.crushed_pct", 0.0, 100.0),
        clipped_pct=r.number("quality.clipped_pct", 0.0, 100.0),
        flicker_std=r.number("quality.flicker_std", 0.0, 1.0, lo_open=True),
        soft_sharpness=r.number("quality.soft_sharpness", 0.0, 1.0),
        source=source,
    )
