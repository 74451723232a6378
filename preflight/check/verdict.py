"""The verdict: measurements x profile -> shot classes, exposure flags and findings.

Every profile threshold ``check`` uses is applied here and only here: :func:`judge_shot`
gives a measured shot its shake class and exposure flags (:class:`ShotVerdict`),
:func:`evaluate` turns every profile rule and quality check into findings. ``error`` findings
mean the editor will reject the clip (exit 1); ``warning`` findings mean it will be accepted
but the edit will likely suffer. This module is pure: it reads an
:class:`~preflight.check.analyze.Analysis` and a :class:`~preflight.profile.Profile`, does no
I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..enums import TextEnum
from ..media.probe import Probe
from ..profile import SHAKE_CLASSES, Profile
from .analyze import Analysis, ShotMeasurement
from .analyzers.exposure import ExposureResult


class Severity(TextEnum):
    """``error``: the editor rejects the clip; ``warning``: accepted, but the edit will suffer."""

    ERROR = "error"
    WARNING = "warning"


ERROR = Severity.ERROR
WARNING = Severity.WARNING
# A declared average frame rate may differ this much (relative) from the decoded one.
HEADER_RATE_TOLERANCE = 0.005
HEADER_HINT = "run `preflight fix`: it rewrites the header from the frames (an ingest reads the header first)"


@dataclass(frozen=True)
class Finding:
    """One rule outcome that needs the user's attention.

    ``value`` and ``limit`` are numbers or short strings in the unit the message names.
    """

    id: str
    severity: Severity
    value: float | int | str | None
    limit: float | int | str | None
    message: str
    hint: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    def to_dict(self) -> dict[str, object]:
        value = round(self.value, 4) if isinstance(self.value, float) else self.value
        limit = round(self.limit, 4) if isinstance(self.limit, float) else self.limit
        return {
            "id": self.id,
            "severity": self.severity,
            "value": value,
            "limit": limit,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class ShotVerdict:
    """One measured shot judged against a profile.

    Attributes
    ----------
    measured : ShotMeasurement
        What the analyzers measured.
    shake_class : str
        ``stable``/``moderate``/``handheld``/``severe`` by the profile's shake thresholds.
    exposure_flags : tuple of str
        Subset of ``("under", "over", "flicker")`` (:func:`exposure_flags`).
    """

    measured: ShotMeasurement
    shake_class: str
    exposure_flags: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """The shot's entry in the ``preflight check --json`` document."""
        m = self.measured
        shake, ex = m.shake, m.exposure
        return {
            "start_frame": m.start_frame,
            "end_frame": m.end_frame,
            "start_s": round(m.start_s, 4),
            "end_s": round(m.end_s, 4),
            "shake": {
                "score_pct": round(shake.score_pct, 4),
                "class": self.shake_class,
                "jitter_rms_px": round(shake.jitter_rms_px, 3),
                "pan_speed_pct": round(shake.pan_speed_pct, 3),
                "reliable_share": round(shake.reliable_share, 3),
            },
            "exposure": {
                "mean_luma": round(ex.mean_luma, 4),
                "dark_pct": round(ex.dark_pct, 3),
                "bright_pct": round(ex.bright_pct, 3),
                "contrast": round(ex.contrast, 4),
                "flicker": round(ex.flicker, 5),
                "flags": list(self.exposure_flags),
            },
            # NaN = no textured frame in the shot: it cannot be judged, so JSON says null.
            "sharpness": None if np.isnan(m.sharpness.value) else round(m.sharpness.value, 4),
        }


