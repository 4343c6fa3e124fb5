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
from forgesyte_tracking.geometry import iou_matrix

METRICS = ["mota", "idf1", "precision", "recall", "num_switches", "num_false_positives", "num_misses", "num_objects"]


def _iou_distances(truth: np.ndarray, hypotheses: np.ndarray, min_iou: float) -> np.ndarray:
    iou = iou_matrix(truth, hypotheses)
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
