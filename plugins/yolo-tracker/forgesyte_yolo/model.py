"""A YOLOv8/YOLO11 ONNX export run with onnxruntime: letterbox, inference, decoding, class-aware NMS.

The export's output is [1, 4 + classes, anchors]: rows 0-3 are cx, cy, w, h in input pixels, the
rest per-class scores (sigmoid applied, no NMS inside). Class names come from the export's
``names`` metadata, a Python dict literal.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from forgesyte_tracking import Detections

log = logging.getLogger(__name__)

PAD_VALUE = 114
MAX_WH = 7680.0  # offsets boxes by class so one NMS pass never suppresses across classes


@dataclass(frozen=True)
class Letterbox:
    ratio: float
    pad_x: int
    pad_y: int


def providers_for(device: str) -> list[str]:
    available = ort.get_available_providers()
    if device.startswith("cuda") and "CUDAExecutionProvider" in available:
        # onnxruntime-gpu's CUDA and cuDNN come as pip wheels, not on the loader's path: load them first.
        preload = getattr(ort, "preload_dlls", None)
        if callable(preload):
            preload()
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device.startswith("cuda"):
        log.warning(
            "device %s asked for, but this onnxruntime has no CUDA provider (%s): running on CPU", device, available
        )
    return ["CPUExecutionProvider"]


def parse_names(metadata: dict[str, str], class_count: int) -> dict[int, str]:
    raw = metadata.get("names")
    if raw:
        try:
            parsed = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, dict):
            return {int(k): str(v) for k, v in parsed.items()}
        if isinstance(parsed, list):
            return dict(enumerate(str(v) for v in parsed))
    return {i: str(i) for i in range(class_count)}


class YoloModel:
    def __init__(self, path: str, device: str = "cpu") -> None:
        self.path = path
        self.session = ort.InferenceSession(path, providers=providers_for(device))
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        height, width = model_input.shape[2:4]
        metadata = self.session.get_modelmeta().custom_metadata_map
        if not isinstance(height, int) or not isinstance(width, int):  # dynamic export: use its imgsz
            height, width = ast.literal_eval(metadata.get("imgsz", "[640, 640]"))
        self.input_size = (int(height), int(width))
        outputs = self.session.get_outputs()[0].shape
        class_count = outputs[1] - 4 if isinstance(outputs[1], int) else 80
        self.names = parse_names(metadata, class_count)
        self.provider = self.session.get_providers()[0]
        if device.startswith("cuda") and self.provider != "CUDAExecutionProvider":
            log.warning("CUDA provider could not start (no GPU or driver here): %s runs on %s", path, self.provider)

    def letterbox(self, frame: NDArray[np.uint8]) -> tuple[NDArray[np.float32], Letterbox]:
        """Resize keeping the aspect ratio, pad to the input size, BGR→RGB, 0..1, NCHW."""
        height, width = frame.shape[:2]
        in_h, in_w = self.input_size
        ratio = min(in_h / height, in_w / width)
        new_w, new_h = round(width * ratio), round(height * ratio)
        pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
        canvas = np.full((in_h, in_w, 3), PAD_VALUE, np.uint8)
        resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR) if ratio != 1 else frame
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
        blob = np.asarray(cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True), dtype=np.float32)
        return blob, Letterbox(ratio, pad_x, pad_y)

    def infer(self, blob: NDArray[np.float32]) -> NDArray[np.float32]:
        output: NDArray[np.float32] = self.session.run(None, {self.input_name: blob})[0]
        return output

    def detect(self, frame: NDArray[np.uint8], conf: float = 0.25, iou: float = 0.45, max_det: int = 300) -> Detections:
        blob, box = self.letterbox(frame)
        return decode(self.infer(blob), box, frame.shape[:2], conf, iou, max_det)


def decode(
    output: NDArray[np.float32], box: Letterbox, image_shape: tuple[int, ...], conf: float, iou: float, max_det: int
) -> Detections:
    """Raw export output → boxes in the original image's pixels, scores and class ids, after NMS."""
    raw = output[0]  # (4 + classes) × anchors, contiguous: reduce over rows, then keep few columns
    best = raw[4:].max(axis=0)
    keep = np.flatnonzero(best >= conf)
    if not len(keep):
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
    class_ids = raw[4:, keep].argmax(axis=0)
    scores = best[keep].astype(np.float64)
    cxcywh = raw[:4, keep].T.astype(np.float64)
    xyxy = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
    offset = xyxy + (class_ids[:, None] * MAX_WH)
    kept = cv2.dnn.NMSBoxes(
        np.concatenate([offset[:, :2], offset[:, 2:] - offset[:, :2]], axis=1).tolist(), scores.tolist(), conf, iou
    )
    order = np.asarray(kept, dtype=np.int64).reshape(-1)[:max_det]
    xyxy, scores, class_ids = xyxy[order], scores[order], class_ids[order]
    xyxy -= np.array([box.pad_x, box.pad_y, box.pad_x, box.pad_y], dtype=np.float64)
    xyxy /= box.ratio
    height, width = image_shape[:2]
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
    return xyxy, scores, class_ids.astype(np.int64)
