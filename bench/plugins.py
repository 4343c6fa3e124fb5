"""Plugin quality and speed: MOT scores, OCR accuracy, motion-tracker fps, YOLO time outside inference."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2

from forgesyte_dev.motscore import score
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import character_accuracy, rendered_lines

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = ROOT.parent / "shared" / "models"
RUNS = 5


def tracking_quality(video: Path, truth: Any) -> dict[str, Any]:
    from forgesyte_motion.plugin import Plugin

    frames = list(Plugin().run_tool("video_track", {"video_path": str(video), "options": {}})["frames"])
    metrics = score(truth, frames)
    return {
        "what": "motion-tracker on a 10 s 640x360 synthetic scene: 4 objects that cross, stop, speed up and pass behind"
        " a pillar; py-motmetrics, IoU >= 0.5",
        **metrics,
        "target": "MOTA >= 0.90, IDF1 >= 0.85",
        "target_met": metrics["mota"] >= 0.90 and metrics["idf1"] >= 0.85,
    }


def decode_fps(video: Path) -> float:
    capture = cv2.VideoCapture(str(video))
    count, started = 0, time.perf_counter()
    while capture.read()[0]:
        count += 1
    return count / (time.perf_counter() - started)


def motion_fps(video: Path) -> float:
    from forgesyte_motion.plugin import Plugin

    started = time.perf_counter()
    count = sum(1 for _ in Plugin().run_tool("video_track", {"video_path": str(video), "options": {}})["frames"])
    return count / (time.perf_counter() - started)


def motion_speed(video: Path) -> dict[str, Any]:
    decode = statistics.median(decode_fps(video) for _ in range(RUNS))
    tracked = statistics.median(motion_fps(video) for _ in range(RUNS))
    return {
        "what": f"640x360 mp4v, 300 frames, median of {RUNS};"
        " tracker fps = decode + subtraction + tracking + result dicts",
        "decode_only_fps": round(decode, 1),
        "motion_tracker_fps": round(tracked, 1),
        "share_of_decode_speed": round(tracked / decode, 3),
        "target": "motion_tracker_fps >= 200",
        "target_met": tracked >= 200,
    }


def yolo_overhead(video: Path, model_name: str, frames: int = 60) -> dict[str, Any]:
    from forgesyte_yolo.model import YoloModel
    from forgesyte_yolo.plugin import Plugin

    plugin = Plugin()
    inference: list[float] = []
    original = YoloModel.infer

    def timed(self: YoloModel, blob: Any) -> Any:
        started = time.perf_counter()
        output = original(self, blob)
        inference.append(time.perf_counter() - started)
        return output

    YoloModel.infer = timed  # type: ignore[method-assign]
    try:
        result = plugin.run_tool(
            "video_track",
            {"video_path": str(video), "device": "cpu", "options": {"model": str(SHARED_MODELS / model_name)}},
        )
        iterator = iter(result["frames"])
        next(iterator)  # the first frame warms onnxruntime up
        inference.clear()
        started = time.perf_counter()
        objects = 0
        for _, frame in zip(range(frames), iterator, strict=False):
            objects += len(frame["detections"]["tracked_objects"])
        total = time.perf_counter() - started
    finally:
        YoloModel.infer = original  # type: ignore[method-assign]
    outside = 1 - sum(inference) / total
    return {
        "model": model_name,
        "frames": len(inference),
        "ms_per_frame": round(1000 * total / len(inference), 2),
        "inference_ms_per_frame": round(1000 * sum(inference) / len(inference), 2),
        "share_outside_inference": round(outside, 4),
        "tracked_objects_per_frame": round(objects / len(inference), 1),
        "target_met": outside <= 0.15,
    }


def ocr_accuracy() -> dict[str, Any]:
    from forgesyte_rapidocr.plugin import Plugin

    plugin = Plugin()
    plugin.run_tool("analyze", {"image_bytes": cv2.imencode(".png", next(rendered_lines())[2])[1].tobytes()})
    pairs, seconds = [], []
    for text, _, image in rendered_lines():
        data = cv2.imencode(".png", image)[1].tobytes()
        started = time.perf_counter()
        pairs.append((text, plugin.run_tool("analyze", {"image_bytes": data})["text"]))
        seconds.append(time.perf_counter() - started)
    accuracy = character_accuracy(pairs)
    return {
        "what": "20 rendered lines, OpenCV's faces and Pillow's FreeType face, 18-44 px, some inverted",
        "character_accuracy": round(accuracy, 4),
        "lines_exact": sum(a == b for a, b in pairs),
        "median_s_per_line": round(statistics.median(seconds), 3),
        "target": "character accuracy >= 0.98",
        "target_met": accuracy >= 0.98,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "scene.mp4"
        truth = crossing_scene().write(video)
        section: dict[str, Any] = {
            "tracking_quality": tracking_quality(video, truth),
            "motion_tracker_speed": motion_speed(video),
            "ocr": ocr_accuracy(),
        }
        if SHARED_MODELS.is_dir():
            runs = [yolo_overhead(video, name) for name in ("yolov8n-biased-640.onnx", "yolo11n-random-640.onnx")]
            section["yolo_tracker_overhead"] = {
                "what": "time outside onnxruntime inference (decode, letterbox, decode+NMS, tracking, result dicts)"
                " per frame, 640x360 video, CPU; the random-weight exports from ../shared/models",
                "runs": runs,
                "target": "share_outside_inference <= 0.15",
                "target_met": all(r["target_met"] for r in runs),
            }
    section["target_met"] = all(part.get("target_met", True) for part in section.values())
    return section
