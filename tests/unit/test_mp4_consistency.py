"""MP4 headers that lie (issue 18): what a file declares is checked against what its sample tables hold.

Each case patches one field of a real 30-frame file (OpenCV's mp4v, 25 fps, 1.2 s), as the files
that got through did: a 53 KiB file declaring 50 minutes of video, an 'stts' claiming 90,000 frames
over 30 sizes, an empty sample table.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media import BytesSource, Limits, probe_media
from forgesyte_core.media.info import MediaInfo
from tests.helpers import traced_peak
from tests.media_factory import write_mp4v

LIMITS = Limits(max_bytes=2**31, max_video_seconds=3600, max_video_pixels=3840 * 2160, max_image_pixels=50_000_000)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_mp4v(tmp_path_factory.mktemp("lies") / "clip.mp4", frames=30, fps=25.0).read_bytes()


def probe(data: bytes) -> MediaInfo:
    info, _ = probe_media(BytesSource(data), LIMITS, "video")
    return info


def patched(data: bytes, fourcc: bytes, offset: int, value: int, fmt: str = ">I") -> bytes:
    """``data`` with the field ``offset`` bytes into the body of its ``fourcc`` box (after the version/flags
    word's start) set to ``value``."""
    body = data.index(fourcc) + 4
    out = bytearray(data)
    struct.pack_into(fmt, out, body + offset, value)
    return bytes(out)


def mdhd_duration(data: bytes, seconds: float) -> bytes:
    timescale = struct.unpack_from(">I", data, data.index(b"mdhd") + 4 + 12)[0]
    return patched(data, b"mdhd", 16, round(seconds * timescale))


def mvhd_duration(data: bytes, seconds: float) -> bytes:
    timescale = struct.unpack_from(">I", data, data.index(b"mvhd") + 4 + 12)[0]
    return patched(data, b"mvhd", 16, round(seconds * timescale))


def test_a_truthful_file_is_described_by_its_samples(clip: bytes) -> None:
    info = probe(clip)
    assert info.frames == 30
    assert info.duration == pytest.approx(1.2)
    assert info.fps == pytest.approx(25.0)


def test_a_header_declaring_fifty_minutes_over_a_second_of_samples_is_refused(clip: bytes) -> None:
    lying = mvhd_duration(mdhd_duration(clip, 3000), 3000)
    with pytest.raises(
        InvalidMedia, match=r"the header declares 3000\.0 s but the 30 frames' timings add up to 1\.2 s"
    ):
        probe(lying)


def test_only_the_movie_header_lying_is_refused_too(clip: bytes) -> None:
    with pytest.raises(InvalidMedia, match=r"the movie header declares 540\.0 s but no track's samples last longer"):
        probe(mvhd_duration(clip, 540))


def test_a_rounding_in_the_header_is_not_a_lie_and_the_samples_decide(clip: bytes) -> None:
    info = probe(mdhd_duration(clip, 1.6))  # within a second: encoders round, edit lists trim
    assert info.duration == pytest.approx(1.2)


def test_stts_timing_more_frames_than_stsz_sizes_is_refused(clip: bytes) -> None:
    lying = patched(clip, b"stts", 8, 90_000)  # the first (only) run's sample count
    with pytest.raises(InvalidMedia, match="the sample tables disagree: 'stts' times 90000 frames but 'stsz' sizes 30"):
        probe(lying)


def test_an_empty_sample_table_under_a_full_stts_is_refused(clip: bytes) -> None:
    lying = patched(clip, b"stsz", 8, 0)  # sample count 0; the sizes are left behind, unread
    with pytest.raises(InvalidMedia, match="'stts' times 30 frames but 'stsz' sizes 0"):
        probe(lying)


def test_samples_placed_past_the_end_of_the_file_are_refused(clip: bytes) -> None:
    lying = patched(clip, b"stco", 8, len(clip) - 10)  # the first chunk starts 10 bytes before the end
    with pytest.raises(InvalidMedia, match=r"place frame bytes up to offset \d+, past the end of the \d+-byte file"):
        probe(lying)


def test_chunks_holding_fewer_samples_than_stsz_sizes_are_refused(clip: bytes) -> None:
    runs = struct.unpack_from(">I", clip, clip.index(b"stsc") + 8)[0]
    per_chunk_field = 8 + 12 * (runs - 1) + 4  # the last run's samples per chunk
    lying = patched(clip, b"stsc", per_chunk_field, 10)
    with pytest.raises(InvalidMedia, match="the chunks hold 10 frames but 'stsz' sizes 30"):
        probe(lying)


def test_the_sample_table_is_read_without_a_list_per_sample(tmp_path: Path) -> None:
    """An hour at 30 fps: 108,000 sizes in stsz. The check walks the chunks, not a list of samples."""
    from forgesyte_dev.mp4_tools import box, ftyp

    frames, per_chunk = 108_000, 30
    chunks = frames // per_chunk
    header = ftyp()
    mdat = box("mdat", b"\0" * frames)
    offset = len(header) + 8
    full = lambda payload: b"\0\0\0\0" + payload  # noqa: E731 - version 0, no flags
    entry = box("avc1", b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HH", 64, 48) + b"\0" * 50)
    stbl = box(
        "stbl",
        box("stsd", full(struct.pack(">I", 1)) + entry)
        + box("stts", full(struct.pack(">III", 1, frames, 1)))
        + box("stsz", full(struct.pack(">II", 0, frames)) + struct.pack(">I", 1) * frames)
        + box("stsc", full(struct.pack(">IIII", 1, 1, per_chunk, 1)))
        + box(
            "stco",
            full(
                struct.pack(">I", chunks) + b"".join(struct.pack(">I", offset + c * per_chunk) for c in range(chunks))
            ),
        ),
    )
    mdia = box(
        "mdia",
        box("mdhd", full(struct.pack(">IIII", 0, 0, 30, frames)) + b"\0" * 4)
        + box("hdlr", full(b"\0\0\0\0vide" + b"\0" * 12))
        + box("minf", stbl),
    )
    tkhd = box("tkhd", full(b"\0" * 72 + struct.pack(">II", 64 << 16, 48 << 16)))
    moov = box(
        "moov", box("mvhd", full(struct.pack(">IIII", 0, 0, 30, frames)) + b"\0" * 80) + box("trak", tkhd + mdia)
    )
    data = header + mdat + moov
    info, peak = traced_peak(lambda: probe(data))
    assert info.frames == frames
    assert info.duration == pytest.approx(3600)
    assert peak < 3 * len(moov), f"{peak / 2**20:.1f} MiB for a {len(moov) / 2**20:.1f} MiB moov"
