"""The ISO-BMFF prober on real files (OpenCV, ffmpeg) and on hostile hand-made boxes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media import BytesSource, FileSource, Limits, probe_media
from forgesyte_dev.mp4_tools import box, ftyp, pad_mp4, top_level_boxes
from tests.helpers import traced_peak
from tests.media_factory import MediaFiles, needs_ffmpeg

LIMITS = Limits(
    max_bytes=4 * 1024**3, max_video_seconds=3600, max_video_pixels=3840 * 2160, max_image_pixels=50_000_000
)


def probe_bytes(data: bytes, limits: Limits = LIMITS) -> object:
    return probe_media(BytesSource(data), limits)[0]


def reject_reason(data: bytes, limits: Limits = LIMITS) -> str:
    with pytest.raises(InvalidMedia) as caught:
        probe_media(BytesSource(data), limits)
    return caught.value.message


def test_opencv_mp4v_is_read_from_its_boxes(media: MediaFiles) -> None:
    info, cache = probe_media(FileSource(media.mp4v), LIMITS)
    assert (info.kind, info.container, info.codec) == ("video", "mp4", "mpeg4")
    assert (info.width, info.height, info.frames) == (320, 240, 30)
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(1.2)
    assert info.bytes == media.mp4v.stat().st_size
    assert cache.requests == 1


@needs_ffmpeg
@pytest.mark.parametrize("name", ["h264", "h264_faststart"])
def test_ffmpeg_h264_with_moov_at_either_end(media: MediaFiles, name: str) -> None:
    path = getattr(media, name)
    order = [kind for kind, _, _ in top_level_boxes(path.read_bytes())]
    assert ("moov" in order[:3]) == (name == "h264_faststart")
    info, _ = probe_media(FileSource(path), LIMITS)
    assert (info.codec, info.width, info.height, info.frames) == ("h264", 640, 360, 60)
    assert info.fps == pytest.approx(30.0)


@needs_ffmpeg
def test_hevc_and_quicktime_are_accepted(media: MediaFiles) -> None:
    hevc, _ = probe_media(FileSource(media.hevc), LIMITS)
    mov, _ = probe_media(FileSource(media.quicktime), LIMITS)
    assert (hevc.codec, hevc.frames) == ("hevc", 24)
    assert (mov.container, mov.brand, mov.codec) == ("mov", "qt", "h264")


FRAGMENTED = {
    # name: (movflags, what declares the duration when the walk cannot reach the end)
    "mediarecorder": "+empty_moov+default_base_moof+skip_trailer",  # no mehd, sidx or mfra: the tail's tfdt
    "cmaf_sidx": "+empty_moov+default_base_moof+global_sidx",
    "keyframe_fragments": "+frag_keyframe",  # the first fragment in moov, mfra at the end
}


@needs_ffmpeg
@pytest.mark.parametrize("name", sorted(FRAGMENTED))
def test_short_fragmented_mp4_is_walked_to_the_end(media: MediaFiles, name: str) -> None:
    path = media.fragmented_as(f"short-{name}", FRAGMENTED[name], seconds=2, fragment_s=0.2)
    info, cache = probe_media(FileSource(path), LIMITS)
    assert (info.codec, info.width, info.height, info.fragmented) == ("h264", 320, 180, True)
    assert (info.frames, info.duration, info.fps) == (50, 2.0, 25.0)
    assert cache.requests <= 12


@needs_ffmpeg
@pytest.mark.parametrize("name", sorted(FRAGMENTED))
def test_long_fragmented_mp4_gets_its_duration_from_the_boxes_that_declare_it(media: MediaFiles, name: str) -> None:
    """150 fragments of about 50 KB: the walk stops at its request budget; mehd, sidx or the last
    fragment's tfdt give the duration, the fragments read give the frame rate."""
    path = media.fragmented_as(f"long-{name}", FRAGMENTED[name], seconds=30, fragment_s=0.2)
    assert path.stat().st_size > 6 * 1024 * 1024  # more than the tail read
    info, cache = probe_media(FileSource(path), LIMITS)
    assert (info.frames, info.duration, info.fps) == (750, 30.0, 25.0)
    assert cache.requests <= 12
    assert cache.bytes_read <= 4.5 * 1024 * 1024  # the tail read is at most 4 MiB


@needs_ffmpeg
def test_fragmented_mp4_whose_duration_nothing_declares_is_refused_with_a_remux_hint(media: MediaFiles) -> None:
    data = media.fragmented_as("long-mediarecorder", FRAGMENTED["mediarecorder"], 30, 0.2).read_bytes()
    padded = data + box("free", bytes(5 * 1024 * 1024))  # the last fragment is out of the tail's reach
    reason = reject_reason(padded)
    assert "no box declaring its duration (mehd, sidx, or a last fragment with tfdt)" in reason
    assert "faststart" in reason


