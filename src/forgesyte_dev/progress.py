"""Progress for people and for logs: a tqdm bar (rate, ETA) on a terminal, plain lines otherwise.

When the output is a log file or a CI console, ``\\r`` redraws are noise: each tenth of the way is
one line with the same rate and ETA tqdm would show.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Never

from tqdm import tqdm

Report = Callable[[int, int], None]


def progress(label: str, unit: str = "B", stream: IO[str] | None = None, interactive: bool | None = None) -> Report:
    """A ``report(done, total)`` callable; ``unit`` "B" shows bytes (kB, MB) and bytes per second."""
    stream = stream or sys.stderr
    if interactive if interactive is not None else stream.isatty():
        return _Bar(label, unit, stream)
    return _Lines(label, unit, stream)


class _Bar:
    def __init__(self, label: str, unit: str, stream: IO[str]) -> None:
        self._label, self._unit, self._stream = label, unit, stream
        self._bar: tqdm[Never] | None = None

    def __call__(self, done: int, total: int) -> None:
        bar = self._bar
        if bar is None:
            scale = self._unit == "B"
            bar = self._bar = tqdm(total=total, desc=self._label, unit=self._unit, unit_scale=scale, file=self._stream)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()


class _Lines:
    def __init__(self, label: str, unit: str, stream: IO[str]) -> None:
        self._label, self._unit, self._stream = label, unit, stream
        self._started = time.monotonic()
        self._next_tenth = 0

    def __call__(self, done: int, total: int) -> None:
        tenth = 10 if total <= 0 or done >= total else 10 * done // total
        if tenth < self._next_tenth:
            return
        self._next_tenth = tenth + 1
        meter = tqdm.format_meter(
            done,
            total,
            time.monotonic() - self._started,
            prefix=self._label,
            unit=self._unit,
            unit_scale=self._unit == "B",
            ncols=0,  # no bar: the percentage, counts, rate and ETA only
        )
        self._stream.write(meter + "\n")
        self._stream.flush()


class JobProgress:
    """Follows a job's status and percentage: a bar on a terminal, a line per status or tenth otherwise."""

    def __init__(self, job_id: str, stream: IO[str] | None = None, interactive: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self._interactive = self._stream.isatty() if interactive is None else interactive
        self._label = f"job {job_id[:8]}"
        self._started = time.monotonic()
        self._bar: tqdm[Never] | None = None
        self._last: tuple[str, int] | None = None

    def __call__(self, job: dict[str, object]) -> None:
        status, percent = str(job["status"]), int(str(job.get("progress") or 0))
        shown = status + _segments(job)
        if self._interactive:
            self._draw(shown, percent)
        elif self._last is None or status != self._last[0] or percent // 10 > self._last[1] // 10:
            elapsed = time.monotonic() - self._started
            eta = elapsed * (100 - percent) / percent if 0 < percent < 100 else None
            timing = f"elapsed {tqdm.format_interval(elapsed)}" + (f", ETA {tqdm.format_interval(eta)}" if eta else "")
            self._stream.write(f"{self._label}: {shown} {percent}% ({timing})\n")
            self._stream.flush()
        self._last = (status, percent)

    def _draw(self, status: str, percent: int) -> None:
        bar = self._bar
        if bar is None:
            layout = "{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
            bar = self._bar = tqdm(total=100, bar_format=layout, file=self._stream)
        bar.set_description_str(f"{self._label} {status:<9}", refresh=False)
        bar.update(percent - bar.n)
        if status.split(" ")[0] in ("completed", "failed", "cancelled"):
            bar.close()


def _segments(job: dict[str, object]) -> str:
    """ ", segments 3/5 done, 2 running" for a segmented job while it runs; "" otherwise."""
    counts = job.get("segments")
    if not isinstance(counts, dict) or str(job["status"]) != "running":
        return ""
    return f", segments {counts.get('done', 0)}/{counts.get('total', 0)} done, {counts.get('running', 0)} running"
