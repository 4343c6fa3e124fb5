"""The reader thread that runs ahead of inference: order, errors, and stopping when the consumer stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from forgesyte_tracking.prefetch import prefetched


def test_items_arrive_in_order_and_at_most_depth_ahead() -> None:
    made: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(50):
            made.append(i)
            yield i

    seen = []
    for item in prefetched(produce(), depth=3):
        time.sleep(0.002)
        assert len(made) - len(seen) <= 3 + 2  # the queue, the one being made, the one being used
        seen.append(item)
    assert seen == list(range(50))


def test_an_error_in_the_reader_reaches_the_consumer() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise OSError("the decoder failed")

    stream = prefetched(produce(), depth=2)
    assert next(stream) == 1
    with pytest.raises(OSError, match="the decoder failed"):
        next(stream)


def test_closing_the_consumer_stops_the_reader() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    stream = prefetched(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    assert threading.active_count() == before
