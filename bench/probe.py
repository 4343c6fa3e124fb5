"""Probe cost for the same MP4 padded to 2 MiB and to 2 GiB: requests, bytes and time must not grow."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from forgesyte_core.media import FileSource, Limits, probe_media
from forgesyte_dev.mp4_tools import pad_mp4
from tests.media_factory import write_mp4v

LIMITS = Limits(max_bytes=4 * 1024**3, max_video_seconds=3600, max_video_pixels=3840 * 2160, max_image_pixels=10**8)
RUNS = 21


def measure(path: Path) -> dict[str, Any]:
    times = []
    requests = bytes_read = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        info, cache = probe_media(FileSource(path), LIMITS)
        times.append(time.perf_counter() - started)
        requests, bytes_read = cache.requests, cache.bytes_read
    return {
        "file_bytes": path.stat().st_size,
        "frames": info.frames,
        "requests": requests,
        "bytes_read": bytes_read,
        "median_ms": round(statistics.median(times) * 1000, 3),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        base = write_mp4v(Path(tmp) / "clip.mp4", frames=250, size=(640, 360))
        small = measure(pad_mp4(base, Path(tmp) / "padded-2MiB.mp4", 2 * 1024**2))
        large = measure(pad_mp4(base, Path(tmp) / "padded-2GiB.mp4", 2 * 1024**3))
    time_ratio = large["median_ms"] / small["median_ms"]
    bytes_ratio = large["bytes_read"] / small["bytes_read"]
    return {
        "what": "probe of one 640x360 mp4v clip (moov after mdat) padded to 2 MiB and 2 GiB;"
        " each read is one ranged read of a local file, as each is one GET on S3",
        "runs": RUNS,
        "padded_2MiB": small,
        "padded_2GiB": large,
        "time_ratio_2GiB_over_2MiB": round(time_ratio, 3),
        "bytes_ratio_2GiB_over_2MiB": round(bytes_ratio, 3),
        "target": "ratio < 1.2; <= 4 requests and 256 KiB",
        "target_met": time_ratio < 1.2
        and bytes_ratio < 1.2
        and large["requests"] <= 4
        and large["bytes_read"] <= 256 * 1024,
    }
