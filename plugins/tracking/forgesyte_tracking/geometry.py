"""Box geometry, vectorised: IoU matrices and box format conversions."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Boxes = NDArray[np.float64]


def iou_matrix(a: Boxes, b: Boxes) -> Boxes:
    """IoU of every box in ``a`` (N×4 xyxy) with every box in ``b`` (M×4): an N×M matrix."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def xyxy_to_xyah(boxes: Boxes) -> Boxes:
    """Centre x, centre y, aspect ratio w/h, height: the Kalman filter's measurement space."""
    w = boxes[..., 2] - boxes[..., 0]
    h = np.maximum(boxes[..., 3] - boxes[..., 1], 1e-6)
    return np.stack([boxes[..., 0] + w / 2, boxes[..., 1] + h / 2, w / h, h], axis=-1)


def xyah_to_xyxy(xyah: Boxes) -> Boxes:
    w = xyah[..., 2] * xyah[..., 3]
    h = xyah[..., 3]
    return np.stack([xyah[..., 0] - w / 2, xyah[..., 1] - h / 2, xyah[..., 0] + w / 2, xyah[..., 1] + h / 2], axis=-1)
