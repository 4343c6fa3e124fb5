"""Fragmented MP4: what Safari's and Chrome's MediaRecorder, CMAF and many cameras' streaming exports
write. ``moov`` holds no samples (or only the first fragment's); each ``moof`` that follows says how
many samples its ``mdat`` holds and for how long.

Duration comes from whichever box declares it, in this order: every fragment walked to the end of
the file within the request budget (exact); ``mehd`` (the whole movie's fragment duration); ``sidx``
(the segment index's subsegment durations); the last fragment's ``tfdt`` (its decode time) plus its
own samples, found in one read of the file's tail. The frame count is exact when every fragment was
walked, else the duration times the frame rate of the fragments that were.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from forgesyte_core.errors import InvalidMedia

MAX_MOOF_BYTES = 1024 * 1024
TAIL_BYTES = 4 * 1024 * 1024  # the last fragment (one GOP of a 4K stream fits) and whatever follows it
MAX_TAIL_CANDIDATES = 64  # "moof" spelled by chance in media data (or by a hostile file) is rare


@dataclass
class TrackDefaults:
    """``trex``: what a fragment's samples are when its ``tfhd``/``trun`` do not say."""

    sample_duration: int = 0


@dataclass
class Fragment:
    samples: int = 0
    ticks: int = 0  # the samples' total duration, in the track's timescale
    decode_time: int | None = None  # ``tfdt``: when the fragment's first sample is decoded


@dataclass
class Walk:
    """What the fragments read so far say about one track (the video track)."""

    track_id: int
    defaults: TrackDefaults
    fragments: int = 0
    samples: int = 0
    ticks: int = 0
    sidx_seconds: float = 0.0
    finished: bool = False  # every fragment up to the end of the file was read

    def add(self, fragment: Fragment) -> None:
        self.fragments += 1
        self.samples += fragment.samples
        self.ticks += fragment.ticks


def parse_mvex(body: memoryview) -> tuple[int, dict[int, TrackDefaults]]:
    """``mehd``'s fragment duration (movie timescale, 0 when absent) and each track's ``trex``."""
    duration, defaults = 0, {}
    for box_type, child in boxes(body):
        if box_type == "mehd":
            wide = len(child) > 0 and child[0] == 1
            _need(child, 12 if wide else 8, "mehd")
            duration = struct.unpack(">Q" if wide else ">I", child[4 : 12 if wide else 8])[0]
        elif box_type == "trex":
            _need(child, 24, "trex")
            track_id, _, sample_duration = struct.unpack(">III", child[4:16])
            defaults[track_id] = TrackDefaults(sample_duration)
    return duration, defaults


def parse_moof(body: memoryview, track_id: int, defaults: TrackDefaults) -> Fragment:
    """The samples one ``moof`` declares for ``track_id``."""
    fragment = Fragment()
    for box_type, traf in boxes(body):
        if box_type != "traf":
            continue
        default_duration, this_track = defaults.sample_duration, False
        for child_type, child in boxes(traf):
            if child_type == "tfhd":
                _need(child, 8, "tfhd")
                flags = int.from_bytes(child[1:4], "big")
                this_track = struct.unpack(">I", child[4:8])[0] == track_id
                offset = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                if flags & 0x08:
                    _need(child, offset + 4, "tfhd")
                    default_duration = struct.unpack(">I", child[offset : offset + 4])[0]
            elif child_type == "tfdt" and this_track:
                _need(child, 8, "tfdt")
                wide = child[0] == 1
                _need(child, 12 if wide else 8, "tfdt")
                fragment.decode_time = struct.unpack(">Q" if wide else ">I", child[4 : 12 if wide else 8])[0]
            elif child_type == "trun" and this_track:
                samples, ticks = _parse_trun(child, default_duration)
                fragment.samples += samples
                fragment.ticks += ticks
    return fragment


