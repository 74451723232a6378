"""The encoder settings: H.264 High, yuv420p, CRF, preset; audio copy or AAC; deinterlace, tone map."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UsageError, preview
from ...media.probe import Probe
from ...media.tonemap import HLG_PEAK_NITS, PQ_SOURCE_PEAK_NITS, SDR_PEAK_NITS
from .common import (
    AUDIO_BITRATE_PER_CHANNEL,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    KEYFRAME_INTERVAL_S,
    X264_PRESETS,
    AudioMode,
    FieldOrder,
    ToneMap,
)
from .rate import RatePlan

# --------------------------------------------------------------------------- encoder


@dataclass(frozen=True)
class EncoderPlan:
    """Encoder settings shared by ``fix``, ``join`` and the benchmark baseline."""

    codec: str = "libx264"
    profile: str = "High"
    pix_fmt: str = "yuv420p"
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    movflags: str = "+faststart"
    gop: int | None = None
    audio: AudioMode = AudioMode.NONE
    audio_codec: str | None = None
    audio_bitrate: int | None = None
    audio_reason: str = ""
    reason: str = ""
    deinterlace: FieldOrder | None = None
    """Field dominance ("tff"/"bff") when the source is interlaced: frames go through bwdif."""
    tonemap: ToneMap | None = None
    """"pq" or "hlg" when the source is HDR: tone-mapped to SDR BT.709 (preflight.media.tonemap)."""

    def __post_init__(self) -> None:  # plain strings are accepted
        object.__setattr__(self, "audio", AudioMode(self.audio))
        if self.deinterlace is not None:
            object.__setattr__(self, "deinterlace", FieldOrder(self.deinterlace))
        if self.tonemap is not None:
            object.__setattr__(self, "tonemap", ToneMap(self.tonemap))

    def x264_options(self) -> dict[str, str]:
        opts = {"crf": str(self.crf), "preset": self.preset}
        if self.gop:
            opts["g"] = str(self.gop)
        # x264 otherwise picks float approximations by instruction set, so the same clip and
        # settings gave different bytes on different CPUs (a reproducibility promise for labs).
        params = ["cpu-independent=1"]
        if self.preset == "ultrafast":
            # ultrafast turns the 8x8 transform off, which makes x264 write Constrained Baseline;
            # the transform is cheap and keeps the stream High profile as the plan promises.
            params.append("8x8dct=1")
        opts["x264-params"] = ":".join(params)
        return opts

    def to_dict(self) -> dict[str, object]:
        return {
            "codec": self.codec,
            "profile": self.profile,
            "pix_fmt": self.pix_fmt,
            "crf": self.crf,
            "preset": self.preset,
            "movflags": self.movflags,
            "gop": self.gop,
            "audio": self.audio,
            "audio_codec": self.audio_codec,
            "audio_bitrate": self.audio_bitrate,
            "audio_reason": self.audio_reason,
            "reason": self.reason,
            "deinterlace": self.deinterlace,
            "tonemap": self.tonemap,
        }


def validate_encoder_options(*, crf: int, preset: str) -> None:
    """Raise :class:`~preflight.errors.UsageError` (saying how to fix) for an invalid CRF or preset."""
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise UsageError(
            "--crf must be an integer 0-51 (lower = better quality; 18 is near-transparent), "
            f"got {preview(crf)}"
        )
    if preset not in X264_PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(X264_PRESETS)} (got {preview(preset)})")


_TONEMAP_BY_TRANSFER = {"smpte2084": "pq", "arib-std-b67": "hlg"}
"""FFmpeg's names of the HDR transfers (what :attr:`Probe.color_transfer` holds) -> tone map."""


def plan_encoder(
    probe: Probe, rate: RatePlan, *, crf: int, preset: str, segments: int
) -> tuple[EncoderPlan, list[str]]:
    """H.264 High yuv420p 8-bit; audio copied when it is AAC and not retimed, else AAC."""
    validate_encoder_options(crf=crf, preset=preset)
    warnings: list[str] = []
    gop = max(1, round(float(rate.fps) * KEYFRAME_INTERVAL_S))
    notes = [
        f"H.264 High, yuv420p 8-bit, CRF {crf}, preset {preset}, keyframe at least every {gop} frames "
        "and at scene cuts, MP4 with faststart"
    ]
    if probe.bit_depth > 8:
        warnings.append(
            f"{probe.bit_depth}-bit input ({probe.pix_fmt}) converted to 8-bit yuv420p (dithered)"
        )
        notes.append(f"{probe.bit_depth}-bit -> 8-bit")
    tonemap = _TONEMAP_BY_TRANSFER.get(probe.color_transfer) if probe.hdr else None
    if tonemap:
        peak = HLG_PEAK_NITS if tonemap == "hlg" else PQ_SOURCE_PEAK_NITS
        notes.append(
            f"HDR ({probe.hdr}) tone-mapped to SDR BT.709: BT.2390 roll-off from {peak:g} to "
            f"{SDR_PEAK_NITS:g} cd/m^2, BT.2020 -> BT.709 gamut"
        )
        warnings.append(
            f"HDR input ({probe.hdr}) tone-mapped to SDR BT.709 (the editor works in SDR): highlights "
            "above ~35 cd/m^2 are compressed"
        )
    deinterlace = None
    if probe.interlaced:
        deinterlace = "bff" if probe.field_order in ("bb", "bt") else "tff"
        notes.append(f"interlaced ({probe.field_order}): deinterlaced with bwdif, one frame per frame")
    if not probe.audio:
        return EncoderPlan(
            crf=crf, preset=preset, gop=gop, reason="; ".join(notes), audio_reason="no audio",
            deinterlace=deinterlace, tonemap=tonemap,
        ), warnings
    a = probe.audio[0]
    if len(probe.audio) > 1:
        warnings.append(f"{len(probe.audio)} audio streams: only the first (#{a.index}) is kept")
    covered = a.duration_s is None or abs(a.duration_s - probe.duration_s) <= 0.5 / max(float(rate.fps), 1.0)
    if a.codec == "aac" and rate.retime == 1 and covered:
        how = "whole" if segments == 1 else "cut at the AAC packet nearest each segment boundary"
        return EncoderPlan(
            crf=crf, preset=preset, gop=gop, audio="copy", audio_codec="aac", reason="; ".join(notes),
            audio_reason=f"AAC audio copied without re-encoding ({how})", deinterlace=deinterlace,
            tonemap=tonemap,
        ), warnings
    if rate.retime != 1:
        why = f"retimed x{float(rate.retime):.4f} with the video (atempo: pitch kept)"
    elif a.codec != "aac":
        why = f"{a.codec} is not AAC"
    else:
        why = "audio does not span the video: re-encoded to pad/trim it to the exact length"
    bitrate = AUDIO_BITRATE_PER_CHANNEL * max(1, min(a.channels or 2, 8))
    return EncoderPlan(
        crf=crf, preset=preset, gop=gop, audio="aac", audio_codec="aac", audio_bitrate=bitrate,
        reason="; ".join(notes), audio_reason=f"re-encoded to AAC {bitrate // 1000} kb/s: {why}",
        deinterlace=deinterlace, tonemap=tonemap,
    ), warnings


