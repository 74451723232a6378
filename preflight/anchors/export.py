"""``preflight anchors``: write the frame at each anchor time as a full-resolution PNG.

The frame is taken from the fixed segment, not from the source: the segment is what the editor
receives, so the PNG is exactly what it shows at that time (after rate conversion, scaling and
encoding). A frame is picked by its presentation time: the one nearest to the anchor time (the
earlier one on a tie; ``last`` is the last frame). The PNG holds the decoder's frame converted to
8-bit RGB by libswscale, the same conversion ``av.VideoFrame.to_ndarray(format="rgb24")`` makes,
so reading it back gives those pixels exactly. A contact sheet (``contact_sheet.png``) shows
every exported frame small, labelled with its file name.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import cv2
import numpy as np

from ..errors import InputError, OutputError, UsageError, path_text_problem, preview
from ..fix.anchors import AnchorSpec, place_anchors
from ..fix.manifest import load_manifest
from ..media.outputs import atomic_path, check_output_path
from ..media.probe import check_readable_file, open_container

CONTACT_SHEET = "contact_sheet.png"
_THUMB_WIDTH = 320


@dataclass(frozen=True)
class AnchorTarget:
    """A frame to export: ``at`` (``first``/``last``/``time``) at ``time_s`` of ``video``."""

    video: Path
    at: str
    time_s: float
    label: str

    @property
    def png_name(self) -> str:
        """``<segment file stem>_<seconds>s.png``."""
        return f"{self.video.stem}_{self.time_s:.2f}s.png"


@dataclass(frozen=True)
class AnchorFrame:
    """An exported frame: the target, the frame's decode index and time, the PNG written."""

    target: AnchorTarget
    frame_index: int
    frame_time_s: float
    png: Path

    def to_dict(self) -> dict[str, object]:
        return {
            "video": str(self.target.video),
            "at": self.target.at,
            "time_s": self.target.time_s,
            "label": self.target.label,
            "frame_index": self.frame_index,
            "frame_time_s": round(self.frame_time_s, 6),
            "png": str(self.png),
        }


