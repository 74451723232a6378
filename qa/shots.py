"""Shots of the source for per-shot pooling, found in the scoring pass itself (one decode): a thin
adapter over :class:`preflight.check.shot_tracker.ShotTracker`, the one shot tracker."""

from __future__ import annotations

from preflight.check.shot_tracker import ShotTracker
from preflight.check.shots import Shot


class SourceShots(ShotTracker):
    """:class:`ShotTracker` whose :meth:`finish` returns the shots (what ``qa score`` pools over)."""

    def finish(self) -> list[Shot]:  # type: ignore[override]
        super().finish()
        return self.shots()