@needs_ffmpeg
def test_a_fragment_before_any_moov_is_malformed(media: MediaFiles) -> None:
    data = media.fragmented.read_bytes()
    boxes = top_level_boxes(data)
    ftyp_size = boxes[0][2]
    moof_at, moof_size = next((offset, size) for kind, offset, size in boxes if kind == "moof")
    swapped = data[:ftyp_size] + data[moof_at : moof_at + moof_size]
    assert "without a fragmented 'moov' before it" in reject_reason(swapped)


@needs_ffmpeg
def test_audio_only_mp4_has_no_video_track(media: MediaFiles) -> None:
    assert "no video track" in reject_reason(media.audio_only.read_bytes())


@pytest.mark.parametrize("moov_first", [False, True])
def test_moov_after_a_2_gib_mdat_costs_few_requests(media: MediaFiles, tmp_path: Path, moov_first: bool) -> None:
    source = media.mp4v
    if moov_first:  # rebuild as ftyp, moov, mdat: chunk offsets are wrong but the prober never reads them
        data = source.read_bytes()
        parts = {kind: data[offset : offset + size] for kind, offset, size in top_level_boxes(data)}
        source = tmp_path / "faststart.mp4"
        source.write_bytes(parts["ftyp"] + parts["moov"] + parts["mdat"])
    padded = pad_mp4(source, tmp_path / "padded.mp4", 2 * 1024**3)
    assert padded.stat().st_size == 2 * 1024**3
    info, cache = probe_media(FileSource(padded), LIMITS)
    assert info.frames == 30
    assert info.bytes == 2 * 1024**3
    assert cache.requests <= 4
    assert cache.bytes_read <= 256 * 1024


def test_a_200_kib_moov_after_the_mdat_fits_the_read_budget(tmp_path: Path) -> None:
    moov = _moov(frames=10, extra=box("udta", b"\0" * (200 * 1024 - 1200)))
    assert 190 * 1024 < len(moov) < 200 * 1024
    path = tmp_path / "big-moov.mp4"
    with path.open("wb") as out:
        out.write(ftyp())
        out.write(struct.pack(">I4sQ", 1, b"mdat", 16 + 3 * 1024**3))
        out.seek(3 * 1024**3, 1)
        out.write(moov)
    info, cache = probe_media(FileSource(path), LIMITS)
    assert info.frames == 10
    assert cache.requests <= 4
    assert cache.bytes_read <= 256 * 1024


def test_truncated_upload_is_named_as_such(media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    reason = reject_reason(data[: len(data) - 100])
    assert reason.startswith("truncated")
    assert "incomplete" in reason


def test_file_without_moov_is_refused() -> None:
    assert "no 'moov' box" in reject_reason(ftyp() + box("mdat", b"\0" * 64))


def test_size_zero_box_extends_to_the_end() -> None:
    data = ftyp() + _moov(frames=5) + struct.pack(">I4s", 0, b"mdat") + b"\0" * 100
    assert probe_bytes(data).frames == 5  # type: ignore[attr-defined]


def test_size_one_box_uses_the_64_bit_size() -> None:
    data = ftyp() + box("mdat", b"\0" * 40, large=True) + _moov(frames=7)
    assert probe_bytes(data).frames == 7  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("major", "expected"),
    [("heic", "HEIF/AVIF"), ("avif", "HEIF/AVIF"), ("M4A ", "audio"), ("xyz1", "unsupported MP4 brand")],
)
def test_brands_outside_the_allowlist(major: str, expected: str) -> None:
    data = box("ftyp", major.encode() + b"\0\0\0\0" + major.encode()) + _moov(frames=1)
    assert expected in reject_reason(data)


def test_compatible_brand_admits_an_unknown_major_brand() -> None:
    data = box("ftyp", b"abcd\0\0\0\0isommp42") + _moov(frames=3)
    assert probe_bytes(data).frames == 3  # type: ignore[attr-defined]


# -- hand-built moov boxes --------------------------------------------------------------------


def _full(version_flags: int, payload: bytes) -> bytes:
    return struct.pack(">I", version_flags) + payload


