"""Anchor frames out of a fix: the exact frame the editor sees at each anchor time, as a PNG."""

from .export import AnchorFrame, AnchorTarget, export_anchor_frames, targets_for

__all__ = ["AnchorFrame", "AnchorTarget", "export_anchor_frames", "targets_for"]
