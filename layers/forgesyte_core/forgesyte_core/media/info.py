"""What a probe reports, and the limits it enforces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_video_seconds: float
    max_video_pixels: int
    max_image_pixels: int
    # pixels × channels × bytes a sample, as decoded: a 16-bit RGBA PNG is 8 bytes a pixel, 8× a grey one
    max_image_decoded_bytes: int = 1 << 62


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" | "image"
    container: str  # mp4 | mov | 3gp | png | jpeg | webp
    bytes: int
    width: int
    height: int
    brand: str | None = None
    codec: str | None = None
    fps: float | None = None
    duration: float | None = None
    frames: int | None = None
    fragmented: bool = False  # fragmented MP4: frames may be estimated from the fragments read
    channels: int | None = None  # images: colour channels as stored (grey 1, RGB 3, RGBA 4)
    bit_depth: int | None = None  # images: bits a channel (8, 12 or 16)

    @property
    def decoded_bytes(self) -> int:
        """What decoding the picture takes: pixels × channels × bytes a channel (RGB, 8 bits if unknown)."""
        return self.width * self.height * (self.channels or 3) * -(-(self.bit_depth or 8) // 8)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediaInfo:
        """As stored on a job; fields a newer release added are ignored, not an error."""
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in known})
