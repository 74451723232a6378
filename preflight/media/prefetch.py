"""The one threaded reader: run a decoding iterable in a thread, hand items over through a bounded queue.

Decoding in PyAV releases the GIL, so a reader thread overlaps decoding with the consumer's
work (analysis in ``preflight check``, SSIM in ``qa score``). :class:`Prefetch` is the only
place that does this:

* **bounded memory**: at most ``depth`` items wait in the queue, so a fast decoder never runs
  ahead of a slow consumer by more than that;
* **exceptions** raised while producing are re-raised in the consumer, at the point in the
  stream where they happened;
* **stop**: when the consumer stops early (break, exception, :meth:`Prefetch.close`), the
  producer is told through a ``threading.Event`` (which it may also pass to the decoder), the
  queue is drained so it never blocks, and the iterable is closed in the producer's own thread
  (so the container is released there), then the thread is joined;
* **warnings** raised by the producer (``warn`` given to the factory) are forwarded to
  ``on_warning`` from the consumer's thread, in order, just before the next item they precede
  (a CLI prints them between its progress updates, never from a foreign thread).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from ..sinks import WarningSink

T = TypeVar("T")

_END = object()


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Prefetch(Generic[T]):
    """Produce ``factory(stop, warn)``'s items in a daemon thread; iterate to consume them.

    Parameters
    ----------
    factory : callable
        ``factory(stop, warn) -> iterable``, called in the reader thread. ``stop`` is set when
        the consumer is done (pass it to a decoder that can stop between packets); ``warn`` is
        the thread-safe warning sink to give the decoder.
    depth : int
        Items that may wait in the queue (>= 1).
    on_warning : callable, optional
        Receives the producer's warnings, from the consumer's thread.
    name : str
        Thread name (shows in profilers and ``py-spy dump``).

    Examples
    --------
    >>> with Prefetch(lambda stop, warn: range(3), depth=2) as items:
    ...     list(items)
    [0, 1, 2]
    """

    def __init__(
        self,
        factory: Callable[[threading.Event, WarningSink], Iterable[T]],
        *,
        depth: int = 2,
        on_warning: WarningSink | None = None,
        name: str = "preflight-prefetch",
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._q: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._factory = factory
        self._on_warning = on_warning
        self._warnings: deque[str] = deque()
        self.count = 0
        """Items handed to the consumer so far."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- producer side
    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        items: Iterable[T] | None = None
        try:
            items = self._factory(self._stop, self._warnings.append)
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # in this thread, so the container is released here

    # ---------------------------------------------------------------- consumer side
    def _flush_warnings(self) -> None:
        while self._warnings:
            message = self._warnings.popleft()
            if self._on_warning is not None:
                self._on_warning(message)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._q.get()
            self._flush_warnings()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            self.count += 1
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the producer, drain the queue, join the thread (idempotent)."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._q.get(timeout=0.05)
        self._thread.join()
        self._flush_warnings()

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def prefetch(items: Iterable[T], *, depth: int = 2, on_warning: WarningSink | None = None) -> Iterator[T]:
    """Iterate ``items`` (already built) through a :class:`Prefetch` reader thread.

    The reader is closed when this generator is exhausted or closed (e.g. the consumer breaks).
    """
    with Prefetch(lambda _stop, _warn: items, depth=depth, on_warning=on_warning) as reader:
        yield from reader
