"""A YOLOv8/YOLO11 ONNX export run with onnxruntime: letterbox, inference, decoding, class-aware NMS.

The export's output is [1, 4 + classes, anchors]: rows 0-3 are cx, cy, w, h in input pixels, the
rest per-class scores (sigmoid applied, no NMS inside). Class names come from the export's
``names`` metadata, a Python dict literal.

A static export takes its fixed input (640×640); a dynamic one (``yolo export dynamic=True``) is fed
the smallest stride-multiple rectangle that holds the frame at ``imgsz`` (384×640 for 16:9), which
cuts inference by about 40%. Frames are letterboxed into preallocated blobs with one numpy pass
(resize, then scale, BGR→RGB and HWC→CHW together), and the session runs with tuned options.
"""

from __future__ import annotations

import ast
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from forgesyte_tracking import Detections

log = logging.getLogger(__name__)

PAD_VALUE = 114
SCALE = np.float32(1 / 255)
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


def session_options() -> ort.SessionOptions:
    """Every graph optimisation, one inference at a time on all the cores this process may use."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return options


class Letterboxer:
    """Letterboxes frames of one shape into preallocated NCHW float32 blobs. A ring of ``buffers``
    blobs lets a reader thread fill the next while inference still reads the current one."""

    def __init__(self, frame_shape: tuple[int, ...], input_size: tuple[int, int], buffers: int = 1) -> None:
        height, width = frame_shape[:2]
        in_h, in_w = input_size
        ratio = min(in_h / height, in_w / width)
        self.size = (round(width * ratio), round(height * ratio))
        pad_x, pad_y = (in_w - self.size[0]) // 2, (in_h - self.size[1]) // 2
        self.box = Letterbox(ratio, pad_x, pad_y)
        self._blobs = [np.full((1, 3, in_h, in_w), PAD_VALUE * SCALE, np.float32) for _ in range(buffers)]
        self._regions = [blob[0, :, pad_y : pad_y + self.size[1], pad_x : pad_x + self.size[0]] for blob in self._blobs]
        self._next = 0

    def __call__(self, frame: NDArray[np.uint8]) -> NDArray[np.float32]:
        index, self._next = self._next, (self._next + 1) % len(self._blobs)
        resized = frame if self.box.ratio == 1 else cv2.resize(frame, self.size, interpolation=cv2.INTER_LINEAR)
        # One pass: uint8 BGR HWC -> float32 RGB CHW in 0..1, written straight into the padded blob.
        np.multiply(resized.transpose(2, 0, 1)[::-1], SCALE, out=self._regions[index], casting="unsafe")
        return self._blobs[index]


class YoloModel:
    def __init__(self, path: str, device: str = "cpu") -> None:
        self.path = path
        self.session = ort.InferenceSession(path, session_options(), providers=providers_for(device))
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.output_name = self.session.get_outputs()[0].name
        height, width = model_input.shape[2:4]
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.dynamic = not isinstance(height, int) or not isinstance(width, int)
        if self.dynamic:  # its imgsz is the long side it was trained for
            height, width = ast.literal_eval(metadata.get("imgsz", "[640, 640]"))
        self.input_size = (int(height), int(width))
        self.stride = int(metadata.get("stride", "32"))
        outputs = self.session.get_outputs()[0].shape
        class_count = outputs[1] - 4 if isinstance(outputs[1], int) else 80
        self.names = parse_names(metadata, class_count)
        self.provider = self.session.get_providers()[0]
        # On a GPU the reader thread copies each blob to the device (IO binding), overlapping inference.
        self.device_inputs = self.provider == "CUDAExecutionProvider"
        self._letterboxers: dict[tuple[tuple[int, ...], int], Letterboxer] = {}
        if device.startswith("cuda") and self.provider != "CUDAExecutionProvider":
            log.warning("CUDA provider could not start (no GPU or driver here): %s runs on %s", path, self.provider)

    def input_size_for(self, frame_shape: tuple[int, ...]) -> tuple[int, int]:
        """The fixed input of a static export; for a dynamic one, the smallest stride-multiple
        rectangle holding the frame at the export's size (640×360 → 384×640)."""
        if not self.dynamic:
            return self.input_size
        height, width = frame_shape[:2]
        ratio = max(self.input_size) / max(height, width)
        return (
            math.ceil(height * ratio / self.stride) * self.stride,
            math.ceil(width * ratio / self.stride) * self.stride,
        )

    def letterboxer(self, frame_shape: tuple[int, ...], buffers: int = 1) -> Letterboxer:
        key = (tuple(frame_shape), buffers)
        if key not in self._letterboxers:
            self._letterboxers[key] = Letterboxer(frame_shape, self.input_size_for(frame_shape), buffers)
        return self._letterboxers[key]

    def letterbox(self, frame: NDArray[np.uint8]) -> tuple[NDArray[np.float32], Letterbox]:
        """Resize keeping the aspect ratio, pad to the input size, BGR→RGB, 0..1, NCHW (a reused blob)."""
        boxer = self.letterboxer(frame.shape)
        return boxer(frame), boxer.box

    def to_device(self, blob: NDArray[np.float32]) -> Any:
        """What :meth:`infer` takes: the blob itself, or on a GPU a copy already on the device."""
        if not self.device_inputs:
            return blob
        device = "cuda" if self.provider == "CUDAExecutionProvider" else "cpu"
        return ort.OrtValue.ortvalue_from_numpy(blob, device, 0)

    def infer(self, model_input: Any) -> NDArray[np.float32]:
        if isinstance(model_input, np.ndarray):
            output: NDArray[np.float32] = self.session.run([self.output_name], {self.input_name: model_input})[0]
            return output
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(self.input_name, model_input)
        binding.bind_output(self.output_name, "cpu")
        self.session.run_with_iobinding(binding)
        result: NDArray[np.float32] = binding.copy_outputs_to_cpu()[0]
        return result

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
