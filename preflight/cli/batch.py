"""CLI glue of the batch mode shared by ``preflight check`` and ``qa score --pairs``.

Exit codes of items and of the batch are decided here (library code never sees them). Batch
exit code: 3 when any item had an error (unreadable input, bad mask, ...), else 1 when any item
failed its profile or gate, else 0 — the most actionable problem wins: an error means the item
was not judged at all, so a "1" would hide that some results are missing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

import click

from ..batch.inputs import is_glob
from ..batch.store import ItemRecord, Status
from .common import EXIT_FAIL, EXIT_INPUT, EXIT_PASS, describe_error, progress_bar

T = TypeVar("T")

BATCH_EXIT = {Status.PASSED: EXIT_PASS, Status.FAILED: EXIT_FAIL, Status.ERROR: EXIT_INPUT}

BATCH_EXIT_HELP = "Batch exit code: 3 if any item was unreadable, else 1 if any failed, else 0."
JOBS_HELP = "Batch: worker processes (default: the usable cores, at most 2; measured)."
"""``--jobs`` of every batch command (the cap is :data:`preflight.batch.runner.DEFAULT_JOBS_CAP`;
not imported here, so that ``--help`` does not load the decoder)."""

BATCH_HELP = (
    "Batch: more than one INPUT, a directory (searched recursively for videos by content), a "
    "quoted glob, --results, --jobs or --scheduler run every item and write one JSON line per item "
    f"(schema preflight.batch/1) to --results (rerun to resume) or to stdout. {BATCH_EXIT_HELP}"
)


def item_outcome(outcome: bool | BaseException) -> tuple[int, str | None]:
    """Exit code (and error line) of one item, as its single-item command would end."""
    if outcome is True:
        return EXIT_PASS, None
    if outcome is False:
        return EXIT_FAIL, None
    return describe_error(outcome)


def is_batch(inputs: Sequence[str], *, results: str | None, jobs: int | None, scheduler: str | None) -> bool:
    """Whether a ``check`` call is a batch (see :data:`BATCH_HELP`)."""
    if len(inputs) != 1 or results or jobs or scheduler:
        return True
    only = inputs[0]
    return os.path.isdir(only) or (not os.path.lexists(only) and is_glob(only))


def run_batch_command(
    prog: str,
    items: Sequence[T],
    task: Callable[[T], ItemRecord],
    *,
    key_of: Callable[[T], str],
    results: str | None,
    jobs: int | None,
    scheduler: str | None,
    quiet: bool,
) -> NoReturn:
    """Run the batch with a progress bar (items done / total, ETA), print, and exit with its code."""
    bars = []  # made once the number of items to run is known, so it starts with a total

    def on_start(total: int, todo: int) -> None:
        bars.append(progress_bar(todo, desc=prog, quiet=quiet, unit="item"))

    def on_record(record: ItemRecord) -> None:
        bars[0].update(1)
        if results is None:
            bars[0].clear()
            click.echo(record.to_line().decode(), nl=False)

    from ..batch.runner import run_batch

    try:
        summary = run_batch(
            items,
            task,
            key_of=key_of,
            outcome=item_outcome,
            results=results,
            jobs=jobs,
            scheduler=scheduler,
            on_record=on_record,
            on_start=on_start,
        )
    finally:
        for bar in bars:
            bar.close()
    c = summary.counts
    line = (
        f"{summary.total} items: {c.get(Status.PASSED, 0)} passed, {c.get(Status.FAILED, 0)} failed, "
        f"{c.get(Status.ERROR, 0)} errors"
    )
    if summary.skipped:
        line += f" ({summary.skipped} already in {results})"
    if results is not None:
        click.echo(f"{line}; results in {results}")
    elif not quiet:
        click.echo(f"{prog}: {line}", err=True)
    sys.exit(BATCH_EXIT[summary.status])