def exposure_flags(exposure: ExposureResult, profile: Profile) -> tuple[str, ...]:
    """The exposure flags of one shot under ``profile``'s ``[quality]`` thresholds.

    ``under``: mean luma below ``dark_mean_luma`` or more than ``crushed_pct`` % crushed;
    ``over``: mean luma above ``bright_mean_luma`` or more than ``clipped_pct`` % clipped, both
    over the frames outside a fade's flat hold (:attr:`ExposureResult.outside_holds`: a fade's
    black is not "underexposed"); ``flicker``: high-passed mean-luma RMS above ``flicker_std``.
    """
    flags = []
    levels = exposure.outside_holds
    if levels is not None:
        if levels.mean_luma < profile.dark_mean_luma or levels.dark_pct > profile.crushed_pct:
            flags.append("under")
        if levels.mean_luma > profile.bright_mean_luma or levels.bright_pct > profile.clipped_pct:
            flags.append("over")
    if exposure.flicker > profile.flicker_std:
        flags.append("flicker")
    return tuple(flags)


def judge_shot(shot: ShotMeasurement, profile: Profile) -> ShotVerdict:
    """``shot``'s shake class and exposure flags under ``profile``."""
    return ShotVerdict(
        measured=shot,
        shake_class=profile.shake_class(shot.shake.score_pct),
        exposure_flags=exposure_flags(shot.exposure, profile),
    )


def judge_shots(analysis: Analysis, profile: Profile) -> tuple[ShotVerdict, ...]:
    """Every shot of ``analysis`` judged against ``profile``, in order."""
    return tuple(judge_shot(shot, profile) for shot in analysis.shots)


def passed(findings: tuple[Finding, ...]) -> bool:
    return not any(f.severity == ERROR for f in findings)


def evaluate(
    analysis: Analysis, profile: Profile, *, shots: tuple[ShotVerdict, ...] | None = None
) -> tuple[Finding, ...]:
    """All findings for ``analysis`` under ``profile``, errors first.

    ``shots`` are the shots already judged by :func:`judge_shots` under the same profile (they are
    judged here when not given).
    """
    if shots is None:
        shots = judge_shots(analysis, profile)
    findings = [
        *probe_findings(analysis.probe, profile),
        *_cut_findings(analysis, profile),
        *_quality_findings(shots, profile),
        *_decode_findings(analysis),
        *header_findings(analysis, profile),
    ]
    findings.sort(key=lambda f: (f.severity != ERROR,))
    return tuple(findings)


