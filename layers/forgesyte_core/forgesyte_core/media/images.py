"""PNG, JPEG and WebP: recognised by magic bytes, dimensions read from the header."""

from __future__ import annotations

import struct

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.info import MediaInfo
from forgesyte_core.media.source import RangeCache

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_JPEG_SEGMENTS = 512
# SOF markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_container(head: bytes) -> str | None:
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def probe_image(cache: RangeCache, container: str) -> MediaInfo:
    if container == "png":
        width, height = _png_size(cache)
    elif container == "jpeg":
        width, height = _jpeg_size(cache)
    else:
        width, height = _webp_size(cache)
    if width <= 0 or height <= 0:
        raise InvalidMedia(f"{container.upper()} header gives an empty picture ({width}x{height})")
    return MediaInfo(kind="image", container=container, bytes=cache.size, width=width, height=height)


def _png_size(cache: RangeCache) -> tuple[int, int]:
    header = cache.read(8, 25)
    if len(header) < 25 or header[4:8] != b"IHDR" or struct.unpack(">I", header[:4])[0] != 13:
        raise InvalidMedia("malformed PNG: the first chunk is not IHDR")
    if cache.read(cache.size - 8, 8)[:4] != b"IEND":
        raise InvalidMedia("truncated PNG: no IEND chunk at the end; the upload is incomplete")
    width, height = struct.unpack(">II", header[8:16])
    return width, height


def _jpeg_size(cache: RangeCache) -> tuple[int, int]:
    position = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        marker = cache.read(position, 4, prefetch=4096)
        if len(marker) < 4 or marker[0] != 0xFF:
            raise InvalidMedia(f"malformed JPEG: no marker at offset {position}")
        code = marker[1]
        if code == 0xFF:  # fill byte
            position += 1
            continue
        if code in {0x01, *range(0xD0, 0xD8)}:
            position += 2
            continue
        if code in {0xD9, 0xDA}:
            raise InvalidMedia("malformed JPEG: image data starts before a frame header (SOF)")
        length = struct.unpack(">H", marker[2:4])[0]
        if length < 2 or position + 2 + length > cache.size:
            raise InvalidMedia(f"truncated JPEG: segment at offset {position} runs past the end")
        if code in SOF_MARKERS:
            frame = cache.read(position + 4, 5)
            if len(frame) < 5:
                raise InvalidMedia("truncated JPEG: frame header cut off")
            height, width = struct.unpack(">HH", frame[1:5])
            if b"\xff\xd9" not in cache.read(max(0, cache.size - 1024), 1024):
                raise InvalidMedia("truncated JPEG: no end-of-image marker; the upload is incomplete")
            return width, height
        position += 2 + length
    raise InvalidMedia("malformed JPEG: no frame header in the first segments")


def _webp_size(cache: RangeCache) -> tuple[int, int]:
    header = cache.read(0, 30)
    riff_size = struct.unpack("<I", header[4:8])[0]
    if riff_size + 8 > cache.size:
        raise InvalidMedia("truncated WebP: RIFF size runs past the end; the upload is incomplete")
    if len(header) < 30:
        raise InvalidMedia("malformed WebP: header too short")
    chunk = header[12:16]
    if chunk == b"VP8 ":
        if header[23:26] != b"\x9d\x01\x2a":
            raise InvalidMedia("malformed WebP: bad VP8 frame start code")
        width, height = struct.unpack("<HH", header[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if header[20] != 0x2F:
            raise InvalidMedia("malformed WebP: bad VP8L signature")
        bits = int.from_bytes(header[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(header[24:27], "little") + 1
        height = int.from_bytes(header[27:30], "little") + 1
        return width, height
    raise InvalidMedia(f"malformed WebP: unknown chunk {chunk!r}")
