"""Byte sources the prober reads from, and the request-counting cache in front of them.

A source answers ranged reads; S3's lives in :mod:`forgesyte_core.storage`. The cache turns the
prober's small reads into few, larger requests and counts both, so the read budget is measurable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ByteSource(Protocol):
    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes:
        """Exactly one request for ``length`` bytes at ``offset`` (fewer only at the end)."""
        ...


class BytesSource:
    def __init__(self, data: bytes) -> None:
        self._data = data

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, offset: int, length: int) -> bytes:
        return self._data[offset : offset + length]


class FileSource:
    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._size = self._path.stat().st_size

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        with self._path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)


class ReadError(Exception):
    pass


class BudgetSpent(ReadError):
    """The probe's request budget is used up (the file is not unreadable)."""


JOIN_LIMIT = 1024 * 1024


class RangeCache:
    """Serves reads from fetched segments, fetching only the bytes not yet held."""

    def __init__(self, source: ByteSource, max_requests: int = 12) -> None:
        self.source = source
        self.size = source.size
        self.requests = 0
        self.bytes_read = 0
        self._max_requests = max_requests
        self._segments: list[tuple[int, bytes]] = []

    def read(self, offset: int, length: int, prefetch: int = 0) -> bytes:
        """``length`` bytes at ``offset`` (clipped to the object); a miss fetches ``prefetch`` more."""
        return bytes(self.view(offset, length, prefetch))

    def view(self, offset: int, length: int, prefetch: int = 0) -> memoryview:
        """As :meth:`read`, without copying: large boxes (``moov``) are parsed in place."""
        end = min(self.size, offset + length)
        if offset >= end:
            return memoryview(b"")
        for start, data in self._segments:
            if start <= offset and end <= start + len(data):
                return memoryview(data)[offset - start : end - start]
        # Extend the segment that holds the start of the range, if any, with one request. A large
        # range is fetched whole instead: joining would hold it twice at once.
        for index, (start, data) in enumerate(self._segments):
            if start <= offset < start + len(data) and end - offset <= JOIN_LIMIT:
                tail = self._fetch(start + len(data), min(self.size, end + prefetch))
                self._segments[index] = (start, data + tail)
                merged = self._segments[index][1]
                return memoryview(merged)[offset - start : end - start]
        data = self._fetch(offset, min(self.size, end + prefetch))
        self._segments.append((offset, data))
        return memoryview(data)[: end - offset]

    def _fetch(self, start: int, stop: int) -> bytes:
        if self.requests >= self._max_requests:
            raise BudgetSpent(f"more than {self._max_requests} ranged reads needed")
        data = self.source.read(start, stop - start)
        self.requests += 1
        self.bytes_read += len(data)
        if len(data) != stop - start:
            raise ReadError(f"short read at offset {start}: wanted {stop - start} bytes, got {len(data)}")
        return data
