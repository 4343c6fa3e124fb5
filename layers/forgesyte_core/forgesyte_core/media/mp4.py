"""ISO-BMFF (MP4, QuickTime, 3GP) probing: walk the top-level boxes with ranged reads, parse moov.

Decisions:
- ``ftyp`` must come first, with an allowlisted brand; HEIF/AVIF image brands are refused.
- QuickTime (``qt  ``) and 3GP/3G2 are accepted: same box structure, and the runner's OpenCV/FFmpeg
  decodes them. QuickTime files without ``ftyp`` (pre-2000 writers) are refused.
- Fragmented MP4 (``mvex`` in moov, ``moof`` boxes) is accepted: its fragments are walked while the
  request budget lasts, and the declared durations fill in the rest (see :mod:`.fragments`).
- Boxes are skipped by their declared size, so ``moov`` after a large ``mdat`` costs one request to
  reach, not a read of the ``mdat``.
"""

from __future__ import annotations

import operator
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.consistency import Declared, check_against_samples
from forgesyte_core.media.fragments import (
    MAX_MOOF_BYTES,
    TAIL_BYTES,
    TrackDefaults,
    Walk,
    last_fragment_end,
    parse_moof,
    parse_mvex,
    parse_sidx,
)
from forgesyte_core.media.info import MediaInfo
from forgesyte_core.media.source import BudgetSpent, RangeCache

HEAD_BYTES = 32 * 1024
CHUNK_BYTES = 32 * 1024
MAX_FTYP_BYTES = 4096
# The moov budget. An hour (MAX_VIDEO_SECONDS) at 240 fps with a per-frame stts, ctts, stsz and co64
# entry (28 bytes) is 24 MB, so 32 MiB admits any real recording; the whole moov is parsed in place
# (memoryview slices, no copies), so ingest's peak stays near this plus the interpreter.
MAX_MOOV_BYTES = 32 * 1024 * 1024
MAX_TOP_LEVEL_BOXES = 256
# Requests a fragment walk may use before it stops and reads the file's tail instead (of the 12).
FRAGMENT_WALK_REQUESTS = 9
MAX_CHILD_BOXES = 20_000

MP4_BRANDS = frozenset(
    {
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "iso8",
        "iso9",
        "mp41",
        "mp42",
        "avc1",
        "M4V ",
        "M4VH",
        "M4VP",
        "dash",
        "mmp4",
        "MSNV",
        "XAVC",
        "f4v ",
        "hvc1",
        "av01",
    }
)
QUICKTIME_BRANDS = frozenset({"qt  "})
THREEGP_BRANDS = frozenset({"3gp4", "3gp5", "3gp6", "3gp7", "3gs6", "3gs7", "3ge6", "3g2a", "3g2b", "3g2c"})
IMAGE_BRANDS = frozenset({"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis", "avio"})
AUDIO_BRANDS = frozenset({"M4A ", "M4B ", "M4P "})
VIDEO_CODECS = {
    "avc1": "h264",
    "avc3": "h264",
    "hvc1": "hevc",
    "hev1": "hevc",
    "mp4v": "mpeg4",
    "av01": "av1",
    "vp09": "vp9",
    "s263": "h263",
    "jpeg": "mjpeg",
    "mjpa": "mjpeg",
}
KNOWN_TOP_LEVEL = frozenset(
    {
        "ftyp",
        "moov",
        "mdat",
        "free",
        "skip",
        "wide",
        "uuid",
        "meta",
        "pdin",
        "udta",
        "sidx",
        "styp",
        "emsg",
        "prft",
        "mfra",
        "pnot",
        "junk",
        "beam",
        "PICT",
    }
)
STTS_SLICE_BYTES = 1 << 19  # 64 K entries
REMUX_HINT = "remux it with `ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4`"


