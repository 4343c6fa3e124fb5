"""A background estimated over many frames, so objects already in the first frame are not learned.

The model starts as the per-pixel median of frames sampled across the opening of the video: an
object that moves covers any one pixel in only a few samples, so it drops out of the median, where
a model seeded from one frame keeps a "ghost" wherever each object started. Each frame is then
matched to the model's light (a robust gain and offset fitted on background pixels, so drifting
exposure or flicker does not turn the whole frame into foreground), compared against a threshold
set from the measured sensor noise, and used to update the background where nothing moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

Grey = NDArray[np.float32]
Mask = NDArray[np.uint8]

NOISE_SIGMAS = 5.0  # a pixel is foreground this many noise deviations away from the background
LIGHT_STRIDE = 4  # the light fit reads every 4th pixel each way: ample, and cheap


class Background:
    def __init__(
        self,
        samples: Sequence[Grey],
        noise: float,
        min_difference: float,
        learning_rate: float,
        foreground_rate: float,
    ) -> None:
        """``noise``: the sensor noise's standard deviation in grey levels (see :func:`noise_sigma`)."""
        self.model: Grey = np.median(np.stack(samples), axis=0).astype(np.float32)
        self.threshold = max(min_difference, NOISE_SIGMAS * noise)
        self.learning_rate, self.foreground_rate = learning_rate, foreground_rate
        self._still: NDArray[np.bool_] = np.ones(self.model[::LIGHT_STRIDE, ::LIGHT_STRIDE].shape, bool)

    def foreground(self, grey: Grey) -> Mask:
        """Pixels that differ from the background (255) in this frame, after matching its light."""
        matched = self._match_light(grey)
        difference = cv2.absdiff(matched, self.model)
        mask = np.where(difference > self.threshold, np.uint8(255), np.uint8(0)).astype(np.uint8)
        self._learn(matched, mask)
        self._still = mask[::LIGHT_STRIDE, ::LIGHT_STRIDE] == 0
        return mask

    def _match_light(self, grey: Grey) -> Grey:
        """The frame mapped onto the model's exposure: fit grey ≈ gain·model + offset on background pixels."""
        frame = grey[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        model = self.model[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        if frame.size < 64:
            return grey
        gain, offset = _fit(model, frame)
        residual = np.abs(frame - (gain * model + offset))
        keep = residual < 2 * self.threshold  # refit without whatever moved since the last frame
        if keep.sum() >= 64:
            gain, offset = _fit(model[keep], frame[keep])
        if not 0.5 < gain < 2.0:
            return grey
        matched: Grey = ((grey - offset) / gain).astype(np.float32)
        return matched

    def _learn(self, matched: Grey, mask: Mask) -> None:
        # Where nothing moves, follow slow changes (shadows, weather). Where something does, learn far
        # more slowly: a stopped object stays foreground for many seconds, a late ghost still fades.
        still = cv2.bitwise_not(mask)
        cv2.accumulateWeighted(matched, self.model, self.learning_rate, mask=still)
        cv2.accumulateWeighted(matched, self.model, self.foreground_rate, mask=mask)


def noise_sigma(frames: Sequence[Grey]) -> float:
    """Sensor noise from consecutive frames: between neighbours little moves and the light barely
    changes, so the median absolute difference is noise (scaled to a Gaussian's deviation, ÷√2 for
    the two frames' noise adding up)."""
    pairs = list(itertools.islice(itertools.pairwise(frames), 8))
    if not pairs:
        return 0.0
    differences = [np.abs(b[::2, ::2] - a[::2, ::2]) for a, b in pairs]
    return float(1.4826 * np.median(np.stack(differences)) / np.sqrt(2))


def _fit(model: NDArray[np.float32], frame: NDArray[np.float32]) -> tuple[float, float]:
    spread = float(model.var())
    if spread < 1e-3:
        return 1.0, float(frame.mean() - model.mean())
    gain = float(((model - model.mean()) * (frame - frame.mean())).mean() / spread)
    return gain, float(frame.mean() - gain * model.mean())
