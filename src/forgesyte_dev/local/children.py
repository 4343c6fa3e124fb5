"""The stack's child processes leave Ctrl-C to the stack.

A terminal's Ctrl-C reaches every process in its group. The stack's children (moto, the function
workers) must not die of it half-way: the stack stops them itself, crash-style, and records what
they were running. Ignoring SIGINT in the child's own code comes too late for a child still
importing Python's ``site`` (a traceback, "Fatal Python error: init_import_site"), so the signal is
blocked on the starting thread and the child inherits the mask from its first instruction, as
multiprocessing's own resource tracker is started. That tracker starts first: starting it unblocks
SIGINT on the calling thread, whatever the mask was.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker


@contextmanager
def ctrl_c_blocked() -> Iterator[None]:
    """Processes started inside are deaf to SIGINT for life; this thread hears it again after."""
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
