"""preflight.media.prefetch: order, bounded queue, exceptions and warnings in the consumer, early stop."""

from __future__ import annotations

import threading

import pytest

from preflight.media.prefetch import Prefetch, prefetch


def test_items_arrive_in_order_and_the_queue_is_bounded() -> None:
    produced: list[int] = []

    def factory(_stop: threading.Event, _warn):
        for i in range(50):
            produced.append(i)
            yield i

    with Prefetch(factory, depth=3) as reader:
        it = iter(reader)
        assert next(it) == 0
        threading.Event().wait(0.3)  # let the producer run ahead as far as it can
        # consumed 1, queue holds 3, the producer may hold one more waiting to be put
        assert len(produced) <= 1 + 3 + 1
        assert [0, *it] == list(range(50))
        assert reader.count == 50


def test_producer_exception_is_reraised_in_the_consumer_after_earlier_items() -> None:
    def factory(_stop, _warn):
        yield 1
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"), Prefetch(factory) as reader:
        for item in reader:
            got.append(item)
    assert got == [1]


def test_warnings_reach_the_consumer_thread_in_order() -> None:
    seen: list[tuple[str, str]] = []

    def factory(_stop, warn):
        warn("first")
        yield 1
        warn("second")
        yield 2

    def sink(message: str) -> None:
        seen.append((message, threading.current_thread().name))

    reader = Prefetch(factory, on_warning=sink)
    assert list(reader) == [1, 2]
    reader.close()
    assert [m for m, _ in seen] == ["first", "second"]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_early_stop_closes_the_iterable_in_the_producer_and_joins() -> None:
    closed: list[str] = []

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(threading.current_thread().name)

    gen = prefetch(items(), depth=2)
    assert next(gen) == 0
    gen.close()
    assert closed == ["preflight-prefetch"]
    assert not any(t.name == "preflight-prefetch" for t in threading.enumerate())


def test_stop_event_is_set_when_the_consumer_closes() -> None:
    events: list[threading.Event] = []

    def factory(stop: threading.Event, _warn):
        events.append(stop)
        while not stop.is_set():
            yield 0

    reader = Prefetch(factory, depth=1)
    next(iter(reader))
    reader.close()
    assert events[0].is_set()


def test_depth_is_validated() -> None:
    with pytest.raises(ValueError, match="depth"):
        Prefetch(lambda _s, _w: (), depth=0)
