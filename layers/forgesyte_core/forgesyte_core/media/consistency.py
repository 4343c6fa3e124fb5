"""What an MP4 declares, checked against what its sample tables hold.

A header can say anything: a 53 KiB file whose ``mdhd`` claims 50 minutes of 4K would be routed to
a GPU, and its results would report 90,000 frames while 30 decode. So the declared duration is
checked against the samples' own timings (``stts``), the frame count against the sizes (``stsz``),
and the sizes and chunk offsets against the file's bytes. A file that disagrees is refused, naming
the disagreement; one that agrees is described by its samples (duration, frames, fps), which is
what routing and limits then use.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
from array import array
from collections.abc import Mapping

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.info import MediaInfo

# Encoders round durations, and an audio track or an edit list may run a little past the video.
SLACK_SECONDS = 1.0
SLACK_SHARE = 0.05


@dataclasses.dataclass(frozen=True)
class Declared:
    """The video track's own claims, from its headers and its ``stts``."""

    seconds: float  # mdhd (or mvhd) duration
    movie_seconds: float  # mvhd duration
    longest_track_seconds: float  # the longest track's samples, audio included
    timed_frames: int  # stts sample count
    timed_seconds: float  # stts ticks ÷ the track's timescale


def check_against_samples(info: MediaInfo, declared: Declared, tables: Mapping[str, memoryview]) -> MediaInfo:
    """``info`` with the duration, frame count and rate the samples support; InvalidMedia if they disagree.

    ``tables``: the video track's ``stsz``, ``stsc`` and ``stco``/``co64`` bodies (slices of the moov)."""
    frames, placed, end = _placed_samples(tables)
    if declared.timed_frames != frames:
        raise InvalidMedia(
            f"the sample tables disagree: 'stts' times {declared.timed_frames} frames but 'stsz' sizes {frames}"
        )
    if placed < frames:
        raise InvalidMedia(f"the sample tables disagree: the chunks hold {placed} frames but 'stsz' sizes {frames}")
    if end > info.bytes:
        raise InvalidMedia(
            f"the sample tables place frame bytes up to offset {end}, past the end of the {info.bytes}-byte file"
        )
    seconds = declared.timed_seconds
    if seconds <= 0:
        raise InvalidMedia(f"the {frames} frames have no duration in 'stts'")
    if _disagree(declared.seconds, seconds):
        raise InvalidMedia(
            f"the header declares {declared.seconds:.1f} s but the {frames} frames' timings add up to {seconds:.1f} s"
        )
    if declared.movie_seconds > declared.longest_track_seconds and _disagree(
        declared.movie_seconds, declared.longest_track_seconds
    ):
        raise InvalidMedia(
            f"the movie header declares {declared.movie_seconds:.1f} s but no track's samples last longer than "
            f"{declared.longest_track_seconds:.1f} s"
        )
    return dataclasses.replace(info, duration=round(seconds, 3), frames=frames, fps=round(frames / seconds, 3))


def _placed_samples(tables: Mapping[str, memoryview]) -> tuple[int, int, int]:
    """(samples 'stsz' sizes, samples the chunks place, the furthest byte a sample reaches), in one pass
    over the chunks without a list per sample (an hour at 240 fps is 864,000 samples)."""
    stsz = tables.get("stsz")
    if stsz is None or len(stsz) < 12:
        raise InvalidMedia("malformed: the video track has no 'stsz' box")
    uniform, count = struct.unpack_from(">II", stsz, 4)
    sizes = array("I")
    if not uniform:
        if 12 + 4 * count > len(stsz):
            raise InvalidMedia(f"malformed: 'stsz' claims {count} samples but holds fewer")
        sizes.frombytes(stsz[12 : 12 + 4 * count])
        if sys.byteorder == "little":
            sizes.byteswap()
    wide = "co64" in tables
    chunks = tables.get("co64" if wide else "stco")
    if chunks is None:
        raise InvalidMedia("malformed: the video track has no chunk offsets ('stco' or 'co64')")
    chunk_count = _entries(chunks, "co64" if wide else "stco", 8 if wide else 4)
    stsc = tables.get("stsc")
    if stsc is None:
        raise InvalidMedia("malformed: the video track has no 'stsc' box")
    runs = _entries(stsc, "stsc", 12)
    placed = end = 0
    for run in range(runs):
        first_chunk, per_chunk = struct.unpack_from(">II", stsc, 8 + 12 * run)
        last_chunk = struct.unpack_from(">I", stsc, 8 + 12 * (run + 1))[0] - 1 if run + 1 < runs else chunk_count
        if first_chunk < 1 or last_chunk > chunk_count:
            raise InvalidMedia("malformed: 'stsc' names a chunk 'stco' does not have")
        for chunk in range(first_chunk, last_chunk + 1):
            take = min(per_chunk, count - placed)
            if take <= 0:
                return count, placed, end
            offset = struct.unpack_from(">Q" if wide else ">I", chunks, 8 + (8 if wide else 4) * (chunk - 1))[0]
            length = uniform * take if uniform else sum(sizes[placed : placed + take])
            end = max(end, offset + length)
            placed += take
    return count, placed, end


def _entries(body: memoryview, name: str, width: int) -> int:
    if len(body) < 8:
        raise InvalidMedia(f"malformed: {name!r} box is too short")
    count: int = struct.unpack_from(">I", body, 4)[0]
    if 8 + count * width > len(body):
        raise InvalidMedia(f"malformed: {name!r} claims {count} entries but holds fewer")
    return count


def _disagree(claimed: float, measured: float) -> bool:
    return abs(claimed - measured) > max(SLACK_SECONDS, SLACK_SHARE * measured)
