"""ForgeSyte plugin contract: ``name``, ``tools``, ``run_tool``; manifest.json beside this file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from forgesyte_tracking import ByteTracker, Detections, StreamDetector, track_video
from forgesyte_tracking.prefetch import prefetched
from forgesyte_tracking.video import Frame
from forgesyte_yolo.model import Letterbox, YoloModel, decode
from forgesyte_yolo.source import HOW_TO, default_model_configured, local_model_path, model_location


class Plugin:
    name = "yolo-onnx"

    def __init__(self) -> None:
        self.tools: dict[str, dict[str, Any]] = {
            "detect": {
                "description": "Objects in an image",
                "input_schema": {"image_bytes": "bytes"},
                "output_schema": {"detections": "array"},
                "handler": "detect",
            },
            "video_track": {
                "description": "Objects tracked through a video",
                "input_schema": {"video_path": "string"},
                "output_schema": {"frames": "array"},
                "handler": "video_track",
            },
        }
        self._models: dict[tuple[str, str], YoloModel] = {}

    def unavailable_tools(self) -> dict[str, dict[str, Any]]:
        """Read when the catalog is built: with no default model, every tool needs options.model."""
        if default_model_configured():
            return {}
        gap = {"reason": HOW_TO, "unless_options": ["model"]}
        return dict.fromkeys(self.tools, gap)

    def model(self, options: dict[str, Any], device: str = "cpu") -> YoloModel:
        """Loaded once per (model, device) and kept for the warm container's life."""
        path = local_model_path(model_location(options))
        key = (path, device)
        if key not in self._models:
            self._models[key] = YoloModel(path, device)
        return self._models[key]

    def run_tool(self, tool_name: str, args: dict[str, Any]) -> Any:
        options = args.get("options") or {}
        if tool_name == "detect":
            if "image_bytes" not in args:
                raise ValueError("detect needs image_bytes")
            return self.detect(args["image_bytes"], options)
        if tool_name == "video_track":
            if "video_path" not in args:
                raise ValueError("video_track needs video_path")
            return self.video_track(
                args["video_path"],
                args.get("progress_callback"),
                args.get("device", "cpu"),
                options,
                args.get("frame_range"),
            )
        raise ValueError(f"Unknown tool: {tool_name}")

    def detect(self, image_bytes: bytes, options: dict[str, Any]) -> dict[str, Any]:
        model = self.model(options)
        decoded = cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise ValueError("image_bytes is not a decodable image")
        image = np.asarray(decoded, dtype=np.uint8)
        boxes, scores, classes = model.detect(
            image, float(options.get("conf", 0.25)), float(options.get("iou", 0.45)), int(options.get("max_det", 300))
        )
        detections = [
            {
                "class_id": int(c),
                "class": model.names.get(int(c), str(c)),
                "confidence": round(float(s), 4),
                "xyxy": [round(float(v), 1) for v in b],
            }
            for b, s, c in zip(boxes, scores, classes, strict=True)
        ]
        return {
            "detections": detections,
            "image_size": {"width": image.shape[1], "height": image.shape[0]},
            "model": {"input_size": list(model.input_size), "provider": model.provider},
        }

    def video_track(
        self, video_path: str, progress: Any, device: str, options: dict[str, Any], frame_range: Any = None
    ) -> dict[str, Any]:
        model = self.model(options, device)
        tracker = ByteTracker(
            high_threshold=float(options.get("track_high_threshold", 0.5)),
            low_threshold=float(options.get("track_low_threshold", 0.1)),
            new_track_threshold=float(options.get("new_track_threshold", 0.6)),
            lost_buffer_frames=int(options.get("lost_buffer_frames", 30)),
        )
        # Low-confidence boxes are kept: ByteTrack's second association uses them.
        detect = pipelined_detector(
            model, tracker.low_threshold, float(options.get("iou", 0.7)), int(options.get("max_det", 300))
        )
        result = track_video(video_path, detect, model.names, progress, tracker, frame_range=frame_range)
        # A dynamic export runs at the rectangle for this video's frames, not its nominal size.
        input_size = model.input_size_for((result["height"], result["width"]))
        result["model"] = {"input_size": list(input_size), "provider": model.provider, "dynamic": model.dynamic}
        return result


PREFETCH_DEPTH = 4


def pipelined_detector(model: YoloModel, conf: float, iou: float, max_det: int) -> StreamDetector:
    """Decoding and letterboxing run on a reader thread, up to PREFETCH_DEPTH frames ahead, so they
    overlap inference (on a GPU, copying the blob to the device too); decoding the output, NMS and
    tracking stay on the caller's thread."""

    def stream(frames: Iterator[Frame], fps: float) -> Iterator[Detections]:
        def prepare(frame: Frame) -> tuple[tuple[int, ...], Letterbox, Any]:
            boxer = model.letterboxer(frame.shape, buffers=PREFETCH_DEPTH + 2)
            return frame.shape, boxer.box, model.to_device(boxer(frame))

        for shape, box, model_input in prefetched(map(prepare, frames), PREFETCH_DEPTH):
            yield decode(model.infer(model_input), box, shape, conf, iou, max_det)

    return stream
