"""Images by magic bytes; other formats people upload by mistake get a reason that says what to do."""

from __future__ import annotations

import pytest

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media import BytesSource, FileSource, Limits, probe_media
from tests.media_factory import MediaFiles

LIMITS = Limits(max_bytes=10**8, max_video_seconds=3600, max_video_pixels=10**8, max_image_pixels=10**7)


@pytest.mark.parametrize(("ext", "container"), [("png", "png"), ("jpg", "jpeg"), ("webp", "webp")])
def test_images_give_their_size(media: MediaFiles, ext: str, container: str) -> None:
    info, cache = probe_media(FileSource(media.image(ext, (64, 48))), LIMITS, "image")
    assert (info.kind, info.container, info.width, info.height) == ("image", container, 64, 48)
    assert cache.requests <= 2


def test_lossless_webp_size(tmp_path: object) -> None:
    import cv2
    import numpy as np

    ok, encoded = cv2.imencode(".webp", np.zeros((33, 77, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert ok
    info, _ = probe_media(BytesSource(encoded.tobytes()), LIMITS)
    assert (info.width, info.height) == (77, 33)


def reason(data: bytes, expected_kind: str | None = None, limits: Limits = LIMITS) -> str:
    with pytest.raises(InvalidMedia) as caught:
        probe_media(BytesSource(data), limits, expected_kind)
    return caught.value.message


def test_truncated_png_and_jpeg(media: MediaFiles) -> None:
    png = media.image("png").read_bytes()
    jpeg = media.image("jpg").read_bytes()
    assert "truncated PNG" in reason(png[:-20])
    assert "truncated JPEG" in reason(jpeg[: len(jpeg) // 2] + b"\0" * 2000)


def test_image_for_a_video_job_and_video_for_an_image_job(media: MediaFiles) -> None:
    assert "expects a video but the file is a PNG image" in reason(media.image("png").read_bytes(), "video")
    assert "expects an image but the file is a MP4 video; upload a PNG, JPEG or WebP image" in reason(
        media.mp4v.read_bytes(), "image"
    )


def test_pixel_limit(media: MediaFiles) -> None:
    tight = Limits(max_bytes=10**8, max_video_seconds=3600, max_video_pixels=10**8, max_image_pixels=1000)
    assert "64x48; the limit is 1000 pixels" in reason(media.image("png").read_bytes(), limits=tight)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 40, "WebM/Matroska is not supported"),
        (b"GIF89a" + b"\0" * 40, "GIF is not supported"),
        (b"%PDF-1.7" + b"\0" * 40, "PDF document"),
        (b"RIFF\0\0\0\0AVI LIST" + b"\0" * 40, "AVI is not supported"),
        (b"hello, this is a text file pretending to be a video", "unrecognised file format"),
    ],
)
def test_other_formats_get_a_reason(data: bytes, expected: str) -> None:
    assert expected in reason(data)


@pytest.mark.parametrize(
    ("kind", "told"),
    [("video", "upload an MP4 or MOV video"), ("image", "upload a PNG, JPEG or WebP image")],
)
def test_a_wrong_file_is_told_what_this_job_takes(kind: str, told: str) -> None:
    for data in (b"GIF89a" + b"\0" * 40, b"hello, this is a text file"):
        assert told in reason(data, kind)


def png_header(width: int, height: int, bits: int, colour_type: int) -> bytes:
    """A PNG the probe reads as the real thing: IHDR first, IEND last (pixel data is never read)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\0" * 64) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("bits", "colour_type", "channels", "decoded_mib"),
    [(8, 0, 1, 47), (8, 2, 3, 140), (16, 6, 4, 374), (8, 3, 3, 140)],  # grey, RGB, 16-bit RGBA, palette
)
def test_images_are_limited_by_their_decoded_bytes(
    bits: int, colour_type: int, channels: int, decoded_mib: int
) -> None:
    """Issue 18: a 140 KiB 7,000×7,000 PNG under the pixel limit took the runner to 869 MiB, a 16-bit RGBA
    one to 1,053 MiB. The limit is on what decoding takes, sized to the runner's memory."""
    from forgesyte_core.settings import DECODE_COPIES, RUNNER_BASE_MB

    data = png_header(7000, 7000, bits, colour_type)
    roomy = Limits(10**8, 3600, 10**8, 50_000_000, (3008 - RUNNER_BASE_MB) * 2**20 // DECODE_COPIES)
    info, _ = probe_media(BytesSource(data), roomy, "image")
    assert (info.channels, info.bit_depth) == (channels, 8 if colour_type == 3 else bits)
    assert round(info.decoded_bytes / 2**20) == decoded_mib
    small_runner = Limits(10**8, 3600, 10**8, 50_000_000, (1024 - RUNNER_BASE_MB) * 2**20 // DECODE_COPIES)
    if decoded_mib > 104:
        expected = f"the image decodes to {decoded_mib} MiB (7000x7000, {channels} channels of"
        assert expected in reason(data, "image", small_runner)
        assert "the limit is 104 MiB for the runner's memory" in reason(data, "image", small_runner)
    else:
        probe_media(BytesSource(data), small_runner, "image")


def test_jpeg_and_webp_report_channels_and_depth(media: MediaFiles) -> None:
    import cv2
    import numpy as np

    jpeg, _ = probe_media(FileSource(media.image("jpg")), LIMITS, "image")
    assert (jpeg.channels, jpeg.bit_depth) == (3, 8)
    ok, grey = cv2.imencode(".jpg", np.zeros((20, 30), np.uint8))
    assert ok
    assert probe_media(BytesSource(grey.tobytes()), LIMITS)[0].channels == 1
    ok, with_alpha = cv2.imencode(".webp", np.zeros((20, 30, 4), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert ok
    assert probe_media(BytesSource(with_alpha.tobytes()), LIMITS)[0].channels == 4


def test_the_decoded_limit_follows_the_runners_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from forgesyte_core.settings import Settings

    monkeypatch.setenv("RUNNER_MEMORY_MB", "1024")
    assert Settings.from_env().max_image_decoded_bytes == (1024 - 400) * 2**20 // 6
    monkeypatch.setenv("MAX_IMAGE_DECODED_BYTES", "1000")
    assert Settings.from_env().max_image_decoded_bytes == 1000
