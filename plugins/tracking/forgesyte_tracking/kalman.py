"""Constant-velocity Kalman filter over (cx, cy, aspect, height), as in SORT and ByteTrack.

Noise scales with the box height, so small and large objects are tracked alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]

_STD_POSITION = 1.0 / 20
_STD_VELOCITY = 1.0 / 160
_MOTION = np.eye(8)
_MOTION[:4, 4:] = np.eye(4)
_UPDATE = np.eye(4, 8)


def initiate(measurement: Vector) -> tuple[Vector, Vector]:
    mean = np.r_[measurement, np.zeros(4)]
    h = measurement[3]
    std = [
        2 * _STD_POSITION * h,
        2 * _STD_POSITION * h,
        1e-2,
        2 * _STD_POSITION * h,
        10 * _STD_VELOCITY * h,
        10 * _STD_VELOCITY * h,
        1e-5,
        10 * _STD_VELOCITY * h,
    ]
    return mean, np.diag(np.square(std))


def predict(mean: Vector, covariance: Vector) -> tuple[Vector, Vector]:
    h = mean[3]
    std = [
        _STD_POSITION * h,
        _STD_POSITION * h,
        1e-2,
        _STD_POSITION * h,
        _STD_VELOCITY * h,
        _STD_VELOCITY * h,
        1e-5,
        _STD_VELOCITY * h,
    ]
    mean = _MOTION @ mean
    covariance = _MOTION @ covariance @ _MOTION.T + np.diag(np.square(std))
    return mean, covariance


def update(mean: Vector, covariance: Vector, measurement: Vector) -> tuple[Vector, Vector]:
    h = mean[3]
    std = [_STD_POSITION * h, _STD_POSITION * h, 1e-1, _STD_POSITION * h]
    projected_mean = _UPDATE @ mean
    projected_cov = _UPDATE @ covariance @ _UPDATE.T + np.diag(np.square(std))
    gain = np.linalg.solve(projected_cov, _UPDATE @ covariance).T
    mean = mean + gain @ (measurement - projected_mean)
    covariance = covariance - gain @ projected_cov @ gain.T
    return mean, covariance
