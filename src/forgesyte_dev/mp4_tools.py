"""ISO-BMFF writing helpers for tests and benchmarks: boxes by hand, and padding a real MP4."""

from __future__ import annotations

import struct
from pathlib import Path


def box(kind: str, payload: bytes = b"", *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind.encode("latin-1"), 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind.encode("latin-1")) + payload


def ftyp(major: str = "isom", *compatible: str) -> bytes:
    brands = compatible or ("isom", "iso2", "mp41")
    return box("ftyp", major.encode() + b"\0\0\2\0" + b"".join(b.encode() for b in brands))


def top_level_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """(type, offset, size) of each top-level box of a well-formed file held in memory."""
    found = []
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size == 1:
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
        elif size == 0:
            size = len(data) - position
        found.append((kind.decode("latin-1"), position, size))
        position += size
    return found


def pad_mp4(source: Path, target: Path, total_size: int) -> Path:
    """Copy ``source`` padded to ``total_size`` bytes with a sparse ``free`` box before its moov.

    Inserting the padding before a trailing moov (or after everything when moov comes first) keeps
    every chunk offset valid, so the result still plays.
    """
    data = source.read_bytes()
    boxes = top_level_boxes(data)
    moov = next(b for b in boxes if b[0] == "moov")
    moov_last = moov == boxes[-1]
    split = moov[1] if moov_last else len(data)
    pad = total_size - len(data)
    if pad < 16:
        raise ValueError("total_size leaves no room for a free box")
    with target.open("wb") as out:
        out.write(data[:split])
        header = struct.pack(">I4sQ", 1, b"free", pad)
        out.write(header)
        out.seek(pad - len(header), 1)  # sparse: the padding is never written
        out.write(data[split:])
        out.truncate(total_size)  # when nothing follows the padding, the seek alone does not extend
    return target
