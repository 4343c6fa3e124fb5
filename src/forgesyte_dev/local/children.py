"""The stack's child processes leave Ctrl-C to the stack.

A terminal's Ctrl-C reaches every process in its group. The stack's children (moto, the function
workers) must not die of it half-way: the stack stops them itself, crash-style, and records what
they were running. Ignoring SIGINT in the child's own code comes too late for a child still
importing Python's ``site`` (a traceback, "Fatal Python error: init_import_site"), so the signal is
blocked on the starting thread and the child inherits the mask from its first instruction, as
multiprocessing's own resource tracker is started. That tracker starts first: starting it unblocks
SIGINT on the calling thread, whatever the mask was.

Blocking it on one thread does not keep it from the process: another thread takes it, and Python
runs its handler on the main thread. A ``KeyboardInterrupt`` raised there half-way through
``Process.start()`` would leave a child spawned but never sent its work, and a ``Process`` that can
be neither joined nor killed. So on the main thread, Ctrl-C is also held until the child has started.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from multiprocessing import resource_tracker
from types import FrameType


@contextmanager
def ctrl_c_blocked() -> Iterator[None]:
    """Processes started inside are deaf to SIGINT for life; this thread hears it again after, and a
    Ctrl-C that came meanwhile is raised then."""
    resource_tracker.ensure_running()
    on_main = threading.current_thread() is threading.main_thread()
    held: AbstractContextManager[None] = _ctrl_c_held() if on_main else nullcontext()
    with held:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Python's SIGINT handler, only callable on the main thread, notes the signal; it is sent again,
    to the handler that was there before, on the way out."""
    heard: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        heard.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if heard:
            signal.raise_signal(signal.SIGINT)