def probe_findings(p: Probe, profile: Profile) -> list[Finding]:
    """Rules decidable from the probe alone (duration, size, rate, aspect, format)."""
    out: list[Finding] = []
    split_hint = "split into segments: run `preflight fix`"
    if p.duration_s < profile.min_duration_s:
        out.append(Finding(
            "duration_short", ERROR, p.duration_s, profile.min_duration_s,
            f"clip lasts {p.duration_s:.2f} s, shorter than the {profile.min_duration_s:g} s minimum",
            "use a longer take, or loop/extend it in an editor",
        ))
    if p.duration_s > profile.max_duration_s:
        n = math.ceil(p.duration_s / profile.max_duration_s)
        out.append(Finding(
            "duration_long", ERROR, p.duration_s, profile.max_duration_s,
            f"clip lasts {p.duration_s:.2f} s, longer than the {profile.max_duration_s:g} s maximum",
            f"{split_hint} (at least {n} segments)",
        ))
    short = p.short_side
    if short < profile.min_short_side:
        out.append(Finding(
            "resolution_low", ERROR, short, profile.min_short_side,
            f"short side is {short} px ({p.display_width}x{p.display_height} displayed), "
            f"below {profile.min_short_side} px",
            "upscale with `preflight fix` (quality will not improve), or use a higher-resolution source",
        ))
    if short > profile.max_short_side:
        out.append(Finding(
            "resolution_high", ERROR, short, profile.max_short_side,
            f"short side is {short} px ({p.display_width}x{p.display_height} displayed), "
            f"above {profile.max_short_side} px",
            "downscale with `preflight fix`",
        ))
    fps = p.fps
    if p.vfr and profile.constant_fps:
        out.append(Finding(
            "frame_rate_variable", ERROR, round(fps, 3), "constant",
            f"variable frame rate (mean {fps:.3f} FPS); the editor needs constant frame rate",
            "convert to constant frame rate with `preflight fix`",
        ))
    if not (profile.min_fps - 1e-3 <= fps <= profile.max_fps + 1e-3):
        out.append(Finding(
            "frame_rate_range", ERROR, round(fps, 3), f"{profile.min_fps:g}-{profile.max_fps:g}",
            f"{fps:.3f} FPS is outside {profile.min_fps:g}-{profile.max_fps:g} FPS",
            "conform the frame rate with `preflight fix`",
        ))
    name, _ratio, err = profile.nearest_aspect(p.display_aspect)
    if err > profile.aspect_tolerance:
        out.append(Finding(
            "aspect_unconventional", ERROR, round(p.display_aspect, 4), name,
            f"displayed aspect {p.display_width}:{p.display_height} ({p.display_aspect:.3f}) is not a "
            f"conventional ratio (nearest {name}, off by {err:.1%})",
            f"pad or crop to {name}: `preflight fix --aspect pad` or `--aspect crop`",
        ))
    if profile.output_sizes and (p.display_width, p.display_height) not in profile.output_sizes:
        sizes = ", ".join(f"{w}x{h}" for w, h in profile.output_sizes)
        out.append(Finding(
            "output_size", WARNING, f"{p.display_width}x{p.display_height}", sizes,
            f"{profile.name} renders only {sizes}; the output will be resized",
            "conform to a supported size with `preflight fix`",
        ))
    if p.interlaced:
        out.append(Finding(
            "interlaced", WARNING, p.field_order, "progressive",
            f"interlaced video ({p.field_order} field order): combing will degrade the edit",
            "`preflight fix` deinterlaces it (bwdif, one frame per frame)",
        ))
    if p.hdr:
        out.append(Finding(
            "hdr", WARNING, p.hdr, "SDR",
            f"HDR transfer {p.hdr}: the editor expects SDR, colours will shift",
            "`preflight fix` tone-maps it to 8-bit SDR BT.709 H.264",
        ))
    if p.bit_depth > 8:
        out.append(Finding(
            "bit_depth", WARNING, p.bit_depth, 8,
            f"{p.bit_depth}-bit video; the editor works in 8-bit",
            "`preflight fix` converts to 8-bit yuv420p",
        ))
    return out


def _cut_findings(a: Analysis, profile: Profile) -> list[Finding]:
    n = len(a.transitions)
    if n <= profile.max_cuts:
        return []
    segments = math.ceil((n + 1) / (profile.max_cuts + 1))
    return [Finding(
        "too_many_cuts", ERROR, n, profile.max_cuts,
        f"{n} shot transitions, more than the {profile.max_cuts} allowed",
        f"split at shot boundaries into at least {segments} segments: run `preflight fix`",
    )]


