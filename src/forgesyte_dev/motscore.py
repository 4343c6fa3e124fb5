"""Score tracker output against synthetic ground truth with py-motmetrics.

py-motmetrics 1.4's own IoU helper calls ``np.asfarray`` (gone in numpy 2), so the distance matrix
is computed here: 1 - IoU, and NaN (no match allowed) below IoU 0.5, the MOT benchmarks' rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import motmetrics as mm
import numpy as np

from forgesyte_dev.synthetic import GroundTruth

METRICS = ["mota", "idf1", "precision", "recall", "num_switches", "num_false_positives", "num_misses", "num_objects"]


def _iou_distances(truth: np.ndarray, hypotheses: np.ndarray, min_iou: float) -> np.ndarray:
    if len(truth) == 0 or len(hypotheses) == 0:
        return np.empty((len(truth), len(hypotheses)))
    top_left = np.maximum(truth[:, None, :2], hypotheses[None, :, :2])
    bottom_right = np.minimum(truth[:, None, 2:], hypotheses[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_t = np.prod(truth[:, 2:] - truth[:, :2], axis=1)
    area_h = np.prod(hypotheses[:, 2:] - hypotheses[:, :2], axis=1)
    iou = inter / (area_t[:, None] + area_h[None, :] - inter)
    return np.where(iou >= min_iou, 1.0 - iou, np.nan)


def score(truth: GroundTruth, frames: Iterable[Mapping[str, Any]], min_iou: float = 0.5) -> dict[str, float]:
    accumulator = mm.MOTAccumulator(auto_id=True)
    frames = list(frames)
    for index, boxes in enumerate(truth):
        objects = frames[index]["detections"]["tracked_objects"] if index < len(frames) else []
        truth_ids = list(boxes)
        truth_boxes = np.array([boxes[i] for i in truth_ids], dtype=float).reshape(-1, 4)
        hyp_ids = [o["track_id"] for o in objects]
        hyp_boxes = np.array([o["xyxy"] for o in objects], dtype=float).reshape(-1, 4)
        accumulator.update(truth_ids, hyp_ids, _iou_distances(truth_boxes, hyp_boxes, min_iou))
    summary = mm.metrics.create().compute(accumulator, metrics=METRICS, name="run")
    return {name: round(float(summary[name].iloc[0]), 4) for name in METRICS}
