"""Media files made by the tests: OpenCV mp4v videos, ffmpeg H.264/HEVC when present, images."""

from __future__ import annotations

import shutil
import subprocess
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
import pytest

HAS_FFMPEG = shutil.which("ffmpeg") is not None
needs_ffmpeg = pytest.mark.skipif(
    not HAS_FFMPEG, reason="Debian's ffmpeg is not installed (make install adds it as root)"
)


def write_mp4v(path: Path, frames: int = 30, size: tuple[int, int] = (320, 240), fps: float = 25.0) -> Path:
    """A white square moving across a black background."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for index in range(frames):
        frame = np.zeros((height, width, 3), np.uint8)
        x = 10 + index * max(1, (width - 60) // max(frames, 1))
        cv2.rectangle(frame, (x, height // 2 - 20), (x + 40, height // 2 + 20), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def ffmpeg(path: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args, str(path)], check=True)
    return path


def looped(source: Path, path: Path, times: int) -> Path:
    """``source`` played ``times`` times over, its frames copied, not encoded again: a long video in
    a fraction of a second (drawing 120 s of 640x360 frames took 32 s)."""
    return ffmpeg(path, "-stream_loop", str(times - 1), "-i", str(source), "-c", "copy")


def ffmpeg_test_source(path: Path, size: str, rate: int, seconds: int, *encode: str) -> Path:
    """ffmpeg's moving test pattern, encoded as ``encode`` says."""
    return ffmpeg(path, "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}", "-t", str(seconds), *encode)


H264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p")


class MediaFiles:
    def __init__(self, base: Path) -> None:
        self.base = base

    @cached_property
    def mp4v(self) -> Path:
        return write_mp4v(self.base / "square.mp4")

    @cached_property
    def h264(self) -> Path:
        return ffmpeg_test_source(self.base / "h264.mp4", "640x360", 30, 2, *H264)

    @cached_property
    def h264_faststart(self) -> Path:
        return ffmpeg_test_source(self.base / "h264-faststart.mp4", "640x360", 30, 2, *H264, "-movflags", "+faststart")

    @cached_property
    def hevc(self) -> Path:
        encode = ("-c:v", "libx265", "-tag:v", "hvc1", "-x265-params", "log-level=error")
        return ffmpeg_test_source(self.base / "hevc.mp4", "320x240", 24, 1, *encode)

    @cached_property
    def fragmented(self) -> Path:
        encode = ("-c:v", "libx264", "-movflags", "frag_keyframe+empty_moov")
        return ffmpeg_test_source(self.base / "fragmented.mp4", "320x240", 24, 1, *encode)

    def fragmented_as(self, name: str, movflags: str, seconds: int = 4, fragment_s: float = 1.0) -> Path:
        """A fragmented MP4 as browsers (MediaRecorder), CMAF packagers or cameras write one: 25 fps,
        noisy enough (about 40 KB a frame) that fragments of ``fragment_s`` outgrow one prefetch."""
        path = self.base / f"fragmented-{name}.mp4"
        if not path.exists():
            ffmpeg(
                path,
                *("-f", "lavfi", "-i", "testsrc=size=320x180:rate=25,noise=alls=30:allf=t", "-t", str(seconds)),
                *("-c:v", "libx264", "-preset", "ultrafast", "-g", "5", "-pix_fmt", "yuv420p"),
                *("-frag_duration", str(round(fragment_s * 1_000_000)), "-movflags", movflags),
            )
        return path

    @cached_property
    def quicktime(self) -> Path:
        return ffmpeg_test_source(self.base / "clip.mov", "320x240", 24, 1, "-c:v", "libx264")

    @cached_property
    def audio_only(self) -> Path:
        return ffmpeg(self.base / "audio.mp4", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", "-f", "mp4")

    def image(self, ext: str, size: tuple[int, int] = (64, 48)) -> Path:
        path = self.base / f"image-{size[0]}x{size[1]}.{ext}"
        if not path.exists():
            frame = np.full((size[1], size[0], 3), 90, np.uint8)
            cv2.putText(frame, "Hi", (2, size[1] - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
            cv2.imwrite(str(path), frame)
        return path