def _parse_trun(body: memoryview, default_duration: int) -> tuple[int, int]:
    _need(body, 8, "trun")
    flags = int.from_bytes(body[1:4], "big")
    count = struct.unpack(">I", body[4:8])[0]
    position = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    per_sample = 4 * sum(bool(flags & bit) for bit in (0x100, 0x200, 0x400, 0x800))
    if not flags & 0x100:
        return count, count * default_duration
    if position + count * per_sample > len(body):
        raise InvalidMedia(f"malformed: 'trun' claims {count} samples but holds fewer")
    ticks = sum(struct.unpack_from(">I", body, position + index * per_sample)[0] for index in range(count))
    return count, ticks


def parse_sidx(body: memoryview) -> float:
    """Seconds the segment index covers: the sum of its subsegment durations."""
    _need(body, 12, "sidx")
    timescale: int = struct.unpack(">I", body[8:12])[0]
    position = 12 + (16 if body[0] == 1 else 8)
    _need(body, position + 4, "sidx")
    count = struct.unpack(">H", body[position + 2 : position + 4])[0]
    position += 4
    if position + 12 * count > len(body) or not timescale:
        raise InvalidMedia("malformed: 'sidx' is shorter than its references")
    ticks: int = sum(struct.unpack_from(">I", body, position + 12 * index + 4)[0] for index in range(count))
    return ticks / timescale


def last_fragment_end(tail: bytes, tail_start: int, size: int, walk: Walk) -> int | None:
    """Decode time at the end of the file's last fragment, from a read of the file's tail.

    The last ``moof`` is found by its type's bytes and kept only if it parses as one and is followed
    by an ``mdat`` that ends the file (or is followed only by an ``mfra``), so bytes inside media
    data that happen to spell "moof" are not mistaken for it.
    """
    search = len(tail)
    for _ in range(MAX_TAIL_CANDIDATES):
        index = tail.rfind(b"moof", 0, search)
        if index < 4:
            return None
        search = index
        start = index - 4
        moof_size = struct.unpack(">I", tail[start:index])[0]
        if not 16 <= moof_size <= MAX_MOOF_BYTES or start + moof_size + 8 > len(tail):
            continue
        after = start + moof_size
        mdat_size, mdat_type = struct.unpack(">I4s", tail[after : after + 8])
        if mdat_type != b"mdat":
            continue
        if mdat_size == 1 and after + 16 <= len(tail):
            mdat_size = struct.unpack(">Q", tail[after + 8 : after + 16])[0]
        end = tail_start + after + (mdat_size or size - tail_start - after)
        if not (end == size or _is_box(tail, end - tail_start, b"mfra")):
            continue
        try:
            fragment = parse_moof(memoryview(tail)[start + 8 : start + moof_size], walk.track_id, walk.defaults)
        except InvalidMedia:
            continue
        if fragment.decode_time is None or not fragment.samples:
            return None
        return fragment.decode_time + fragment.ticks
    return None


def _is_box(data: bytes, offset: int, box_type: bytes) -> bool:
    return offset >= 0 and offset + 8 <= len(data) and data[offset + 4 : offset + 8] == box_type


def boxes(data: memoryview) -> list[tuple[str, memoryview]]:
    """The child boxes of a fragment's box (small: a ``moof`` is at most 1 MiB)."""
    found, position = [], 0
    while position + 8 <= len(data):
        size, raw = struct.unpack(">I4s", data[position : position + 8])
        header = 8
        if size == 1:
            _need(data[position:], 16, raw.decode("latin-1"))
            size, header = struct.unpack(">Q", data[position + 8 : position + 16])[0], 16
        if size < header or position + size > len(data):
            raise InvalidMedia(f"malformed: box {raw.decode('latin-1')!r} overruns its parent fragment")
        found.append((raw.decode("latin-1"), data[position + header : position + size]))
        position += size
    return found


def _need(body: memoryview, length: int, name: str) -> None:
    if len(body) < length:
        raise InvalidMedia(f"malformed: {name!r} box is too short ({len(body)} bytes)")
