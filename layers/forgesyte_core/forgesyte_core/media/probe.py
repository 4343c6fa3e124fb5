"""The one entry point: decide what a byte source holds and whether this service takes it."""

from __future__ import annotations

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.images import image_container, probe_image
from forgesyte_core.media.info import Limits, MediaInfo
from forgesyte_core.media.mp4 import HEAD_BYTES, is_iso_bmff, probe_iso_bmff
from forgesyte_core.media.source import ByteSource, RangeCache, ReadError

# Formats people upload by mistake, named; the reason then says what this job takes.
_KNOWN_OTHERS = (
    (b"\x1a\x45\xdf\xa3", "WebM/Matroska is not supported"),
    (b"GIF8", "GIF is not supported"),
    (b"%PDF", "a PDF document is not an image or a video"),
    (b"PK\x03\x04", "a ZIP archive is not an image or a video"),
)
_WHAT_TO_UPLOAD = {
    "video": "upload an MP4 or MOV video (H.264, HEVC, AV1, VP9 or MPEG-4), or convert it: "
    "`ffmpeg -i in -c:v libx264 out.mp4`",
    "image": "upload a PNG, JPEG or WebP image",
    None: "upload an MP4 or MOV video, or a PNG, JPEG or WebP image",
}


def probe_media(source: ByteSource, limits: Limits, expected_kind: str | None = None) -> tuple[MediaInfo, RangeCache]:
    """Probe ``source``; raise :class:`InvalidMedia` with a reason a person can act on.

    Returns the media facts and the cache, whose counters tell how many requests and bytes it took.
    """
    cache = RangeCache(source)
    if cache.size == 0:
        raise InvalidMedia("the file is empty")
    if cache.size > limits.max_bytes:
        raise InvalidMedia(f"the file is {cache.size} bytes; the limit is {limits.max_bytes}")
    try:
        info = _sniff_and_probe(cache, _WHAT_TO_UPLOAD.get(expected_kind, _WHAT_TO_UPLOAD[None]))
    except ReadError as exc:
        raise InvalidMedia(f"could not read the file: {exc}") from None
    if expected_kind and info.kind != expected_kind:
        article = "an" if expected_kind[0] in "aeiou" else "a"
        raise InvalidMedia(
            f"this job expects {article} {expected_kind} but the file is a {info.container.upper()} {info.kind}; "
            f"{_WHAT_TO_UPLOAD.get(expected_kind, _WHAT_TO_UPLOAD[None])}, or submit it as a {info.kind} job"
        )
    _check_limits(info, limits)
    return info, cache


def _sniff_and_probe(cache: RangeCache, what_to_upload: str) -> MediaInfo:
    head = cache.read(0, 16, prefetch=HEAD_BYTES)
    if is_iso_bmff(head):
        return probe_iso_bmff(cache)
    container = image_container(head)
    if container:
        return probe_image(cache, container)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        raise InvalidMedia(f"AVI is not supported; {what_to_upload}")
    for magic, reason in _KNOWN_OTHERS:
        if head.startswith(magic):
            raise InvalidMedia(f"{reason}; {what_to_upload}")
    if len(head) >= 8 and head[4:8] in {b"moov", b"mdat", b"wide", b"free"}:
        raise InvalidMedia("QuickTime file without an 'ftyp' box; re-save it as MP4")
    raise InvalidMedia(f"unrecognised file format (first bytes {head[:8].hex()}); {what_to_upload}")


def _check_limits(info: MediaInfo, limits: Limits) -> None:
    pixels = info.width * info.height
    if info.kind == "video":
        if info.duration and info.duration > limits.max_video_seconds:
            raise InvalidMedia(f"the video lasts {info.duration:.0f} s; the limit is {limits.max_video_seconds:.0f} s")
        if pixels > limits.max_video_pixels:
            raise InvalidMedia(
                f"the video is {info.width}x{info.height}; the limit is {limits.max_video_pixels} pixels a frame"
            )
    elif pixels > limits.max_image_pixels:
        raise InvalidMedia(f"the image is {info.width}x{info.height}; the limit is {limits.max_image_pixels} pixels")
    elif info.decoded_bytes > limits.max_image_decoded_bytes:
        raise InvalidMedia(
            f"the image decodes to {info.decoded_bytes / 2**20:.0f} MiB ({info.width}x{info.height}, "
            f"{info.channels} channels of {info.bit_depth} bits); the limit is "
            f"{limits.max_image_decoded_bytes / 2**20:.0f} MiB for the runner's memory: scale it down or save it "
            "with 8-bit colour"
        )
