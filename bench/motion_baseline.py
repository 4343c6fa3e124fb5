"""The motion detector as it was before the multi-frame background (MOG2 seeded from the first frame),
kept only so `make bench` can time the current one against it side by side."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from forgesyte_tracking import ByteTracker, Detections, per_frame, track_video


class SeededMog2:
    def __init__(self, work_width: int = 320, history: int = 500, min_area: float = 0.0008) -> None:
        self.work_width, self.history, self.min_area = work_width, history, min_area
        self.subtractor = cv2.createBackgroundSubtractorMOG2(history, 24.0, detectShadows=False)
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.frames = 0

    def __call__(self, frame: NDArray[np.uint8]) -> Detections:
        scale = min(1.0, self.work_width / frame.shape[1])
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        mask = self.subtractor.apply(grey, learningRate=1.0 if self.frames == 0 else 1.0 / self.history)
        self.frames += 1
        if self.frames <= 1:
            return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
        mask = cv2.dilate(cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel), self.kernel, iterations=1)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        stats = stats[1:count]
        stats = stats[stats[:, cv2.CC_STAT_AREA] >= self.min_area * grey.shape[0] * grey.shape[1]]
        x, y, w, h, area = (stats[:, i].astype(np.float64) for i in range(5))
        boxes = np.stack([x, y, x + w, y + h], axis=1) / scale
        return boxes, 0.5 + 0.5 * area / np.maximum(w * h, 1.0), np.zeros(len(boxes), np.int64)


def frames(video: Path) -> list[dict[str, object]]:
    result = track_video(str(video), per_frame(SeededMog2()), ["motion"], None, ByteTracker())
    return list(result["frames"])
