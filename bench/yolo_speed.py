"""yolo-onnx against Ultralytics' own ``track`` on the same ONNX files, same video, same CPU,
interleaved; and the work outside inference per frame with the model replaced by a stand-in.

Ultralytics (and the PyTorch it needs) lives in its own cached virtualenv, .venv-ultralytics, made
here on first use: it is never a project dependency.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2

from forgesyte_dev.synthetic import crossing_scene

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = ROOT.parent / "shared" / "models"
VENV = ROOT / ".venv-ultralytics"
# torch and torchvision are the releases this machine keeps on disk (see the environment notes).
ULTRALYTICS = [
    "torch==2.14.1",
    "torchvision==0.29.1",
    "ultralytics==8.4.190",
    "onnxruntime==1.32.0",
    "lap",
    "onnx",
    "onnxslim",
]
RUNS, FRAMES = 5, 90


def ultralytics_python() -> Path:
    python = VENV / "bin/python"
    marker = VENV / ".installed"
    if not marker.is_file() or marker.read_text() != " ".join(ULTRALYTICS):
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *ULTRALYTICS], check=True)
        marker.write_text(" ".join(ULTRALYTICS))
    return python


class Ultralytics:
    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            [str(ultralytics_python()), str(Path(__file__).with_name("ultralytics_worker.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=workdir,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def ours(model: Path, video: Path, frames: int = FRAMES) -> dict[str, float]:
    from forgesyte_yolo.plugin import Plugin

    result = Plugin().run_tool(
        "video_track", {"video_path": str(video), "device": "cpu", "options": {"model": str(model)}}
    )
    stream = iter(result["frames"])
    next(stream)  # warm-up
    started, count, boxes = time.perf_counter(), 0, 0
    for frame in stream:
        count += 1
        boxes += len(frame["detections"]["tracked_objects"])
        if count >= frames:
            break
    elapsed = time.perf_counter() - started
    stream.close()  # stops the reader thread and frees the decoder before the next run
    return {"fps": count / elapsed, "tracked_per_frame": boxes / count}


def side_by_side(
    ultra: Ultralytics, model: Path, video: Path, what: str, their_model: Path | None = None
) -> dict[str, Any]:
    mine, theirs = [], []
    for _ in range(RUNS):  # interleaved: the machine's drift hits both alike
        mine.append(ours(model, video))
        theirs.append(ultra.ask(op="track", model=str(their_model or model), video=str(video), frames=FRAMES))
    fps, their_fps = statistics.median(r["fps"] for r in mine), statistics.median(r["fps"] for r in theirs)
    return {
        "what": what,
        "model": model.name,
        "ultralytics_model": (their_model or model).name,
        "yolo_tracker_fps": round(fps, 2),
        "ultralytics_track_fps": round(their_fps, 2),
        "ratio": round(fps / their_fps, 3),
        "yolo_tracker_runs": [round(r["fps"], 2) for r in mine],
        "ultralytics_runs": [round(r["fps"], 2) for r in theirs],
        "tracked_per_frame": round(mine[0]["tracked_per_frame"], 1),
        "ultralytics_boxes_per_frame": round(theirs[0]["boxes_per_frame"], 1),
    }


def outside_inference_ms(model: Path, video: Path) -> dict[str, Any]:
    """Per frame, with inference replaced by a stand-in that returns a recorded output (about 70
    boxes after NMS): decoding, letterboxing, output decoding, NMS, tracking and the result dicts."""
    from forgesyte_yolo.model import YoloModel
    from forgesyte_yolo.plugin import Plugin

    plugin = Plugin()
    loaded = plugin.model({"model": str(model)})
    frame = cv2.VideoCapture(str(video)).read()[1]
    recorded = loaded.infer(loaded.letterbox(frame)[0])
    original = YoloModel.infer
    YoloModel.infer = lambda self, model_input: recorded  # type: ignore[method-assign,assignment]
    try:
        per_frame, objects = [], 0.0
        for _ in range(RUNS):
            result = plugin.run_tool("video_track", {"video_path": str(video), "options": {"model": str(model)}})
            started, count, boxes = time.perf_counter(), 0, 0
            for frame_result in result["frames"]:
                count += 1
                boxes += len(frame_result["detections"]["tracked_objects"])
            per_frame.append(1000 * (time.perf_counter() - started) / count)
            objects = boxes / count
    finally:
        YoloModel.infer = original  # type: ignore[method-assign]
    ms = statistics.median(per_frame)
    return {
        "what": f"640x360 video, {model.name} output recorded once and returned for every frame; median of {RUNS}",
        "ms_per_frame": round(ms, 3),
        "tracked_objects_per_frame": round(objects, 1),
        "target": "<= 3 ms at about 70 boxes a frame",
        "target_met": ms <= 3.0,
    }


def run() -> dict[str, Any]:
    if not (SHARED_MODELS / "yolov8n-biased-640.onnx").is_file():
        return {"skipped": "../shared/models is not here"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = work / "scene-640x360.mp4"
        crossing_scene(640, 360, seconds=4).write(video)
        ultra = Ultralytics(work)
        try:
            dynamic = Path(ultra.ask(op="export_dynamic", path=str(work / "yolov8n-dynamic-biased.onnx"))["path"])
            same = side_by_side(
                ultra,
                SHARED_MODELS / "yolov8n-biased-640.onnx",
                video,
                "identical settings: the same static 640x640 export, 640x360 video, conf 0.1, iou 0.7, ByteTrack, CPU",
            )
            rect = side_by_side(
                ultra,
                dynamic,
                video,
                "a dynamic export (Ultralytics' yolov8n.yaml, random weights, biased like ../shared/models'), "
                "each with its default settings: yolo-onnx letterboxes 16:9 to 384x640",
            )
            rect_vs_square = side_by_side(
                ultra,
                dynamic,
                video,
                "what each gives by default for 16:9 video: yolo-onnx on a dynamic export (384x640) against "
                "Ultralytics on the static 640x640 export `yolo export format=onnx` makes",
                SHARED_MODELS / "yolov8n-biased-640.onnx",
            )
        finally:
            ultra.close()
        standin = outside_inference_ms(SHARED_MODELS / "yolov8n-biased-640.onnx", video)
    return {
        "same_settings": {**same, "target": "ratio > 1", "target_met": same["ratio"] > 1.0},
        # Ultralytics 8.4 letterboxes a dynamic ONNX export to the same 384x640 rectangle (its predictor's
        # `auto` letterbox), so on the same dynamic file inference is equal and 1.5x cannot be reached.
        "rectangular_input_same_file": {**rect, "target": "ratio >= 1.5", "target_met": rect["ratio"] >= 1.5},
        "rectangular_vs_square_export": rect_vs_square,
        "outside_inference_cpu": standin,
        "gpu": "unmeasured: no GPU machine was lent to this task",
        "target_met": same["ratio"] > 1.0 and standin["target_met"],
    }
