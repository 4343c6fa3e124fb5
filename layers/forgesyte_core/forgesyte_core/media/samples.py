"""Where each video frame's bytes lie in an MP4, and which frames are keyframes.

A segmented run (see :mod:`forgesyte_core.compute.segments`) cuts a video at keyframes and has each
runner read only its own frames' bytes: that needs the video track's sample tables (``stsz`` sizes,
``stsc`` + ``stco``/``co64`` chunk offsets, ``stss`` sync samples). Pure: reads go through a
:class:`~forgesyte_core.media.source.RangeCache`, so ingest reuses the bytes its probe already holds.
Sample order is decode order; for the closed-GOP files encoders write, the frames of one keyframe's
group are the same in presentation order, so a keyframe's sample index is its frame index.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.source import RangeCache

_CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl"}
MAX_TOP_LEVEL = 10_000


@dataclass(frozen=True)
class BoxSpan:
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class SampleTable:
    """The video track's samples: byte offset and size of each, and the keyframes' indices (0-based)."""

    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    keyframes: tuple[int, ...]
    moov: BoxSpan
    boxes: tuple[tuple[str, BoxSpan], ...] = ()  # every top-level box, in file order

    @property
    def frames(self) -> int:
        return len(self.sizes)

    def keyframe_at_or_before(self, frame: int) -> int:
        return self.keyframes[max(0, bisect.bisect_right(self.keyframes, max(0, frame)) - 1)]

    def byte_span(self, first: int, stop: int) -> BoxSpan:
        """The one contiguous range holding samples ``first`` to ``stop - 1`` (interleaved audio too)."""
        first, stop = max(0, first), min(self.frames, stop)
        if first >= stop:
            return BoxSpan(0, 0)
        start = min(self.offsets[first:stop])
        end = max(offset + size for offset, size in zip(self.offsets[first:stop], self.sizes[first:stop], strict=True))
        return BoxSpan(start, end - start)


def top_level_boxes(cache: RangeCache) -> Iterator[tuple[str, BoxSpan]]:
    position = 0
    for _ in range(MAX_TOP_LEVEL):
        if position + 8 > cache.size:
            return
        header = cache.read(position, 16, prefetch=4096)
        size, kind = struct.unpack(">I4s", header[:8])
        if size == 1:
            size = struct.unpack(">Q", header[8:16])[0]
        elif size == 0:
            size = cache.size - position
        if size < 8:
            raise InvalidMedia(f"malformed: box of {size} bytes at offset {position}")
        yield kind.decode("latin-1"), BoxSpan(position, size)
        position += size


def read_sample_table(cache: RangeCache) -> SampleTable:
    """The video track's sample table; InvalidMedia when the file has none to cut by (fragmented)."""
    boxes = tuple(top_level_boxes(cache))
    moov = next((span for kind, span in boxes if kind == "moov"), None)
    if moov is None:
        raise InvalidMedia("no 'moov' box to read the sample tables from")
    data = memoryview(cache.read(moov.offset, moov.size))
    for trak in _children(data[8:], "trak"):
        tables = _video_tables(trak)
        if tables is not None:
            return _table(tables, moov, boxes)
    raise InvalidMedia("no video track with sample tables (a fragmented MP4 is not cut into segments)")


def _boxes(data: memoryview) -> Iterator[tuple[str, memoryview]]:
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[position + 8 : position + 16])[0], 16
        elif size == 0:
            size = len(data) - position
        if size < header or position + size > len(data):
            raise InvalidMedia("malformed: a box overruns its parent in 'moov'")
        yield kind.decode("latin-1"), data[position + header : position + size]
        position += size


def _children(data: memoryview, wanted: str) -> Iterator[memoryview]:
    return (body for kind, body in _boxes(data) if kind == wanted)


def _video_tables(trak: memoryview) -> dict[str, memoryview] | None:
    tables: dict[str, memoryview] = {}
    handler = ""

    def walk(data: memoryview) -> None:
        nonlocal handler
        for kind, body in _boxes(data):
            if kind == "hdlr" and len(body) >= 12:
                handler = bytes(body[8:12]).decode("latin-1")
            elif kind in _CONTAINERS:
                walk(body)
            elif kind in {"stsz", "stsc", "stco", "co64", "stss"}:
                tables[kind] = body

    walk(trak)
    return tables if handler == "vide" and "stsz" in tables else None


def _entries(body: memoryview, name: str, width: int) -> tuple[int, memoryview]:
    if len(body) < 8:
        raise InvalidMedia(f"malformed: {name!r} box is too short")
    count = struct.unpack(">I", body[4:8])[0]
    if 8 + count * width > len(body):
        raise InvalidMedia(f"malformed: {name!r} claims {count} entries but holds fewer")
    return count, body[8 : 8 + count * width]


def _table(tables: dict[str, memoryview], moov: BoxSpan, boxes: tuple[tuple[str, BoxSpan], ...]) -> SampleTable:
    stsz = tables["stsz"]
    if len(stsz) < 12:
        raise InvalidMedia("malformed: 'stsz' box is too short")
    uniform, count = struct.unpack(">II", stsz[4:12])
    if uniform:
        sizes = [uniform] * count
    else:
        if 12 + 4 * count > len(stsz):
            raise InvalidMedia(f"malformed: 'stsz' claims {count} samples but holds fewer")
        sizes = list(struct.unpack(f">{count}I", stsz[12 : 12 + 4 * count]))
    if count == 0:
        raise InvalidMedia("the video track's sample table is empty (a fragmented MP4): it is not cut into segments")
    if "co64" in tables:
        chunks, raw = _entries(tables["co64"], "co64", 8)
        chunk_offsets = struct.unpack(f">{chunks}Q", raw)
    elif "stco" in tables:
        chunks, raw = _entries(tables["stco"], "stco", 4)
        chunk_offsets = struct.unpack(f">{chunks}I", raw)
    else:
        raise InvalidMedia("malformed: the video track has no chunk offsets ('stco' or 'co64')")
    if "stsc" not in tables:
        raise InvalidMedia("malformed: the video track has no 'stsc' box")
    runs, raw = _entries(tables["stsc"], "stsc", 12)
    stsc = [struct.unpack(">II", raw[i * 12 : i * 12 + 8]) for i in range(runs)]
    offsets: list[int] = []
    for run, (first_chunk, per_chunk) in enumerate(stsc):
        last_chunk = stsc[run + 1][0] - 1 if run + 1 < len(stsc) else len(chunk_offsets)
        for chunk in range(first_chunk, last_chunk + 1):
            if chunk < 1 or chunk > len(chunk_offsets):
                raise InvalidMedia("malformed: 'stsc' names a chunk 'stco' does not have")
            position = chunk_offsets[chunk - 1]
            for _ in range(per_chunk):
                if len(offsets) == count:
                    break
                offsets.append(position)
                position += sizes[len(offsets) - 1]
    if len(offsets) != count:
        raise InvalidMedia(f"malformed: the chunks hold {len(offsets)} samples but 'stsz' declares {count}")
    if "stss" in tables:
        syncs, raw = _entries(tables["stss"], "stss", 4)
        keyframes = tuple(sorted({n - 1 for n in struct.unpack(f">{syncs}I", raw) if 1 <= n <= count}))
    else:  # no stss: every sample is a sync sample
        keyframes = tuple(range(count))
    if not keyframes or keyframes[0] != 0:
        keyframes = (0, *keyframes)
    return SampleTable(tuple(offsets), tuple(sizes), keyframes, moov, boxes)
