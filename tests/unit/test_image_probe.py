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
