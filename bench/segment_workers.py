"""Segments over a pool of worker processes, each pinned to one core, as each runner Lambda has one vCPU
(at 1,769 MB). Workers are fresh processes (spawn) that load their plugin before the clock starts, as
warm Lambdas hold theirs; cold starts are measured on their own (bench/segments.py).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forgesyte_core.compute.segment_input import fetch_segment_input
from forgesyte_core.compute.segments import SegmentPolicy
from forgesyte_core.jobs.model import Segment
from forgesyte_core.media.samples import read_sample_table
from forgesyte_core.media.source import FileSource, RangeCache
from forgesyte_tracking.stitch import TrackStitcher

ROOT = Path(__file__).resolve().parents[1]
YOLO_MODEL = ROOT.parent / "shared" / "models" / "yolov8n-random-320.onnx"
RunTool = Callable[[dict[str, Any]], dict[str, Any]]
_WORKER: dict[str, RunTool] = {}


def plugin_runner(plugin: str) -> RunTool:
    """The plugin's video_track, its model loaded now."""
    if plugin == "motion-tracker":
        from forgesyte_motion_tracker.plugin import Plugin as Motion

        motion = Motion()
        return lambda args: dict(motion.run_tool("video_track", {**args, "options": {}}))
    from forgesyte_yolo.plugin import Plugin as Yolo

    yolo, options = Yolo(), {"model": str(YOLO_MODEL)}
    yolo.model(options)
    return lambda args: dict(yolo.run_tool("video_track", {**args, "options": options}))


def _start(plugin: str, claimed: Any, loaded: Any) -> None:
    import cv2

    with claimed.get_lock():
        core = claimed.value % (os.cpu_count() or 1)
        claimed.value += 1
    os.sched_setaffinity(0, {core})  # onnxruntime sizes its threads by this affinity
    cv2.setNumThreads(1)
    _WORKER["run"] = plugin_runner(plugin)
    with loaded.get_lock():
        loaded.value += 1


def _segment(task: tuple[str, dict[str, Any], str]) -> tuple[int, list[dict[str, Any]], float, int]:
    video, raw, scratch = task
    segment = Segment.from_dict(raw)
    part = Path(scratch) / f"segment-{segment.index}.mp4"
    started = time.perf_counter()
    read = fetch_segment_input(FileSource(video), segment, part)
    result = _WORKER["run"]({"video_path": str(part), "frame_range": [segment.decode_from, segment.end_frame]})
    frames = list(result["frames"])
    part.unlink()
    return segment.index, frames, time.perf_counter() - started, read


def _whole(video: str) -> float:
    started = time.perf_counter()
    for _ in _WORKER["run"]({"video_path": video})["frames"]:
        pass
    return time.perf_counter() - started


class PinnedPool:
    def __init__(self, plugin: str, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        claimed, self.loaded = context.Value("i", 0), context.Value("i", 0)
        self.pool = context.Pool(workers, initializer=_start, initargs=(plugin, claimed, self.loaded))
        deadline = time.monotonic() + 120
        while self.loaded.value < workers:  # every worker pinned and its plugin loaded
            if time.monotonic() > deadline:
                raise TimeoutError("the worker pool did not start")
            time.sleep(0.05)

    def __enter__(self) -> PinnedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.terminate()
        self.pool.join()


def one_core_unsplit(plugin: str, video: Path) -> float:
    """The whole video in one pinned worker: what one runner with one vCPU takes."""
    with PinnedPool(plugin, 1) as workers:
        seconds: float = workers.pool.apply(_whole, (str(video),))
    return seconds


def segmented(plugin: str, video: Path, tool: dict[str, Any], segment_seconds: float, workers: int) -> dict[str, Any]:
    """Every segment over ``workers`` pinned workers, stitched in order as each arrives; the wall time."""
    table = read_sample_table(RangeCache(FileSource(video), max_requests=64))
    segments = SegmentPolicy(0.0, segment_seconds).plan(table.keyframes, table.frames, 30.0, tool)
    stitcher = TrackStitcher(max(s.start_frame - s.decode_from for s in segments))
    merged: list[dict[str, Any]] = []
    done: list[tuple[float, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-seg-") as scratch, PinnedPool(plugin, workers) as pool:
        tasks = [(str(video), s.to_dict(), scratch) for s in segments]
        started = time.perf_counter()
        for (index, frames, seconds, read), segment in zip(pool.pool.imap(_segment, tasks), segments, strict=True):
            assert index == segment.index
            merged.extend(stitcher.segment(frames, segment.start_frame, segment.end_frame))
            done.append((seconds, read))
        wall = time.perf_counter() - started
    if [f["frame_index"] for f in merged] != list(range(table.frames)):
        raise AssertionError("the merged frames are not every frame once, in order")
    size = video.stat().st_size
    return {
        "workers": workers,
        "segments": len(segments),
        "wall_s": round(wall, 2),
        "segment_seconds": [round(seconds, 2) for seconds, _ in done],
        "bytes_share": [round(read / size, 4) for _, read in done],
        "frames_share": [round(s.frames / table.frames, 4) for s in segments],
    }