def _is_manifest(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def targets_for(path: str | os.PathLike[str], *, at: Sequence[float] = ()) -> list[AnchorTarget]:
    """What to export for a manifest (its anchors, or ``at`` source seconds placed into its
    segments) or for a clip (``at`` seconds of the clip).

    Raises
    ------
    UsageError
        A clip without ``at``, a manifest without anchors and without ``at``, a negative time.
    InputError
        An invalid manifest.
    """
    p = Path(path)
    if any(not (math.isfinite(t) and t >= 0) for t in at):
        raise UsageError("--at: times must be seconds >= 0")
    if not _is_manifest(p):
        if not at:
            raise UsageError(f"{p}: a clip needs --at TIME (or pass a fix manifest.json)")
        return [AnchorTarget(p, "time", round(t, 2), f"{t:g}") for t in at]
    load_manifest(p)  # validates
    doc = json.loads(p.read_text(encoding="utf-8"))
    folder = p.parent
    segs = doc["segments"]
    if at:
        plan = _plan_view(doc)
        specs = [AnchorSpec(text=f"{t:g}", at="time", seconds=float(t), image=None) for t in at]
        placed = place_anchors(specs, plan, max_anchors=len(specs), precision_s=0.01)
        return [AnchorTarget(folder / segs[a.segment - 1]["file"], a.at, a.time_s, a.spec) for a in placed]
    out = [
        AnchorTarget(folder / seg["file"], a["at"], float(a["time_s"]), a.get("image") or a["at"])
        for seg in segs
        for a in seg.get("anchors", ())
    ]
    if not out:
        raise UsageError(f"{p}: the manifest has no anchors; give --at TIME (source seconds)")
    return out


def _plan_view(doc: dict[str, Any]) -> Any:
    """The parts of a :class:`preflight.fix.plan.Plan` that :func:`place_anchors` reads, from a manifest."""
    out = doc["output"]
    segs = [
        SimpleNamespace(
            index=s["index"],
            start_frame=s["start_frame"],
            end_frame=s["end_frame"],
            frame_count=s["end_frame"] - s["start_frame"],
            source_start_s=s["source"]["start_s"],
            source_end_s=s["source"]["end_s"],
        )
        for s in doc["segments"]
    ]
    return SimpleNamespace(
        segments=segs,
        rate=SimpleNamespace(fps=Fraction(str(out["fps"])), retime=Fraction(str(out["retime"]))),
    )


def frames_at(
    video: str | os.PathLike[str], targets: Sequence[AnchorTarget]
) -> list[tuple[int, float, np.ndarray]]:
    """Decode ``video`` once; for each target its (frame index, frame time, RGB uint8 frame)."""
    best: list[tuple[float, int, float, av.VideoFrame] | None] = [None] * len(targets)
    last: tuple[int, float, av.VideoFrame] | None = None
    try:
        with open_container(str(video)) as container:
            stream = container.streams.video[0]
            tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1)
            first_pts = None
            for i, frame in enumerate(container.decode(stream)):
                pts = frame.pts if frame.pts is not None else i
                first_pts = pts if first_pts is None else first_pts
                t = float((pts - first_pts) * tb)
                last = (i, t, frame)
                for k, target in enumerate(targets):
                    err = abs(t - target.time_s)
                    cur = best[k]
                    if target.at != "last" and (cur is None or err < cur[0] - 1e-9):
                        best[k] = (err, i, t, frame)
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(str(video), f"cannot decode ({exc})") from None
    if last is None:
        raise InputError(str(video), "no video frames")
    out = []
    for k, target in enumerate(targets):
        item = best[k]
        i, t, frame = last if target.at == "last" or item is None else item[1:]
        out.append((i, t, frame.to_ndarray(format="rgb24")))
    return out


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB image as PNG, atomically (lossless)."""
    with atomic_path(path, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {path}")


def contact_sheet(frames: Sequence[tuple[str, np.ndarray]], *, columns: int = 4) -> np.ndarray:
    """Thumbnails of ``frames`` (label, RGB) in a grid, each labelled below."""
    columns = max(1, min(columns, len(frames)))
    thumbs = []
    for label, rgb in frames:
        h, w = rgb.shape[:2]
        tw = min(_THUMB_WIDTH, w)
        th = max(1, round(h * tw / w))
        small = cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA)
        cell = np.full((th + 24, _THUMB_WIDTH, 3), 255, np.uint8)
        cell[:th, :tw] = small
        cv2.putText(cell, label[:44], (4, th + 17), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        thumbs.append(cell)
    height = max(c.shape[0] for c in thumbs)
    cells = [np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0)), constant_values=255) for c in thumbs]
    cells += [np.full_like(cells[0], 255)] * (-len(cells) % columns)
    rows = [np.hstack(cells[i : i + columns]) for i in range(0, len(cells), columns)]
    return np.vstack(rows)


def export_anchor_frames(
    targets: Sequence[AnchorTarget], out_dir: str | os.PathLike[str], *, force: bool = False
) -> list[AnchorFrame]:
    """Write one PNG per target and the contact sheet into ``out_dir`` (created if missing).

    Every output path is checked before any decoding (``force`` to replace).
    """
    problem = path_text_problem(os.fspath(out_dir))
    if problem is not None:
        raise OutputError(f"-o {preview(os.fspath(out_dir))}: not a usable output folder: it {problem}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a directory")
    names = [t.png_name for t in targets]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UsageError(f"two anchors give the same frame file {dup}; give each time once")
    inputs = sorted({str(t.video) for t in targets})
    for video in inputs:
        check_readable_file(video)  # a missing clip or segment says so, before the folder is made
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"-o {out}: cannot create the folder ({reason})") from None
    try:
        return _export_into(out, targets, names, inputs, force=force)
    except BaseException:
        if created:  # nothing is left of a failed run in a folder it made
            for name in [*names, CONTACT_SHEET]:
                (out / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise


def _export_into(
    out: Path, targets: Sequence[AnchorTarget], names: list[str], inputs: list[str], *, force: bool
) -> list[AnchorFrame]:
    for name in [*names, CONTACT_SHEET]:
        check_output_path(out / name, inputs=inputs, force=force)
    by_video: dict[Path, list[int]] = {}
    for k, t in enumerate(targets):
        by_video.setdefault(t.video, []).append(k)
    results: list[AnchorFrame | None] = [None] * len(targets)
    sheet: list[tuple[str, np.ndarray] | None] = [None] * len(targets)
    for video, ks in by_video.items():
        for k, (i, t, rgb) in zip(ks, frames_at(video, [targets[k] for k in ks]), strict=True):
            png = out / names[k]
            write_png(png, rgb)
            results[k] = AnchorFrame(targets[k], i, t, png)
            sheet[k] = (names[k], rgb)
    write_png(out / CONTACT_SHEET, contact_sheet([s for s in sheet if s is not None]))
    return [r for r in results if r is not None]
