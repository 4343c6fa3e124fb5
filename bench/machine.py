"""How fast this machine is today, so figures from runs on different days can be set side by side:
a plain Python loop (compute), and a message passed to a thread and back over a socket pair (the
wake-ups every request through the local stack makes many of). Machines of one kind here have run
the loop at one speed and the round trip at very different ones."""

from __future__ import annotations

import platform
import socket
import threading
import time
from typing import Any


def python_loop_s(steps: int = 10_000_000, rounds: int = 3) -> float:
    """The best of ``rounds`` runs of a plain loop of ``steps`` additions, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        began, total = time.perf_counter(), 0
        for step in range(steps):
            total += step
        best = min(best, time.perf_counter() - began)
    return round(best, 3)


def thread_round_trip_us(trips: int = 20_000) -> float:
    """Microseconds for one byte sent to an echoing thread and read back (median of 3 runs)."""
    mine, theirs = socket.socketpair()

    def echo() -> None:
        while data := theirs.recv(64):
            theirs.send(data)

    echoing = threading.Thread(target=echo, daemon=True)
    echoing.start()
    runs = []
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(trips):
            mine.send(b"x")
            mine.recv(64)
        runs.append((time.perf_counter() - began) / trips * 1e6)
    mine.close()
    echoing.join(timeout=5)
    theirs.close()
    return round(sorted(runs)[1], 1)


def describe() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python_loop_10M_s": python_loop_s(),
        "thread_round_trip_us": thread_round_trip_us(),
    }
