"""A segment's input: only the bytes its frames need, at their own offsets in a sparse copy of the file.

The runner reads the ``ftyp`` and ``moov`` boxes (and every other top-level box's header) and the
byte range holding the segment's samples (from the keyframe a decoder's seek starts at to a few
samples past its last frame, for decoders that reorder frames), and writes them where they lie in
the original. The holes read as zeros but take no disk, and the decoder
seeks to the segment's keyframe through the real sample tables, never touching them.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from forgesyte_core.jobs.model import Segment
from forgesyte_core.media.samples import BoxSpan, read_sample_table
from forgesyte_core.media.source import ByteSource, RangeCache, ReadError

REORDER_SAMPLES = 16  # read past the last frame: a decoder holding B-frames needs the next few samples
# OpenCV's seek decodes the first frame, then seeks to the keyframe at or before 16 frames ahead of
# the target and decodes forward: those samples are read too, or it decodes zeros.
SEEK_BACKOFF_FRAMES = 16
CHUNK_BYTES = 8 * 1024 * 1024
WHOLE_BOX_BYTES = 4 * 1024 * 1024  # the moov of an hour of video is a few MB


def fetch_segment_input(source: ByteSource, segment: Segment, path: Path) -> int:
    """Write the sparse copy to ``path``; the bytes read from ``source``."""
    cache = RangeCache(source, max_requests=64)
    table = read_sample_table(cache)
    ranges = [table.byte_span(0, REORDER_SAMPLES)] if segment.decode_from else []
    seek_from = table.keyframe_at_or_before(segment.decode_from - SEEK_BACKOFF_FRAMES)
    ranges.append(table.byte_span(seek_from, segment.end_frame + REORDER_SAMPLES))
    read = 0
    with path.open("wb") as out:
        out.truncate(source.size)
        # Every top-level box is where a demuxer walking the file looks: small ones whole, the media
        # data and anything large by its header only (a zeroed header would end the walk).
        for kind, box in table.boxes:
            whole = kind == "moov" or (kind != "mdat" and box.size <= WHOLE_BOX_BYTES)
            length = box.size if whole else min(box.size, 16)
            out.seek(box.offset)
            out.write(cache.read(box.offset, length))
        for span in ranges:
            read += _copy(source, span, out)
    return cache.bytes_read + read


def _copy(source: ByteSource, span: BoxSpan, out: BinaryIO) -> int:
    position = span.offset
    out.seek(position)
    while position < span.end:
        chunk = source.read(position, min(CHUNK_BYTES, span.end - position))
        if not chunk:
            raise ReadError(f"the input ended at byte {position}, inside the segment's samples")
        out.write(chunk)
        position += len(chunk)
    return span.size