@dataclass
class _Track:
    track_id: int = 0
    handler: str = ""
    timescale: int = 0
    duration: int = 0
    width: float = 0.0
    height: float = 0.0
    codec: str = ""
    coded_width: int = 0
    coded_height: int = 0
    frames: int = 0
    ticks: int = 0  # the samples' durations summed ('stts'), in the track's timescale
    stsz_count: int = 0
    tables: dict[str, memoryview] = field(default_factory=dict)  # stsz, stsc, stco/co64: slices of the moov

    @property
    def timed_seconds(self) -> float:
        return self.ticks / self.timescale if self.timescale else 0.0


@dataclass
class _Movie:
    timescale: int = 0
    duration: int = 0
    fragmented: bool = False
    fragment_duration: int = 0  # ``mehd``, in the movie's timescale; 0 when not declared
    defaults: dict[int, TrackDefaults] = field(default_factory=dict)
    tracks: list[_Track] = field(default_factory=list)
    box_count: int = 0

    def video_track(self) -> _Track | None:
        return next((t for t in self.tracks if t.handler == "vide"), None)


def is_iso_bmff(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in {b"ftyp", b"styp"}


def probe_iso_bmff(cache: RangeCache) -> MediaInfo:
    size = cache.size
    position = 0
    brand = ""
    container = "mp4"
    movie: _Movie | None = None
    walk: Walk | None = None
    for count in range(MAX_TOP_LEVEL_BOXES + 1):
        if position >= size:
            if walk is not None:
                walk.finished = True
            break
        if walk is not None and (cache.requests >= FRAGMENT_WALK_REQUESTS or count == MAX_TOP_LEVEL_BOXES):
            break  # enough fragments read: the rest is estimated (see .fragments)
        if count == MAX_TOP_LEVEL_BOXES:
            raise InvalidMedia(f"more than {MAX_TOP_LEVEL_BOXES} top-level boxes; not a plain MP4")
        if size - position < 8:
            raise InvalidMedia(f"truncated: {size - position} stray bytes at offset {position}")
        header = cache.read(position, 16, prefetch=CHUNK_BYTES if position else HEAD_BYTES)
        box_type, header_len, box_size = _box_header(header, position, size - position)
        if count == 0 and box_type != "ftyp":
            raise InvalidMedia(f"not an MP4: the first box is {box_type!r}, expected 'ftyp'")
        if position + box_size > size:
            raise InvalidMedia(
                f"truncated: box {box_type!r} at offset {position} declares {box_size} bytes "
                f"but the file ends {size - position} bytes later; the upload is incomplete"
            )
        if box_type == "ftyp":
            if count:
                raise InvalidMedia("malformed: a second 'ftyp' box")
            if box_size > MAX_FTYP_BYTES:
                raise InvalidMedia(f"malformed: 'ftyp' box of {box_size} bytes")
            brand, container = _check_brands(cache.read(position + header_len, box_size - header_len))
        elif box_type == "moov":
            if movie is not None:
                raise InvalidMedia("malformed: a second 'moov' box")
            if box_size > MAX_MOOV_BYTES:
                raise InvalidMedia(f"'moov' box of {box_size} bytes exceeds {MAX_MOOV_BYTES}")
            # Read the next box's header with the moov, saving a request for it.
            payload = cache.view(position + header_len, box_size - header_len + 16)
            movie = _parse_moov(payload[: box_size - header_len])
            walk = _start_walk(movie)
        elif box_type in {"moof", "sidx"}:
            if walk is None:
                raise InvalidMedia(f"malformed: a fragment's {box_type!r} box without a fragmented 'moov' before it")
            _read_fragment_box(cache, walk, box_type, position + header_len, box_size - header_len)
        elif box_type not in KNOWN_TOP_LEVEL and not box_type.isprintable():
            raise InvalidMedia(f"malformed: unreadable box type at offset {position}")
        position += box_size
    if movie is None:
        raise InvalidMedia("no 'moov' box: the recording was not finalised or the upload is incomplete")
    if walk is not None:
        return _fragmented_info(cache, movie, walk, brand, container)
    info = _media_info(movie, brand, container, size)
    track = movie.video_track()
    assert track is not None  # _media_info refused a file without one
    return check_against_samples(info, _declared(movie, track), track.tables)


def _declared(movie: _Movie, track: _Track) -> Declared:
    movie_seconds = movie.duration / movie.timescale if movie.timescale else 0.0
    track_seconds = track.duration / track.timescale if track.timescale and track.duration else movie_seconds
    return Declared(
        seconds=track_seconds,
        movie_seconds=movie_seconds,
        longest_track_seconds=max(t.timed_seconds for t in movie.tracks),
        timed_frames=track.frames,
        timed_seconds=track.timed_seconds,
    )


def _start_walk(movie: _Movie) -> Walk | None:
    if not movie.fragmented:
        return None
    track = movie.video_track()
    if track is None:
        return None  # _media_info names the tracks there are
    return Walk(track.track_id, movie.defaults.get(track.track_id, TrackDefaults()))


def _read_fragment_box(cache: RangeCache, walk: Walk, box_type: str, offset: int, length: int) -> None:
    if box_type == "sidx":
        walk.sidx_seconds += parse_sidx(cache.view(offset, min(length, MAX_MOOF_BYTES)))
        return
    if length > MAX_MOOF_BYTES:
        raise InvalidMedia(f"malformed: a 'moof' box of {length} bytes (more than {MAX_MOOF_BYTES})")
    walk.add(parse_moof(cache.view(offset, length, prefetch=CHUNK_BYTES), walk.track_id, walk.defaults))


def _fragmented_info(cache: RangeCache, movie: _Movie, walk: Walk, brand: str, container: str) -> MediaInfo:
    """Duration and frames of a fragmented MP4, from what the walk read and the boxes that declare them."""
    track = movie.video_track()
    info = _media_info(movie, brand, container, cache.size, require_samples=False)
    if track is None or not track.timescale:
        raise InvalidMedia("fragmented MP4 without a video timescale")
    samples = (track.stsz_count or track.frames) + walk.samples
    ticks = track.duration + walk.ticks
    if not samples or not ticks:
        raise InvalidMedia(f"fragmented MP4 whose first fragments hold no video samples; {REMUX_HINT}")
    if walk.finished:
        seconds, frames = ticks / track.timescale, samples
    else:
        seconds = _declared_seconds(cache, movie, walk, track.timescale)
        frames = max(samples, round(seconds * samples * track.timescale / ticks))
    return MediaInfo(
        kind="video",
        container=container,
        bytes=cache.size,
        width=info.width,
        height=info.height,
        brand=info.brand,
        codec=info.codec,
        fps=round(frames / seconds, 3),
        duration=round(seconds, 3),
        frames=frames,
        fragmented=True,
    )


def _declared_seconds(cache: RangeCache, movie: _Movie, walk: Walk, timescale: int) -> float:
    if movie.fragment_duration and movie.timescale:
        return movie.fragment_duration / movie.timescale
    if walk.sidx_seconds:
        return walk.sidx_seconds
    start = max(0, cache.size - TAIL_BYTES)
    try:
        end = last_fragment_end(cache.read(start, cache.size - start), start, cache.size, walk)
    except BudgetSpent:
        end = None
    if end:
        return end / timescale
    raise InvalidMedia(
        f"fragmented MP4 with more than {walk.fragments} fragments and no box declaring its duration "
        f"(mehd, sidx, or a last fragment with tfdt); {REMUX_HINT}"
    )


def _box_header(header: bytes | memoryview, offset: int, remaining: int) -> tuple[str, int, int]:
    if len(header) < 8:
        raise InvalidMedia(f"truncated: box header at offset {offset} is cut off")
    size32, raw_type = struct.unpack(">I4s", header[:8])
    box_type = _fourcc(raw_type, offset)
    header_len = 8
    if size32 == 1:
        if len(header) < 16:
            raise InvalidMedia(f"truncated: 64-bit box header at offset {offset} is cut off")
        box_size = struct.unpack(">Q", header[8:16])[0]
        header_len = 16
    elif size32 == 0:
        box_size = remaining  # "extends to the end of the file"
    else:
        box_size = size32
    if box_size < header_len:
        raise InvalidMedia(f"malformed: box {box_type!r} at offset {offset} declares {box_size} bytes")
    return box_type, header_len, box_size


def _fourcc(raw: bytes, offset: int) -> str:
    if not all(32 <= byte < 127 or byte == 0xA9 for byte in raw):
        raise InvalidMedia(f"malformed: bytes at offset {offset} are not an ISO-BMFF box")
    return raw.decode("latin-1")


def _check_brands(payload: bytes) -> tuple[str, str]:
    if len(payload) < 8 or (len(payload) - 8) % 4:
        raise InvalidMedia("malformed: 'ftyp' box has a broken brand list")
    major = payload[:4].decode("latin-1")
    compatible = {payload[i : i + 4].decode("latin-1") for i in range(8, len(payload), 4)}
    if major in IMAGE_BRANDS:
        raise InvalidMedia(f"brand {major!r} is a HEIF/AVIF still image, not a video")
    if major in AUDIO_BRANDS:
        raise InvalidMedia(f"brand {major!r} is an audio file, not a video")
    if major in QUICKTIME_BRANDS:
        return major, "mov"
    if major in THREEGP_BRANDS:
        return major, "3gp"
    if major in MP4_BRANDS or compatible & MP4_BRANDS:
        return major, "mp4"
    raise InvalidMedia(
        f"unsupported MP4 brand {major.strip()!r} (compatible: {', '.join(sorted(compatible)) or 'none'})"
    )


def _children(data: memoryview, movie: _Movie) -> Iterator[tuple[str, memoryview]]:
    # Only known containers are entered, so nesting depth is bounded by the parser itself.
    position = 0
    while position + 8 <= len(data):
        movie.box_count += 1
        if movie.box_count > MAX_CHILD_BOXES:
            raise InvalidMedia(f"malformed: more than {MAX_CHILD_BOXES} boxes in 'moov'")
        box_type, header_len, box_size = _box_header(data[position : position + 16], position, len(data) - position)
        if position + box_size > len(data):
            raise InvalidMedia(f"malformed: box {box_type!r} overruns its parent in 'moov'")
        yield box_type, data[position + header_len : position + box_size]
        position += box_size


def _parse_moov(data: memoryview) -> _Movie:
    movie = _Movie()
    for box_type, body in _children(data, movie):
        if box_type == "mvhd":
            movie.timescale, movie.duration = _time_fields(body, "mvhd")
        elif box_type == "trak":
            movie.tracks.append(_parse_trak(body, movie))
        elif box_type == "mvex":
            movie.fragmented = True
            movie.fragment_duration, movie.defaults = parse_mvex(body)
    return movie


def _parse_trak(data: memoryview, movie: _Movie) -> _Track:
    track = _Track()
    for box_type, body in _children(data, movie):
        if box_type == "tkhd":
            _need(body, 84 if len(body) and body[0] == 0 else 96, "tkhd")
            track.track_id = struct.unpack(">I", body[12:16] if body[0] == 0 else body[20:24])[0]
            offset = 76 if body[0] == 0 else 88
            width, height = struct.unpack(">II", body[offset : offset + 8])
            track.width, track.height = width / 65536, height / 65536
        elif box_type == "mdia":
            _parse_mdia(body, track, movie)
    return track


def _parse_mdia(data: memoryview, track: _Track, movie: _Movie) -> None:
    for box_type, body in _children(data, movie):
        if box_type == "mdhd":
            track.timescale, track.duration = _time_fields(body, "mdhd")
        elif box_type == "hdlr":
            _need(body, 12, "hdlr")
            track.handler = bytes(body[8:12]).decode("latin-1")
        elif box_type == "minf":
            for minf_type, minf_body in _children(body, movie):
                if minf_type == "stbl":
                    _parse_stbl(minf_body, track, movie)


def _parse_stbl(data: memoryview, track: _Track, movie: _Movie) -> None:
    for box_type, body in _children(data, movie):
        if box_type == "stsd":
            _need(body, 16, "stsd")
            entry_count = struct.unpack(">I", body[4:8])[0]
            if entry_count:
                _need(body, 16, "stsd")
                track.codec = bytes(body[12:16]).decode("latin-1")
                if len(body) >= 44:
                    # VisualSampleEntry: 6 reserved, 2 index, 16 predefined, then width, height.
                    track.coded_width, track.coded_height = struct.unpack(">HH", body[8 + 32 : 8 + 36])
        elif box_type == "stts":
            _need(body, 8, "stts")
            entries = struct.unpack(">I", body[4:8])[0]
            if 8 + entries * 8 > len(body):
                raise InvalidMedia(f"malformed: 'stts' claims {entries} entries but holds fewer")
            track.frames, track.ticks = _stts_totals(body[8 : 8 + entries * 8])
        elif box_type == "stsz":
            _need(body, 12, "stsz")
            track.stsz_count = struct.unpack(">I", body[8:12])[0]
            track.tables[box_type] = body
        elif box_type in {"stsc", "stco", "co64"}:
            track.tables[box_type] = body


def _stts_totals(runs: memoryview) -> tuple[int, int]:
    """(samples, ticks) over 'stts' runs of (count, delta), summed in C a slice at a time: a 4 M-entry
    table takes no copy of itself and no Python loop per entry."""
    samples = ticks = 0
    for start in range(0, len(runs), STTS_SLICE_BYTES):
        values = array("I")
        values.frombytes(runs[start : start + STTS_SLICE_BYTES])
        if sys.byteorder == "little":
            values.byteswap()
        counts, deltas = values[0::2], values[1::2]
        samples += sum(counts)
        ticks += sum(map(operator.mul, counts, deltas))
    return samples, ticks


def _time_fields(body: memoryview, name: str) -> tuple[int, int]:
    _need(body, 4, name)
    if body[0] == 1:
        _need(body, 32, name)
        timescale, duration = struct.unpack(">IQ", body[20:32])
    else:
        _need(body, 20, name)
        timescale, duration = struct.unpack(">II", body[12:20])
        if duration == 0xFFFFFFFF:
            duration = 0
    return timescale, duration


def _need(body: memoryview, length: int, name: str) -> None:
    if len(body) < length:
        raise InvalidMedia(f"malformed: {name!r} box is too short ({len(body)} bytes)")


def _media_info(movie: _Movie, brand: str, container: str, size: int, require_samples: bool = True) -> MediaInfo:
    video = [t for t in movie.tracks if t.handler == "vide"]
    if not video:
        kinds = sorted({t.handler for t in movie.tracks if t.handler}) or ["none"]
        raise InvalidMedia(f"no video track (tracks: {', '.join(kinds)})")
    track = video[0]
    if track.codec in {"encv", "drmi"}:
        raise InvalidMedia("the video track is encrypted (DRM); it cannot be decoded")
    codec = VIDEO_CODECS.get(track.codec)
    if codec is None:
        raise InvalidMedia(f"unsupported video codec {track.codec.strip()!r}")
    timescale, duration = (track.timescale, track.duration)
    if not (timescale and duration):
        timescale, duration = movie.timescale, movie.duration
    seconds = duration / timescale if timescale else 0.0
    frames = track.stsz_count or track.frames
    width = track.coded_width or round(track.width)
    height = track.coded_height or round(track.height)
    if require_samples and (frames <= 0 or seconds <= 0):
        raise InvalidMedia("the video track has no frames")
    if width <= 0 or height <= 0:
        raise InvalidMedia("the video track has no picture size")
    return MediaInfo(
        kind="video",
        container=container,
        bytes=size,
        width=width,
        height=height,
        brand=brand.strip(),
        codec=codec,
        fps=round(frames / seconds, 3) if seconds else None,
        duration=round(seconds, 3),
        frames=frames,
    )
