"""One runner for every batch: items go to a ``concurrent.futures.Executor``, records come back.

The executor is either a local ``ProcessPoolExecutor`` (``--jobs``) or a Dask cluster's
``Client.get_executor()`` (``--scheduler``): both hand out ``concurrent.futures.Future`` s, so
the same loop submits, waits for whichever finishes first and hands its record to ``on_record``
in the calling process (which appends it to the results file). At most ``window`` items are in
flight, so memory does not grow with the number of items.

A worker process that dies (a decoder crash, the OOM killer) breaks a local pool: the pool is
renewed and the items that were in flight run again, each one alone; an item that kills its
worker when running alone is recorded as an error.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

from ..errors import InputError, UsageError, preview
from .store import ItemRecord, ResultsStore, Status
from .tasks import Outcome

T = TypeVar("T")

DEFAULT_JOBS_CAP = 2
"""Measured on the 2-core development machine with benchmarks/bench_batch.py (README: Batch):
``check`` already overlaps decoding and analysis in two threads, so more processes than cores
only add memory."""


def default_jobs() -> int:
    """Worker processes for ``--jobs`` when not given: the usable cores, at most :data:`DEFAULT_JOBS_CAP`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, DEFAULT_JOBS_CAP))


def local_executor(jobs: int) -> ProcessPoolExecutor:
    """A process pool of ``jobs`` workers started by a fork server (no fork of a threaded parent)."""
    import multiprocessing

    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: give at least 1")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["preflight.batch.tasks", "preflight.check.result"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
"""Dask's network address schemes (``inproc://`` cannot reach another process)."""


def scheduler_address(text: str) -> str:
    """``--scheduler ADDRESS`` checked before any connection: ``[SCHEME://]HOST:PORT``.

    Raises
    ------
    UsageError
        Not an address Dask could connect to (unknown scheme, no host, no or a bad port, a path).
    """
    address = text.strip()
    scheme = address.partition("://")[0] if "://" in address else "tcp"
    problem = f"--scheduler {preview(text)}: expected a Dask scheduler address like tcp://host:8786"
    if len(address) > 300 or any(c.isspace() or not c.isprintable() for c in address):
        raise UsageError(problem)
    try:
        parts = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")
        port = parts.port
    except ValueError:
        raise UsageError(problem) from None
    if scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None or port == 0:
        raise UsageError(problem)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(problem)
    return address


@contextlib.contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """``(executor, worker threads)`` of the Dask scheduler at ``address``; closes the client after."""
    address = scheduler_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'video-preflight[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except ValueError as exc:  # an address Dask parses differently from scheduler_address
        raise UsageError(f"--scheduler {preview(address)}: not a usable address ({exc})") from None
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--scheduler {address}: cannot reach the scheduler ({exc})") from None
    try:
        threads = sum(client.nthreads().values())
        if threads < 1:
            raise UsageError(f"--scheduler {address}: no workers; start some with `dask worker {address}`")
        yield client.get_executor(pure=False), threads
    finally:
        client.close()


def run_items(
    items: Iterable[T],
    task: Callable[[T], ItemRecord],
    *,
    executor: Executor,
    window: int,
    key_of: Callable[[T], str],
    outcome: Outcome,
    on_record: Callable[[ItemRecord], None],
    renew: Callable[[], Executor] | None = None,
) -> None:
    """Run ``task`` on every item through ``executor``; call ``on_record`` as each one finishes.

    ``renew`` makes a fresh executor after a local pool broke (without it, the items in flight
    are recorded as errors). ``outcome`` turns an exception a future raised into the record's
    exit code and message.
    """
    if window < 1:
        raise ValueError(f"window {window}: give at least 1")
    queue: deque[T] = deque(items)
    suspects: set[str] = set()
    inflight: dict[Future[ItemRecord], T] = {}
    broken = False
    try:
        while queue or inflight:
            if broken and not inflight and renew is not None:
                _shutdown(executor)
                executor, broken = renew(), False
            if not broken:
                _fill(queue, inflight, suspects, executor, task, window, key_of)
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            solo = len(inflight) == 1
            for fut in done:
                item = inflight.pop(fut)
                key = key_of(item)
                try:
                    record = fut.result()
                except BrokenProcessPool:
                    broken = True
                    if renew is not None and not (solo and key in suspects):
                        suspects.add(key)
                        queue.appendleft(item)
                        continue
                    died = InputError(key, "the worker process died on this item (a crash while reading it, "
                                           "or killed, e.g. out of memory)")
                    record = _error(key, died, outcome)
                except Exception as exc:
                    record = _error(key, exc, outcome)
                suspects.discard(key)
                on_record(record)
    finally:
        _shutdown(executor)


