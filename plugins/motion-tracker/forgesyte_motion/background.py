"""A background estimated over many frames, so objects already in the first frame are not learned.

The model starts as the per-pixel median of frames sampled across the opening of the video: an
object that moves covers any one pixel in only a few samples, so it drops out of the median, where
a model seeded from one frame keeps a "ghost" wherever each object started. Each frame is then
matched to the model's light (a robust gain and offset fitted on background pixels, so drifting
exposure or flicker does not turn the whole frame into foreground), compared against thresholds
set from the measured sensor noise, and used to update the background where nothing moves.

Frames are luma plus two chroma channels (YCrCb): a red car on grey asphalt
can match the asphalt's brightness but not its colour. A change of exposure scales chroma by its
gain and leaves it untouched by the offset, so chroma's own gain is fitted on chroma (the luma fit's
gain is ill-conditioned on a flat ground, where gain and offset cannot be told apart). A
single-channel (grey) frame works the same way on brightness alone.

When most of the frame changes at once (a cut, the camera moved, the lights went on) the model is
not the scene any more: the frame reports no foreground and ``scene_changed`` says so, and the
detector learns a new model from the frames that follow (or, while the camera keeps moving, from
the last frame alone), rather than reporting thousands of blobs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

Pixels = NDArray[np.float32]  # H×W (luma) or H×W×3 (YCrCb: luma, chroma, chroma)
Mask = NDArray[np.uint8]

NOISE_SIGMAS = 5.0  # a pixel is foreground this many noise deviations away from the background
LIGHT_STRIDE = 4  # the light fit reads every 4th pixel each way: ample, and cheap
CHROMA_CENTRE = 128.0  # YCrCb's grey: chroma is the distance from it
ONES = np.ones((1, 3), np.float32)
CHROMA_FIT_EVERY = 5


class Background:
    def __init__(
        self,
        samples: Sequence[NDArray[np.uint8 | np.float32]],
        noise: Sequence[float],
        min_differences: Sequence[float],
        learning_rate: float,
        foreground_rate: float,
        scene_change: float = 1.0,
    ) -> None:
        """``samples``: frames whose per-pixel median is the first model (bytes are quickest);
        ``noise``: each channel's noise deviation (see :func:`noise_sigma`); ``min_differences``: the
        least difference that counts, per channel (luma, then chroma); ``scene_change``: the fraction
        of the frame that, changing at once, means the model is not this scene any more."""
        stacked: NDArray[np.uint8 | np.float32] = np.stack(samples)
        self.model: Pixels = np.median(stacked, axis=0).astype(np.float32)
        channels = 1 if self.model.ndim == 2 else self.model.shape[2]
        floors = [min_differences[min(c, len(min_differences) - 1)] for c in range(channels)]
        # Dividing by the thresholds puts every channel on one scale: foreground is any channel > 1.
        self.inverse_thresholds = np.array(
            [1.0 / max(floor, NOISE_SIGMAS * sigma, 1e-3) for floor, sigma in zip(floors, noise, strict=True)],
            np.float32,
        )
        self.threshold = 1.0 / float(self.inverse_thresholds[0])  # luma's, for the light fit
        self.learning_rate, self.foreground_rate = learning_rate, foreground_rate
        self.scene_change = scene_change
        self.scene_changed = False
        self._judged, self._chroma = 0, 1.0  # frames judged; chroma's light gain, fitted every few
        self._still: NDArray[np.bool_] = np.ones(self._luma(self.model)[::LIGHT_STRIDE, ::LIGHT_STRIDE].shape, bool)

    def foreground(self, frame: Pixels) -> Mask:
        """Pixels that differ from the background (255) in this frame, after matching its light."""
        matched = self._match_light(frame)
        difference = cv2.absdiff(matched, self.model)
        if difference.ndim == 3:  # any channel over its threshold; OpenCV's transforms are 5× numpy's max(axis=2)
            scaled = cv2.transform(difference, np.diag(self.inverse_thresholds))
            difference = cv2.transform(cv2.threshold(scaled, 1.0, 1.0, cv2.THRESH_BINARY)[1], ONES)  # channels over
            over = cv2.threshold(difference, 0.5, 255.0, cv2.THRESH_BINARY)[1]
        else:
            over = cv2.threshold(difference, self.threshold, 255.0, cv2.THRESH_BINARY)[1]
        mask: Mask = over.astype(np.uint8)
        self.scene_changed = cv2.countNonZero(mask) > self.scene_change * mask.size
        if self.scene_changed:
            mask[:] = 0
        else:
            self._learn(matched, mask)
        self._still = mask[::LIGHT_STRIDE, ::LIGHT_STRIDE] == 0
        return mask

    def restart(self, frame: Pixels) -> None:
        """The model becomes this frame: the next is judged against it alone (while the camera moves)."""
        self.model = frame.astype(np.float32, copy=True)
        self._still[:] = True

    def _match_light(self, pixels: Pixels) -> Pixels:
        """The frame mapped onto the model's exposure: luma ≈ gain·model + offset, chroma (centred on
        ``CHROMA_CENTRE``) ≈ gain·model, each fitted on background pixels."""
        frame_luma = self._luma(pixels)[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        if len(frame_luma) < 64:
            return pixels
        model_luma = self._luma(self.model)[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        gain, offset = _fit(model_luma, frame_luma)
        residual = np.abs(frame_luma - (gain * model_luma + offset))
        keep = residual < 2 * self.threshold  # refit without whatever moved since the last frame
        if keep.sum() < 64:
            keep[:] = True
        gain, offset = _fit(model_luma[keep], frame_luma[keep])
        if not 0.5 < gain < 2.0:
            gain, offset = 1.0, 0.0
        if pixels.ndim == 2:
            return np.asarray(cv2.addWeighted(pixels, 1.0 / gain, pixels, 0.0, -offset / gain), np.float32)
        if self._judged % CHROMA_FIT_EVERY == 0:  # light changes over seconds: a fit every few frames
            still = self._still.copy()
            still[still] = keep  # and unmoved by the luma fit's measure too
            sampled = pixels[::LIGHT_STRIDE, ::LIGHT_STRIDE, 1:][still] - CHROMA_CENTRE
            self._chroma = _chroma_gain(self.model[::LIGHT_STRIDE, ::LIGHT_STRIDE, 1:][still] - CHROMA_CENTRE, sampled)
        self._judged += 1
        chroma = self._chroma
        # luma' = (luma - offset) / gain; chroma' = (chroma - centre) / k + centre: one affine map
        affine = np.array(
            [
                [1 / gain, 0, 0, -offset / gain],
                [0, 1 / chroma, 0, CHROMA_CENTRE * (1 - 1 / chroma)],
                [0, 0, 1 / chroma, CHROMA_CENTRE * (1 - 1 / chroma)],
            ],
            np.float32,
        )
        return np.asarray(cv2.transform(pixels, affine), np.float32)

    def _learn(self, matched: Pixels, mask: Mask) -> None:
        # Where nothing moves, follow slow changes (shadows, weather). Where something does, learn far
        # more slowly: a stopped object stays foreground for many seconds, a late ghost still fades.
        still = cv2.bitwise_not(mask)
        cv2.accumulateWeighted(matched, self.model, self.learning_rate, mask=still)
        cv2.accumulateWeighted(matched, self.model, self.foreground_rate, mask=mask)

    @staticmethod
    def _luma(pixels: Pixels) -> Pixels:
        return pixels if pixels.ndim == 2 else pixels[:, :, 0]


def noise_sigma(frames: Sequence[Pixels]) -> list[float]:
    """Each channel's sensor noise from consecutive frames: between neighbours little moves and the light
    barely changes, so the median absolute difference is noise (scaled to a Gaussian's deviation, ÷√2
    for the two frames' noise adding up)."""
    pairs = list(itertools.islice(itertools.pairwise(frames), 8))
    if not pairs:
        return [0.0] * (1 if frames[0].ndim == 2 else frames[0].shape[2]) if frames else [0.0]
    differences = np.stack([np.abs(b[::2, ::2] - a[::2, ::2]) for a, b in pairs])
    per_channel = differences.reshape(-1) if differences.ndim == 3 else differences.reshape(-1, differences.shape[-1])
    return [float(v) for v in np.atleast_1d(1.4826 * np.median(per_channel, axis=0) / np.sqrt(2))]


def _chroma_gain(model: NDArray[np.float32], frame: NDArray[np.float32]) -> float:
    """frame ≈ k·model by least squares; 1 where the scene has too little colour to tell, or k is absurd."""
    energy = float((model * model).sum())
    if energy < 1.0 * model.size:  # under a chroma level on average: a grey scene
        return 1.0
    k = float((model * frame).sum()) / energy
    return k if 0.5 < k < 2.0 else 1.0


def _fit(model: NDArray[np.float32], frame: NDArray[np.float32]) -> tuple[float, float]:
    spread = float(model.var())
    if spread < 1e-3:
        return 1.0, float(frame.mean() - model.mean())
    gain = float(((model - model.mean()) * (frame - frame.mean())).mean() / spread)
    return gain, float(frame.mean() - gain * model.mean())