def _moov(
    frames: int,
    timescale: int = 1000,
    duration: int = 1000,
    width: int = 64,
    height: int = 48,
    codec: str = "avc1",
    extra: bytes = b"",
) -> bytes:
    stts = box("stts", _full(0, struct.pack(">III", 1, frames, duration // max(frames, 1))))
    return box(
        "moov",
        box("mvhd", _full(0, struct.pack(">IIII", 0, 0, timescale, duration)) + b"\0" * 80)
        + _trak(frames, timescale, duration, width, height, codec, stts)
        + extra,
    )


def _trak(frames: int, timescale: int, duration: int, width: int, height: int, codec: str, stts: bytes) -> bytes:
    entry = box(codec, b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HH", width, height) + b"\0" * 50)
    stsd = box("stsd", _full(0, struct.pack(">I", 1)) + entry)
    stsz = box("stsz", _full(0, struct.pack(">II", 1, frames)))  # every sample 1 byte
    stbl = box("stbl", stsd + stts + stsz + _one_chunk(frames))
    mdia = box(
        "mdia",
        box("mdhd", _full(0, struct.pack(">IIII", 0, 0, timescale, duration)) + b"\0" * 4)
        + box("hdlr", _full(0, b"\0\0\0\0vide" + b"\0" * 12))
        + box("minf", stbl),
    )
    tkhd = box("tkhd", _full(0, b"\0" * 72 + struct.pack(">II", width << 16, height << 16)))
    return box("trak", tkhd + mdia)


def _one_chunk(frames: int) -> bytes:
    """Every sample in one chunk at the file's start: real bytes, whatever they hold."""
    return box("stsc", _full(0, struct.pack(">IIII", 1, 1, frames, 1))) + box(
        "stco", _full(0, struct.pack(">II", 1, 0))
    )


def _moov_with_stts(stts_payload: bytes, frames: int = 1, timescale: int = 1000, duration: int = 1000) -> bytes:
    return box("moov", _trak(frames, timescale, duration, 8, 8, "avc1", box("stts", stts_payload)))


HOSTILE = {
    "moov before ftyp": (box("moov", b"") + ftyp(), "QuickTime file without an 'ftyp' box"),
    "box smaller than its header": (ftyp() + struct.pack(">I4s", 4, b"free"), "declares 4 bytes"),
    "64-bit size larger than the file": (ftyp() + struct.pack(">I4sQ", 1, b"mdat", 2**62), "truncated"),
    "binary garbage as a box type": (
        ftyp() + struct.pack(">I4s", 16, b"\x00\x01\x02\x03") + b"\0" * 8,
        "not an ISO-BMFF box",
    ),
    "child overruns moov": (ftyp() + box("moov", struct.pack(">I4s", 500, b"trak")), "overruns its parent"),
    "stts claims a billion entries": (
        ftyp() + _moov_with_stts(struct.pack(">II", 0, 10**9)),
        "claims 1000000000 entries",
    ),
    "a flood of empty boxes in moov": (ftyp() + box("moov", box("free") * 20_001), "more than 20000 boxes"),
    "second ftyp": (ftyp() + ftyp(), "second 'ftyp'"),
    "huge ftyp": (box("ftyp", b"isom" + b"\0" * 5000), "'ftyp' box of"),
    "stray trailing bytes": (ftyp() + b"\0\0\0", "stray bytes"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_boxes_are_refused_with_a_reason(name: str) -> None:
    data, expected = HOSTILE[name]
    assert expected in reject_reason(data)


def test_limits_come_from_settings() -> None:
    data = ftyp() + _moov(frames=100, timescale=10, duration=10_000, width=1920, height=1080)
    tight = Limits(max_bytes=10**9, max_video_seconds=60, max_video_pixels=10**8, max_image_pixels=10**8)
    assert "lasts 1000 s; the limit is 60 s" in reject_reason(data, tight)
    small = Limits(max_bytes=10**9, max_video_seconds=10**6, max_video_pixels=640 * 480, max_image_pixels=10**8)
    assert "1920x1080" in reject_reason(data, small)
    assert "the limit is 10" in reject_reason(data, Limits(10, 10**6, 10**8, 10**8))


def test_encrypted_video_track_is_refused() -> None:
    assert "encrypted" in reject_reason(ftyp() + _moov(frames=3, codec="encv"))


def _moov_of_size(target: int) -> bytes:
    """A valid video whose moov is ``target`` bytes: a per-frame stts, as a variable-frame-rate phone writes."""
    fixed = len(_moov_with_stts(_full(0, struct.pack(">I", 0))))
    entries = (target - fixed) // 8
    stts = _full(0, struct.pack(">I", entries) + struct.pack(">II", 1, 1) * entries)
    moov = _moov_with_stts(stts, frames=entries, timescale=entries // 10, duration=entries)
    assert abs(len(moov) - target) < 8
    return moov


def test_a_moov_over_the_budget_is_refused_without_reading_it() -> None:
    from forgesyte_core.media.mp4 import MAX_MOOV_BYTES

    data = ftyp() + _moov_of_size(MAX_MOOV_BYTES + 64)
    with pytest.raises(InvalidMedia, match="exceeds"):
        probe_bytes(data)


def test_a_moov_at_the_budget_is_parsed_in_place() -> None:
    """The hostile upload was a 63 MiB moov of 7.9 M stts entries that peaked at 579 MiB in ingest."""
    from forgesyte_core.media.mp4 import MAX_MOOV_BYTES

    data = ftyp() + _moov_of_size(MAX_MOOV_BYTES - 64)
    info, peak = traced_peak(lambda: probe_bytes(data))
    assert info.kind == "video"  # type: ignore[attr-defined]
    # One copy of the moov (the ranged read) and no more: its boxes are memoryview slices.
    assert peak < 1.25 * MAX_MOOV_BYTES, f"{peak / 2**20:.0f} MiB"
