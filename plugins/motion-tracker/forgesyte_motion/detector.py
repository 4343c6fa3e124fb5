"""Moving-object boxes from background subtraction (MOG2) on a downscaled grey frame.

Working at ``work_width`` pixels keeps the cost per frame far below decoding; boxes are scaled back
to the frame's pixels. Objects already in the first frame are learned as background until they move away (a "ghost"
fades over ``history`` frames): the camera should see the scene before the action. A blob's
confidence grows with how much of its box is foreground
(0.5 for a sliver, 1.0 for a solid box), so every blob that passes ``min_area`` counts as a
confident detection for the tracker.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from forgesyte_tracking import Detections


@dataclass(frozen=True)
class MotionOptions:
    work_width: int = 320
    history: int = 500
    var_threshold: float = 24.0
    min_area: float = 0.0008  # fraction of the frame
    warmup_frames: int = 1

    @classmethod
    def from_options(cls, options: dict[str, object]) -> MotionOptions:
        known = {name: type(getattr(cls(), name)) for name in cls.__dataclass_fields__}
        values = {}
        for name, value in options.items():
            if name in known:
                try:
                    values[name] = known[name](value)
                except (TypeError, ValueError):
                    raise ValueError(f"option {name!r} must be a {known[name].__name__}, got {value!r}") from None
        return cls(**values)


class MotionDetector:
    def __init__(self, options: MotionOptions) -> None:
        self.options = options
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            options.history, options.var_threshold, detectShadows=False
        )
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.frames = 0

    def __call__(self, frame: NDArray[np.uint8]) -> Detections:
        width = frame.shape[1]
        scale = min(1.0, self.options.work_width / width)
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        # MOG2's default rate is 1/n for the first `history` frames, which swallows slow or stopped
        # objects within a second; the first frame seeds the model, then it learns at 1/history.
        rate = 1.0 if self.frames == 0 else 1.0 / self.options.history
        mask = self.subtractor.apply(gray, learningRate=rate)
        self.frames += 1
        if self.frames <= self.options.warmup_frames:  # the model is still learning the background
            return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        mask = cv2.dilate(mask, self.kernel, iterations=1)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        stats = stats[1:count]
        min_pixels = self.options.min_area * gray.shape[0] * gray.shape[1]
        stats = stats[stats[:, cv2.CC_STAT_AREA] >= min_pixels]
        x, y, w, h, area = (stats[:, i].astype(np.float64) for i in range(5))
        boxes = np.stack([x, y, x + w, y + h], axis=1) / scale
        scores = 0.5 + 0.5 * area / np.maximum(w * h, 1.0)
        return boxes, scores, np.zeros(len(boxes), np.int64)
