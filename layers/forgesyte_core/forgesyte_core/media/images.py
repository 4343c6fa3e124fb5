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


# PNG colour types: grey, RGB, palette (decoded to RGB), grey + alpha, RGBA.
PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}

# width, height, channels, bits a channel
Picture = tuple[int, int, int, int]


def probe_image(cache: RangeCache, container: str) -> MediaInfo:
    if container == "png":
        width, height, channels, bits = _png_picture(cache)
    elif container == "jpeg":
        width, height, channels, bits = _jpeg_picture(cache)
    else:
        width, height, channels, bits = _webp_picture(cache)
    if width <= 0 or height <= 0:
        raise InvalidMedia(f"{container.upper()} header gives an empty picture ({width}x{height})")
    return MediaInfo(
        kind="image",
        container=container,
        bytes=cache.size,
        width=width,
        height=height,
        channels=channels,
        bit_depth=bits,
    )


def _png_picture(cache: RangeCache) -> Picture:
    header = cache.read(8, 25)
    if len(header) < 25 or header[4:8] != b"IHDR" or struct.unpack(">I", header[:4])[0] != 13:
        raise InvalidMedia("malformed PNG: the first chunk is not IHDR")
    if cache.read(cache.size - 8, 8)[:4] != b"IEND":
        raise InvalidMedia("truncated PNG: no IEND chunk at the end; the upload is incomplete")
    width, height = struct.unpack(">II", header[8:16])
    bits, colour_type = header[16], header[17]
    if colour_type not in PNG_CHANNELS or bits not in {1, 2, 4, 8, 16}:
        raise InvalidMedia(f"malformed PNG: colour type {colour_type} with {bits}-bit samples")
    return width, height, PNG_CHANNELS[colour_type], 8 if colour_type == 3 else max(bits, 8)


def _jpeg_picture(cache: RangeCache) -> Picture:
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
            frame = cache.read(position + 4, 6)
            if len(frame) < 6:
                raise InvalidMedia("truncated JPEG: frame header cut off")
            precision, height, width, components = struct.unpack(">BHHB", frame)
            if b"\xff\xd9" not in cache.read(max(0, cache.size - 1024), 1024):
                raise InvalidMedia("truncated JPEG: no end-of-image marker; the upload is incomplete")
            return width, height, components, precision
        position += 2 + length
    raise InvalidMedia("malformed JPEG: no frame header in the first segments")


def _webp_picture(cache: RangeCache) -> Picture:
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
        return width & 0x3FFF, height & 0x3FFF, 3, 8
    if chunk == b"VP8L":
        if header[20] != 0x2F:
            raise InvalidMedia("malformed WebP: bad VP8L signature")
        bits = int.from_bytes(header[21:25], "little")
        alpha = (bits >> 28) & 1
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 3 + alpha, 8
    if chunk == b"VP8X":
        width = int.from_bytes(header[24:27], "little") + 1
        height = int.from_bytes(header[27:30], "little") + 1
        alpha = 1 if header[20] & 0x10 else 0
        return width, height, 3 + alpha, 8
    raise InvalidMedia(f"malformed WebP: unknown chunk {chunk!r}")