def _shutdown(executor: Executor) -> None:
    """Stop ``executor``, dropping queued work where it can (Dask's ``ClientExecutor.shutdown``
    takes no ``cancel_futures``; the standard library's executors do)."""
    if "cancel_futures" in inspect.signature(executor.shutdown).parameters:
        executor.shutdown(wait=True, cancel_futures=True)
    else:
        executor.shutdown(wait=True)


def _fill(
    queue: deque[T],
    inflight: dict[Future[ItemRecord], T],
    suspects: set[str],
    executor: Executor,
    task: Callable[[T], ItemRecord],
    window: int,
    key_of: Callable[[T], str],
) -> None:
    """Submit queued items up to ``window``; a suspect of a broken pool runs alone."""
    while queue and len(inflight) < window:
        if any(key_of(i) in suspects for i in inflight.values()):
            return
        if key_of(queue[0]) in suspects and inflight:
            return
        item = queue.popleft()
        inflight[executor.submit(task, item)] = item
        if key_of(item) in suspects:
            return


def _error(key: str, exc: BaseException, outcome: Outcome, context: str = "") -> ItemRecord:
    code, message = outcome(exc)
    if context:
        message = f"{context}: {message}"
    return ItemRecord(key=key, status=Status.ERROR, exit_code=code, result=None, error=message, seconds=0.0)


@dataclass(frozen=True)
class BatchSummary:
    """Counts over every item of a batch, including those recorded by an earlier run."""

    total: int
    skipped: int
    counts: Mapping[Status, int]

    @property
    def status(self) -> Status:
        """The worst status: any error, else any failure, else passed."""
        for s in (Status.ERROR, Status.FAILED):
            if self.counts.get(s):
                return s
        return Status.PASSED


def run_batch(
    items: Sequence[T],
    task: Callable[[T], ItemRecord],
    *,
    key_of: Callable[[T], str],
    outcome: Outcome,
    results: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    on_record: Callable[[ItemRecord], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Run a batch: skip items already in ``results``, run the rest, append each record as it ends.

    Parameters
    ----------
    items, task, key_of
        The work: ``task(item)`` in a worker returns the item's record; ``key_of(item)`` its key.
    outcome
        Exit code and message of an item (:data:`preflight.batch.tasks.Outcome`).
    results
        The JSONL results file (created if missing); ``None`` records nothing (``on_record``
        still sees every record).
    jobs, scheduler
        Local worker processes (default :func:`default_jobs`), or the address of a Dask scheduler.
    on_record, on_start
        Called in this process with each finished record, and once with (items, items to run).
    """
    keys = [key_of(i) for i in items]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise UsageError(f"{dup}: listed twice in this batch")
    if scheduler:
        scheduler_address(scheduler)  # a malformed address fails before the results file is made
    counts: Counter[Status] = Counter()

    def record(r: ItemRecord) -> None:
        if store is not None:
            store.append(r)
        counts[r.status] += 1
        if on_record is not None:
            on_record(r)

    with contextlib.ExitStack() as stack:
        store = stack.enter_context(ResultsStore(results)) if results is not None else None
        done = store.statuses if store is not None else {}
        todo = [i for i, k in zip(items, keys, strict=True) if k not in done]
        for k in keys:
            if k in done:
                counts[done[k]] += 1
        if on_start is not None:
            on_start(len(items), len(todo))
        if todo:
            if scheduler:
                executor, threads = stack.enter_context(dask_executor(scheduler))
                run_items(
                    todo,
                    task,
                    executor=executor,
                    window=2 * threads,
                    key_of=key_of,
                    outcome=outcome,
                    on_record=record,
                )
            else:
                n = min(jobs or default_jobs(), len(todo))
                run_items(
                    todo,
                    task,
                    executor=local_executor(n),
                    window=2 * n,
                    key_of=key_of,
                    outcome=outcome,
                    on_record=record,
                    renew=lambda: local_executor(n),
                )
    return BatchSummary(total=len(items), skipped=len(items) - len(todo), counts=dict(counts))
