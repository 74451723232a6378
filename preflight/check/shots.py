"""Shots and transitions: the vocabulary shared by analyzers, the verdict and the planner."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..enums import TextEnum


class TransitionType(TextEnum):
    """What kind of boundary a :class:`Transition` is."""

    CUT = "cut"
    DISSOLVE = "dissolve"
    FADE_IN = "fade_in"
    FADE_OUT = "fade_out"
    WIPE = "wipe"


TRANSITION_TYPES = tuple(t.value for t in TransitionType)


@dataclass(frozen=True)
class Transition:
    """A boundary between two shots.

    Frame numbers are 0-based decode order. A hard cut has ``start_frame == end_frame`` = the
    first frame of the new shot. A gradual transition spans ``[start_frame, end_frame]``
    inclusive; fades are named ``fade_in``/``fade_out`` with ``via`` = "black" or "white".
    """

    type: TransitionType
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    confidence: float
    via: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", TransitionType(self.type))  # a plain string is accepted

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "type": self.type,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "confidence": round(self.confidence, 3),
        }
        if self.via:
            d["via"] = self.via
        return d


@dataclass(frozen=True)
class Shot:
    """Frames ``[start_frame, end_frame]`` inclusive between transitions."""

    start_frame: int
    end_frame: int

    @property
    def frame_count(self) -> int:
        return self.end_frame - self.start_frame + 1


def shots_from_transitions(transitions: list[Transition], frame_count: int) -> list[Shot]:
    """Split ``[0, frame_count)`` into shots.

    A cut starts a new shot at its frame. A gradual transition's frames belong to neither shot
    (they are a mix of both): the previous shot ends before it and the next starts after it,
    so per-shot measures (shake, exposure) are not polluted by the blend.
    """
    shots: list[Shot] = []
    start = 0
    for t in sorted(transitions, key=lambda t: t.start_frame):
        if t.type == "cut":
            end, nxt = t.start_frame - 1, t.start_frame
        else:
            end, nxt = t.start_frame - 1, t.end_frame + 1
        if end >= start:
            shots.append(Shot(start, end))
        start = max(start, nxt)
    if start <= frame_count - 1:
        shots.append(Shot(start, frame_count - 1))
    if not shots and frame_count > 0:
        shots.append(Shot(0, frame_count - 1))
    return shots


def seconds(pts: int, start_pts: int, time_base: Fraction) -> float:
    """Seconds from the first frame for a PTS."""
    return float((pts - start_pts) * time_base)