def _quality_findings(shots: Sequence[ShotVerdict], profile: Profile) -> list[Finding]:
    out: list[Finding] = []
    warn_rank = SHAKE_CLASSES.index(profile.shake_warn_class)
    _moderate, handheld, severe = profile.shake_thresholds_pct
    for i, judged in enumerate(shots, start=1):
        shot = judged.measured
        where = (
            f"shot {i} (frames {shot.start_frame}-{shot.end_frame}, "
            f"{shot.start_s:.2f}-{shot.end_s:.2f} s)"
        )
        if SHAKE_CLASSES.index(judged.shake_class) >= warn_rank:
            limit = handheld if judged.shake_class == "handheld" else severe
            out.append(Finding(
                "shake", WARNING, shot.shake.score_pct, limit,
                f"{where}: {judged.shake_class} camera shake, RMS jitter {shot.shake.score_pct:.2f}% "
                "of the frame diagonal",
                "stabilise the shot before editing, or expect wobbling edits",
            ))
        ex = shot.exposure
        if "under" in judged.exposure_flags:
            out.append(Finding(
                "underexposed", WARNING, ex.mean_luma, profile.dark_mean_luma,
                f"{where}: underexposed (mean luma {ex.mean_luma:.2f}, {ex.dark_pct:.1f}% crushed blacks)",
                "brighten the shot (gain/gamma) before editing",
            ))
        if "over" in judged.exposure_flags:
            out.append(Finding(
                "overexposed", WARNING, ex.mean_luma, profile.bright_mean_luma,
                f"{where}: overexposed (mean luma {ex.mean_luma:.2f}, {ex.bright_pct:.1f}% clipped whites)",
                "lower exposure before editing; clipped detail cannot be recovered",
            ))
        if "flicker" in judged.exposure_flags:
            out.append(Finding(
                "flicker", WARNING, ex.flicker, profile.flicker_std,
                f"{where}: brightness flicker (frame-to-frame swing {ex.flicker:.3f})",
                "deflicker the shot before editing",
            ))
        if shot.sharpness.value < profile.soft_sharpness:
            out.append(Finding(
                "soft", WARNING, shot.sharpness.value, profile.soft_sharpness,
                f"{where}: soft or motion-blurred (sharpness {shot.sharpness.value:.3f})",
                "use a sharper take; blur propagates into the edit",
            ))
    return out


def _decode_findings(a: Analysis) -> list[Finding]:
    if not a.warnings:
        return []
    return [Finding(
        "damaged_stream", WARNING, len(a.warnings), 0,
        f"decoding reported problems: {a.warnings[0]}",
        "re-export the clip from its source; the editor may reject damaged streams",
    )]


def header_findings(a: Analysis, profile: Profile) -> list[Finding]:
    """The container header against the decoded timestamps: a declared container or stream
    duration more than one frame off (``header_duration``), or a declared average frame rate more
    than :data:`HEADER_RATE_TOLERANCE` off (``header_frame_rate``). Error when the declared value
    breaks a profile limit (an ingest reading the header rejects the clip), else warning.

    Skipped when decoding fell short of the stream's packets: the header then describes frames
    that could not be decoded, and ``damaged_stream`` already says so.
    """
    d = a.probe.declared
    if d is None or a.frame_count < max(2, a.probe.frame_count):
        return []
    out: list[Finding] = []
    truth, frame = a.decoded_duration_s, a.frame_step_s
    declared = (("container", d.container_s), ("video stream", d.stream_s))
    off = [(abs(v - truth), v, what) for what, v in declared
           if v is not None and abs(v - truth) > frame + 1e-6]
    if off:
        _, seconds, what = max(off)
        breaks = not (profile.min_duration_s <= seconds <= profile.max_duration_s)
        limit = f", outside {profile.min_duration_s:g}-{profile.max_duration_s:g} s" if breaks else ""
        out.append(Finding(
            "header_duration", ERROR if breaks else WARNING, seconds, round(truth, 4),
            f"the {what} header declares {seconds:.2f} s{limit}, but the frames last {truth:.2f} s",
            HEADER_HINT,
        ))
    rate = a.frame_count / truth if truth > 0 else 0.0
    if d.average_rate and rate and abs(float(d.average_rate) / rate - 1) > HEADER_RATE_TOLERANCE:
        declared_fps = float(d.average_rate)
        breaks = not (profile.min_fps - 1e-3 <= declared_fps <= profile.max_fps + 1e-3)
        limit = f", outside {profile.min_fps:g}-{profile.max_fps:g} FPS" if breaks else ""
        out.append(Finding(
            "header_frame_rate", ERROR if breaks else WARNING, round(declared_fps, 3), round(rate, 3),
            f"the header declares an average {declared_fps:.3f} FPS{limit}, "
            f"but the frames run at {rate:.3f} FPS",
            HEADER_HINT,
        ))
    return out
