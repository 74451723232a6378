"""Reading the openings of both clips until their offset is settled, within a memory budget.

:func:`find_offset` is the first phase of the ``qa score`` pass (:mod:`qa.score`): it reads
source and edited items (``(index, time, luma, frame)``) while the offset search
(:class:`qa.align.OffsetSearch`, :func:`qa.align.estimate_offset`) needs them, holding their
luma so that the same frames can then be scored without decoding them twice, as long as
``PREFIX_BUDGET_BYTES`` allows.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Iterator

import numpy as np

from .align import (
    OFFSET_WINDOW,
    AlignmentPlan,
    OffsetEstimate,
    OffsetEvidence,
    OffsetSearch,
    estimate_offset,
    settle_offset,
    thumb_size,
    thumbnail,
)

__all__ = ["find_offset"]

PREFIX_BUDGET_BYTES = 256 * 1024 * 1024
"""Decoded frames held (both clips together) while the offset is estimated."""
HOLD_FRAMES_MIN = 40
"""Luma frames (both clips) that may always be held, whatever the budget: the opening at 4K."""
OPENING_MAX_OFFSET = 64
"""Offsets searched in the opening window (the clip-wide search covers the whole range)."""


def _prefix_window(plan: AlignmentPlan, max_offset: int) -> int:
    g = plan.grid
    bytes_per = g.width * g.height * 1.5 * (1 if plan.bit_depth <= 8 else 2)
    fit = int(PREFIX_BUDGET_BYTES / (2.0 * bytes_per))
    return max(2 * max_offset + 3, min(OFFSET_WINDOW + max_offset, fit))


def _detached(item: tuple[int, float, np.ndarray, object]) -> tuple[int, float, np.ndarray, None]:
    """An item that no longer needs its decoded frame: the luma is copied if it was a view.

    Held prefix frames then cost their luma only (2 MB at 1080p instead of a 3 MB YUV frame).
    """
    i, t, luma, _frame = item
    return i, t, (luma if luma.flags.owndata else luma.copy()), None


def find_offset(
    s_items: Iterator, e_items: Iterator, src_buf: deque, edt_buf: deque, plan: AlignmentPlan, max_offset: int
) -> tuple[OffsetEstimate, OffsetEvidence]:
    """Read both clips until the offset is settled, holding their luma in ``src_buf``/``edt_buf``.

    Two estimates from the same thumbnails: the opening's (:func:`qa.align.estimate_offset` over
    the first ``_prefix_window`` frames, as before) and the clip-wide streaming search
    (:class:`qa.align.OffsetSearch`), which keeps reading while the evidence is not decisive (a
    still opening). Held luma is bounded by ``PREFIX_BUDGET_BYTES`` (or ``HOLD_FRAMES_MIN``
    frames, whichever is larger): past it the buffers are emptied, reading goes on with
    thumbnails only, and ``evidence.redecoded`` tells the caller to start over.
    """
    size = thumb_size(plan.grid)
    scale8 = 255.0 / plan.data_range
    m_open = min(max_offset, OPENING_MAX_OFFSET)
    window = _prefix_window(plan, m_open)
    e_cap = 2 * window + 2 * m_open
    g = plan.grid
    limit = max(PREFIX_BUDGET_BYTES, HOLD_FRAMES_MIN * g.width * g.height * (1 if plan.bit_depth <= 8 else 2))
    search = OffsetSearch(
        max_offset=max_offset, source_period=plan.source_period, edited_period=plan.edited_period
    )
    s_th: list[np.ndarray] = []
    s_t: list[float] = []
    e_th: list[np.ndarray] = []
    e_t: list[float] = []
    opening: OffsetEstimate | None = None
    state = {"held": 0, "over": False, "edited_done": False, "horizon": math.inf, "e_open": -1}

    def set_horizon(t_last: float) -> None:
        """The opening's edited frames end at the first past ``horizon`` (as the old prefix read)."""
        state["horizon"] = h = t_last + (m_open + 1) / plan.source_fps
        k = int(np.searchsorted(e_t, h, side="right"))
        if k < len(e_t):
            state["e_open"] = k + 1 if state["e_open"] < 0 else min(k + 1, state["e_open"])

    def th(luma: np.ndarray) -> np.ndarray:
        t = thumbnail(luma, size)
        return t * scale8 if scale8 != 1.0 else t

    def hold(buf: deque, item: tuple) -> None:
        if state["over"]:
            return
        item = _detached(item)
        buf.append(item)
        state["held"] += item[2].nbytes
        if state["held"] > limit:
            state["over"] = True
            src_buf.clear()
            edt_buf.clear()

    def read_edited() -> None:
        item = next(e_items, None)
        if item is None:
            state["edited_done"] = True
            search.end_edited()
            if state["e_open"] < 0:
                state["e_open"] = len(e_t)
            return
        thumb = th(item[2])
        if len(e_t) < e_cap:
            e_th.append(thumb)
            e_t.append(item[1])
            if state["e_open"] < 0 and (item[1] > state["horizon"] or len(e_t) >= e_cap):
                state["e_open"] = len(e_t)  # the opening's edited frames: as far as the old prefix read
        search.add_edited(item[1], thumb)
        hold(edt_buf, item)

    def open_estimate() -> OffsetEstimate:
        n = state["e_open"]
        return estimate_offset(s_th, s_t, e_th[:n], e_t[:n], max_offset=m_open,
                               source_period=plan.source_period, edited_period=plan.edited_period)

    for item in s_items:
        thumb = th(item[2])
        if len(s_t) < window:
            s_th.append(thumb)
            s_t.append(item[1])
            if len(s_t) == window:
                set_horizon(item[1])
        search.add_source(item[1], thumb)
        hold(src_buf, item)
        while not state["edited_done"] and (search.wants_edited(item[1]) or (
                len(s_t) == window and state["e_open"] < 0)):
            read_edited()
        if opening is None and len(s_t) == window:
            opening = open_estimate()
        if opening is not None and (search.settled or search.exhausted or (
                opening.method == "detected" and search.best() == opening.frames)):
            break  # a moving opening that the evidence so far agrees with reads no further, as before
    else:  # the source ended first
        if s_t and state["horizon"] == math.inf:
            set_horizon(s_t[-1])
        while not state["edited_done"] and state["e_open"] < 0:
            read_edited()
    if opening is None:
        opening = open_estimate()
    evidence = search.evidence()
    est = settle_offset(opening, search, source_period=plan.source_period)
    return est, dataclasses.replace(evidence, redecoded=state["over"])
