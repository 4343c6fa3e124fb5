"""A segmented run in one process, by the pipeline's own parts: the plan from the file's keyframes,
each segment's sparse input, the plugin on its frame range, the merge's stitcher.

Tests and benchmarks compare it with an unsplit run of the same tool on the same video (tracking
quality, bytes each segment reads); the cloud and the local stack run the same parts on many runners.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forgesyte_core.compute.segment_input import fetch_segment_input
from forgesyte_core.compute.segments import SegmentPolicy, stitch_mode
from forgesyte_core.jobs.model import Segment
from forgesyte_core.media.samples import read_sample_table
from forgesyte_core.media.source import FileSource, RangeCache
from forgesyte_tracking.stitch import TrackStitcher

RunTool = Callable[[dict[str, Any]], dict[str, Any]]  # args -> the tool's result


@dataclass
class SegmentedRun:
    segments: list[Segment]
    frames: list[dict[str, Any]] = field(default_factory=list)
    bytes_read: list[int] = field(default_factory=list)
    file_bytes: int = 0
    cuts_matched: int = 0


def run_segmented(
    video: Path, tool: dict[str, Any], run_tool: RunTool, segment_seconds: float, overlap_frames: int = 30
) -> SegmentedRun:
    """``tool``: the tool's manifest entry (its ``segments`` say how to stitch); ``run_tool`` runs it."""
    cache = RangeCache(FileSource(video), max_requests=64)
    table = read_sample_table(cache)
    capture_fps = _fps(video)
    policy = SegmentPolicy(0.0, segment_seconds, overlap_frames)
    segments = policy.plan(table.keyframes, table.frames, capture_fps, tool)
    run = SegmentedRun(segments, file_bytes=video.stat().st_size)
    stitcher = TrackStitcher(max(s.start_frame - s.decode_from for s in segments)) if stitch_mode(tool) else None
    with tempfile.TemporaryDirectory(prefix="segmented-") as scratch:
        for segment in segments:
            part = Path(scratch) / f"segment-{segment.index}.mp4"
            run.bytes_read.append(fetch_segment_input(FileSource(video), segment, part))
            result = run_tool({"video_path": str(part), "frame_range": [segment.decode_from, segment.end_frame]})
            frames = list(result["frames"])
            part.unlink()
            if stitcher is None:
                run.frames.extend(f for f in frames if segment.owns(int(f["frame_index"])))
            else:
                run.frames.extend(stitcher.segment(frames, segment.start_frame, segment.end_frame))
    run.cuts_matched = stitcher.matched if stitcher else 0
    return run


def _fps(video: Path) -> float:
    import cv2

    capture = cv2.VideoCapture(str(video))
    try:
        return float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
    finally:
        capture.release()
