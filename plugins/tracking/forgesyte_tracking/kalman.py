"""Constant-velocity Kalman filter over (cx, cy, aspect, height), as in SORT and ByteTrack.

Noise scales with the box height, so small and large objects are tracked alike. Predict and
update work on every track at once (N×8 means, N×8×8 covariances): a frame with 70 tracks costs
one batched call instead of 70.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

_STD_POSITION = 1.0 / 20
_STD_VELOCITY = 1.0 / 160
_MOTION = np.eye(8)
_MOTION[:4, 4:] = np.eye(4)
_DIAG8 = np.arange(8)
_DIAG4 = np.arange(4)


def _diagonal(std: Array, size: int) -> Array:
    """N×size×size matrices with ``std**2`` on their diagonals."""
    out = np.zeros((len(std), size, size))
    index = _DIAG8 if size == 8 else _DIAG4
    out[:, index, index] = np.square(std)
    return out


def initiate(measurement: Array) -> tuple[Array, Array]:
    mean = np.r_[measurement, np.zeros(4)]
    h = measurement[3]
    std = np.array(
        [
            2 * _STD_POSITION * h,
            2 * _STD_POSITION * h,
            1e-2,
            2 * _STD_POSITION * h,
            10 * _STD_VELOCITY * h,
            10 * _STD_VELOCITY * h,
            1e-5,
            10 * _STD_VELOCITY * h,
        ]
    )
    return mean, np.diag(np.square(std))


def predict(means: Array, covariances: Array) -> tuple[Array, Array]:
    h = means[:, 3]
    ones = np.ones_like(h)
    std = np.stack(
        [
            _STD_POSITION * h,
            _STD_POSITION * h,
            1e-2 * ones,
            _STD_POSITION * h,
            _STD_VELOCITY * h,
            _STD_VELOCITY * h,
            1e-5 * ones,
            _STD_VELOCITY * h,
        ],
        axis=1,
    )
    means = means @ _MOTION.T
    covariances = _MOTION @ covariances @ _MOTION.T + _diagonal(std, 8)
    return means, covariances


def update(means: Array, covariances: Array, measurements: Array) -> tuple[Array, Array]:
    h = means[:, 3]
    std = np.stack([_STD_POSITION * h, _STD_POSITION * h, 1e-1 * np.ones_like(h), _STD_POSITION * h], axis=1)
    projected = covariances[:, :4, :4] + _diagonal(std, 4)  # H P Hᵀ + R, H picks the first four
    cross = covariances[:, :, :4]  # P Hᵀ
    gain = np.linalg.solve(projected, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
    innovation = measurements - means[:, :4]
    means = means + (gain @ innovation[..., None])[..., 0]
    covariances = covariances - gain @ projected @ gain.transpose(0, 2, 1)
    return means, covariances
