"""Segmented runs (issue 16): tracking across cuts, speed-up on workers, a 60-minute video on AWS, the
price of a video-minute. ``python -m bench.segments`` runs this section alone and merges it into
bench/results.json; ``make bench`` runs it with the others.

Everything runs the pipeline's own parts (forgesyte_dev.segmented): the keyframe plan, each segment's
sparse input, the plugin on its frame range, the merge's stitcher.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench import aws_model, segment_workers
from bench.section import write_section
from forgesyte_dev.motscore import score
from forgesyte_dev.segmented import run_segmented
from forgesyte_dev.synthetic import START_SCENES, GroundTruth, crossing_scene, looped_scene

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = ROOT.parent / "shared" / "models"
YOLO_MODEL = SHARED_MODELS / "yolov8n-random-320.onnx"

QUALITY_SECONDS, QUALITY_SEGMENT_SECONDS = 180.0, 15.0  # 12 segments: 11 cuts
SPEED_SECONDS, SPEED_SEGMENT_SECONDS = 600.0, 60.0  # the 10-minute video
YOLO_SPEED_SECONDS, YOLO_SEGMENT_SECONDS = 120.0, 15.0  # yolo runs 45 fps here: a 2-minute clip
SCENES: dict[str, tuple[Callable[..., Any], float]] = {
    "crossing": (crossing_scene, 10.0),
    **{name: (make, 8.0) for name, make in START_SCENES.items()},
}


def tool(plugin: str) -> dict[str, Any]:
    module = {"motion-tracker": "forgesyte_motion_tracker", "yolo-onnx": "forgesyte_yolo"}[plugin]
    package = __import__(module)
    manifest = json.loads(Path(package.__file__).with_name("manifest.json").read_text())
    entry: dict[str, Any] = next(t for t in manifest["tools"] if t["id"] == "video_track")
    return entry


# -- tracking across cuts -------------------------------------------------------------------------


def oracle_tracker(truth: GroundTruth, seed: int = 5) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """yolo-onnx's tracker (ByteTrack at its defaults) on detections made from the ground truth:
    boxes jittered ±2 px, 5 % missed, a stray low-score box in one frame of ten. The shipped YOLO
    exports have random weights and detect nothing, so this is how its tracking is scored."""
    from forgesyte_tracking import ByteTracker, track_video

    def detections(start: int) -> Callable[[Iterator[Any], float], Iterator[Any]]:
        def stream(frames: Iterator[Any], fps: float) -> Iterator[Any]:
            for offset, _ in enumerate(frames):
                index = start + offset
                rng = np.random.default_rng(seed * 1_000_003 + index)
                boxes = [b for b in truth[index].values() if rng.random() > 0.05] if index < len(truth) else []
                jittered = [np.array(b) + rng.uniform(-2, 2, 4) for b in boxes]
                scores = list(rng.uniform(0.7, 0.95, len(jittered)))
                if rng.random() < 0.1:
                    x, y = rng.uniform(0, 560), rng.uniform(0, 300)
                    jittered.append(np.array([x, y, x + 40, y + 40]))
                    scores.append(0.3)
                yield (
                    np.array(jittered, dtype=np.float64).reshape(-1, 4),
                    np.array(scores, dtype=np.float64),
                    np.zeros(len(scores), dtype=np.int64),
                )

        return stream

    def run(args: dict[str, Any]) -> dict[str, Any]:
        first = int((args.get("frame_range") or [0])[0])
        tracker = ByteTracker(high_threshold=0.5, low_threshold=0.1, new_track_threshold=0.6, lost_buffer_frames=30)
        return track_video(
            args["video_path"], detections(first), ["object"], None, tracker, frame_range=args.get("frame_range")
        )

    return run


def motion_tracker(args: dict[str, Any]) -> dict[str, Any]:
    from forgesyte_motion_tracker.plugin import Plugin

    result: dict[str, Any] = Plugin().run_tool("video_track", {**args, "options": {}})
    return result


def cuts_crossed(truth: GroundTruth, starts: list[int]) -> int:
    """How many (object, cut) pairs there are: an object seen on both sides of a cut."""
    return sum(len(set(truth[cut - 1]) & set(truth[cut])) for cut in starts if 0 < cut < len(truth))


def quality(tmp: Path) -> dict[str, Any]:
    scenes: dict[str, Any] = {}
    trackers = {
        "motion-tracker": lambda truth: motion_tracker,
        "yolo-onnx (its ByteTrack, oracle detections)": oracle_tracker,
    }
    for name, (make, period) in SCENES.items():
        video = tmp / f"long-{name}.mp4"
        truth = looped_scene(make, QUALITY_SECONDS, period).write(video)
        scenes[name] = {}
        for label, factory in trackers.items():
            run_tool = factory(truth)
            entry = tool("motion-tracker" if label == "motion-tracker" else "yolo-onnx")
            whole = score(truth, run_tool({"video_path": str(video)})["frames"])
            split = run_segmented(video, entry, run_tool, QUALITY_SEGMENT_SECONDS)
            metrics = score(truth, split.frames)
            crossings = cuts_crossed(truth, [s.start_frame for s in split.segments[1:]])
            extra = metrics["num_switches"] - whole["num_switches"]
            scenes[name][label] = {
                "unsplit": whole,
                "segmented": metrics,
                "cuts": len(split.segments) - 1,
                "cuts_crossed_by_a_track": crossings,
                "extra_switches_per_10_crossings": round(10 * extra / max(crossings, 1), 3),
                "idf1_ratio": round(metrics["idf1"] / whole["idf1"], 4) if whole["idf1"] else None,
                "mota_difference": round(metrics["mota"] - whole["mota"], 4),
            }
        video.unlink()
    rows = [r for scene in scenes.values() for r in scene.values()]
    met = all(
        r["idf1_ratio"] is not None
        and r["idf1_ratio"] >= 0.98
        and abs(r["mota_difference"]) <= 0.01
        and r["extra_switches_per_10_crossings"] <= 1
        and r["cuts"] >= 10
        for r in rows
    )
    return {
        "what": f"{QUALITY_SECONDS:.0f} s long versions of the tracking scenes (each scene's action played"
        f" again every 8-10 s with new objects), cut into {QUALITY_SEGMENT_SECONDS:.0f} s segments;"
        " py-motmetrics, IoU >= 0.5",
        "scenes": scenes,
        "target": "per scene and tracker: >= 10 cuts, IDF1 >= 0.98 x unsplit, MOTA within 0.01,"
        " <= 1 extra switch per 10 crossings",
        "target_met": met,
    }


# -- speed on workers -----------------------------------------------------------------------------


def unsplit_wall(plugin: str, video: Path) -> float:
    """The whole video in this process, on every core (the plugin loaded before the clock starts)."""
    run_tool = segment_workers.plugin_runner(plugin)
    started = time.perf_counter()
    for _ in run_tool({"video_path": str(video)})["frames"]:
        pass
    return time.perf_counter() - started


def speed(tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for plugin, seconds, segment_seconds in (
        ("motion-tracker", SPEED_SECONDS, SPEED_SEGMENT_SECONDS),
        ("yolo-onnx", YOLO_SPEED_SECONDS, YOLO_SEGMENT_SECONDS),
    ):
        video = tmp / f"speed-{plugin}.mp4"
        looped_scene(crossing_scene, seconds, 10.0).write(video)
        frames = int(seconds * 30)
        whole = unsplit_wall(plugin, video)
        one_core = segment_workers.one_core_unsplit(plugin, video)
        one = segment_workers.segmented(plugin, video, tool(plugin), segment_seconds, 1)
        two = segment_workers.segmented(plugin, video, tool(plugin), segment_seconds, 2)
        results[plugin] = {
            "video": f"{seconds:.0f} s, 640x360, 30 fps (the crossing scene looped), {segment_seconds:.0f} s segments"
            + (", yolov8n-random-320 on the CPU" if plugin == "yolo-onnx" else ""),
            "frames": frames,
            "unsplit_wall_s": round(whole, 2),
            "unsplit_fps": round(frames / whole, 1),
            "unsplit_one_core_wall_s": round(one_core, 2),
            "segmented": [one, two],
            "speedup_2_workers": round(whole / two["wall_s"], 3),
            "speedup_2_workers_over_one_core": round(one_core / two["wall_s"], 3),
            "segment_fps_one_core": round(frames / sum(one["segment_seconds"]), 1),
            "median_segment_s": round(statistics.median(one["segment_seconds"]), 2),
            "cold_start_s": cold_start(plugin),
        }
        video.unlink()
    met = all(r["speedup_2_workers_over_one_core"] >= 1.7 for r in results.values())
    return {
        "what": "wall time, side by side in one run: unsplit in one process on every core, unsplit on one pinned"
        " core (one runner's vCPU), and segmented over 1 and 2 worker processes each pinned to its own core"
        " (each segment: sparse input, plugin; stitched in order as segments arrive); plugins loaded first",
        "plugins": results,
        "cpu_count": os.cpu_count(),
        "target": ">= 1.7x with 2 workers over one runner's core (yolo-onnx's unsplit run already uses"
        " every core for inference, so its speed-up over the whole machine is also reported)",
        "target_met": met,
    }


def cold_start(plugin: str) -> float:
    """A new process importing the plugin and loading its model: a Lambda's init, less the image pull."""
    import subprocess

    code = (
        "import time; t = time.perf_counter(); "
        + (
            "from forgesyte_motion_tracker.plugin import Plugin; Plugin()"
            if plugin == "motion-tracker"
            else f"from forgesyte_yolo.plugin import Plugin; Plugin().model({{'model': '{YOLO_MODEL}'}})"
        )
        + "; print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return round(statistics.median(runs), 3)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-segments-") as tmp:
        speed_section = speed(Path(tmp))
        quality_section = quality(Path(tmp))
    model = aws_model.run(speed_section["plugins"])
    return {
        "quality": quality_section,
        "speed": speed_section,
        **model,
        "target_met": quality_section["target_met"] and speed_section["target_met"] and model["target_met"],
    }


def main() -> int:
    return write_section("segments", run())


if __name__ == "__main__":
    raise SystemExit(main())
