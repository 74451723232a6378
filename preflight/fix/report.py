"""What ``fix`` reports: the ``preflight.fix/1`` JSON document and the plan as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .anchors import PlacedAnchor
    from .plan import Plan

FIX_SCHEMA = "preflight.fix/1"


def fix_document(
    plan: Plan, *, dry_run: bool, anchors: Sequence[object], files: Mapping[str, object] | None
) -> dict[str, object]:
    """The ``fix --json`` document (schema ``preflight.fix/1``); ``files`` is None for a dry run."""
    return {
        "schema": FIX_SCHEMA,
        "dry_run": dry_run,
        "ok": plan.ok,
        "plan": plan.to_dict(),
        "anchors": list(anchors),
        "files": None if files is None else dict(files),
    }


def render_plan(plan: Plan, anchors: Sequence[PlacedAnchor] = ()) -> str:
    """The plan as a human-readable table (without ``plan.warnings``: see ``fix_command``)."""
    r, s, a, e = plan.rate, plan.size, plan.aspect, plan.encoder
    lines = [
        f"plan for {plan.source} (profile {plan.profile})",
        f"  frame rate  {float(r.source_fps):.3f} -> {float(r.fps):.3f} fps [{r.mode}]  {r.reason}",
        f"  size        {s.display_width}x{s.display_height} -> {s.width}x{s.height}  {s.reason}",
        f"  aspect      {a.reason}",
        f"  encoder     {e.reason}",
        f"  audio       {e.audio_reason}",
        f"  split       {plan.split_reason}",
    ]
    if plan.segments:
        lines.append("")
        lines.append(
            f"  {'#':>3}  {'start s':>8}  {'end s':>8}  {'dur s':>7}  {'frames':>6}  {'cuts':>4}  boundary"
        )
        for seg in plan.segments:
            lines.append(
                f"  {seg.index:>3}  {seg.start_s:>8.2f}  {seg.end_s:>8.2f}  {seg.duration_s:>7.2f}  "
                f"{seg.frame_count:>6}  {len(seg.transitions):>4}  {seg.boundary}"
            )
    if anchors:
        lines.append("")
        for anc in anchors:
            lines.append(f"  anchor {anc.spec!r} -> segment {anc.segment} at {anc.at} {anc.time_s:.2f} s")
    # plan.warnings are not repeated here: the command prints each once on stderr.
    return "\n".join(lines)
