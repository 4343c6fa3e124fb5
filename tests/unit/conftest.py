"""Fixtures the unit tests share."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest


@pytest.fixture
def another_thread() -> Iterator[None]:
    """A thread that does not block SIGINT, as the stack has (its warm-up, its pollers): the kernel
    gives it the signal the main thread blocks, and Python then runs the handler on the main thread."""
    done = threading.Event()
    thread = threading.Thread(target=done.wait, daemon=True)
    thread.start()
    yield
    done.set()
    thread.join()
