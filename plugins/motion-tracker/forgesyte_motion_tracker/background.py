"""A background estimated over many frames, so objects already in the first frame are not learned.

The model starts as the per-pixel median of frames sampled across the opening of the video: an
object that moves covers any one pixel in only a few samples, so it drops out of the median, where
a model seeded from one frame keeps a "ghost" wherever each object started. Each frame is then
matched to the model's light (a robust gain and offset fitted on background pixels, so drifting
exposure or flicker does not turn the whole frame into foreground), compared against thresholds
set from the measured sensor noise, and used to update the background where nothing moves.

Frames are luma plus chroma (``Planes``): a red car on grey asphalt can match the asphalt's
brightness but not its colour. Chroma is kept at half the size each way, as 4:2:0 video stores it:
it holds no finer detail, and the colour comparison then costs a quarter of the brightness one. A
change of exposure scales chroma by its gain and leaves it untouched by the offset, so chroma's own
gain is fitted on chroma (the luma fit's gain is ill-conditioned on a flat ground, where gain and
offset cannot be told apart). Without chroma (grey frames) the model works on brightness alone.

When most of the frame changes at once (a cut, the camera moved, the lights went on) the model is
not the scene any more: the frame reports no foreground and ``scene_changed`` says so, and the
detector learns a new model from the frames that follow (or, while the camera keeps moving, from
the last frame alone), rather than reporting thousands of blobs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np
from numpy.typing import NDArray

Pixels = NDArray[np.float32]
Mask = NDArray[np.uint8]
Held = tuple[NDArray[Any], NDArray[Any] | None]  # planes as bytes (held while the opening is learned) or floats

NOISE_SIGMAS = 5.0  # a pixel is foreground this many noise deviations away from the background
LIGHT_STRIDE = 4  # the light fit reads every 4th luma pixel each way (every 2nd chroma one): ample, and cheap
CHROMA_CENTRE = 128.0  # YCrCb's grey: chroma is the distance from it
CHROMA_FIT_EVERY = 5  # light changes over seconds: chroma's gain is refitted every few frames


class Planes(NamedTuple):
    """A frame as the model compares it: luma (H×W) and, in colour, chroma at half the size each way
    with Cr's image above Cb's (H×W/2 when H and W are even), or None for brightness alone."""

    luma: Pixels
    chroma: Pixels | None = None


class Background:
    def __init__(
        self,
        samples: Sequence[Held],
        noise: Sequence[float],
        min_differences: Sequence[float],
        learning_rate: float,
        foreground_rate: float,
        scene_change: float = 1.0,
    ) -> None:
        """``samples``: frames whose per-pixel median is the first model; ``noise``: each plane's noise
        deviation (see :func:`noise_sigma`); ``min_differences``: the least difference that counts, in
        luma then chroma; ``scene_change``: the fraction of the frame that, changing at once, means the
        model is not this scene any more."""
        self.luma: Pixels = _median([luma for luma, _ in samples])
        chromas = [chroma for _, chroma in samples if chroma is not None]
        self.chroma: Pixels | None = _median(chromas) if chromas else None
        self.threshold = max(min_differences[0], NOISE_SIGMAS * noise[0], 1e-3)
        self.chroma_threshold = max(min_differences[-1], NOISE_SIGMAS * noise[-1], 1e-3)
        self.learning_rate, self.foreground_rate = learning_rate, foreground_rate
        self.scene_change = scene_change
        self.scene_changed = False
        self._judged, self._chroma_gain = 0, 1.0  # frames judged; chroma's light gain, fitted every few
        self._still: NDArray[np.bool_] = np.ones(self.luma[::LIGHT_STRIDE, ::LIGHT_STRIDE].shape, bool)

    def foreground(self, frame: Planes) -> Mask:
        """Pixels that differ from the background (255) in this frame, after matching its light."""
        matched = self._match_light(frame)
        mask = _over(matched.luma, self.luma, self.threshold)
        if matched.chroma is not None and self.chroma is not None:
            over = _over(matched.chroma, self.chroma, self.chroma_threshold)
            half = over.shape[0] // 2
            either = cv2.bitwise_or(over[:half], over[half:])  # Cr or Cb
            size = (mask.shape[1], mask.shape[0])
            cv2.bitwise_or(mask, cv2.resize(either, size, interpolation=cv2.INTER_NEAREST), dst=mask)
        self.scene_changed = cv2.countNonZero(mask) > self.scene_change * mask.size
        if self.scene_changed:
            mask[:] = 0
        else:
            self._learn(matched, mask)
        self._still = mask[::LIGHT_STRIDE, ::LIGHT_STRIDE] == 0
        return mask

    def restart(self, frame: Planes) -> None:
        """The model becomes this frame: the next is judged against it alone (while the camera moves)."""
        self.luma = frame.luma.astype(np.float32, copy=True)
        if frame.chroma is not None:
            self.chroma = frame.chroma.astype(np.float32, copy=True)
        self._still[:] = True

    def _match_light(self, frame: Planes) -> Planes:
        """The frame mapped onto the model's exposure: luma ≈ gain·model + offset, chroma (centred on
        ``CHROMA_CENTRE``) ≈ gain·model, each fitted on background pixels."""
        frame_luma = frame.luma[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        if len(frame_luma) < 64:
            return frame
        model_luma = self.luma[::LIGHT_STRIDE, ::LIGHT_STRIDE][self._still]
        gain, offset = _fit(model_luma, frame_luma)
        residual = np.abs(frame_luma - (gain * model_luma + offset))
        keep = residual < 2 * self.threshold  # refit without whatever moved since the last frame
        if keep.sum() < 64:
            keep[:] = True
        gain, offset = _fit(model_luma[keep], frame_luma[keep])
        if not 0.5 < gain < 2.0:
            gain, offset = 1.0, 0.0
        luma = np.asarray(cv2.addWeighted(frame.luma, 1.0 / gain, frame.luma, 0.0, -offset / gain), np.float32)
        if frame.chroma is None or self.chroma is None:
            return Planes(luma)
        if self._judged % CHROMA_FIT_EVERY == 0:
            still = self._still.copy()
            still[still] = keep  # and unmoved by the luma fit's measure too
            self._chroma_gain = _chroma_gain(_sampled(self.chroma, still), _sampled(frame.chroma, still))
        self._judged += 1
        k = self._chroma_gain
        if k == 1.0:
            return Planes(luma, frame.chroma)
        # chroma' = (chroma - centre) / k + centre
        chroma = cv2.addWeighted(frame.chroma, 1.0 / k, frame.chroma, 0.0, CHROMA_CENTRE * (1 - 1 / k))
        return Planes(luma, np.asarray(chroma, np.float32))

    def _learn(self, matched: Planes, mask: Mask) -> None:
        # Where nothing moves, follow slow changes (shadows, weather). Where something does, learn far
        # more slowly: a stopped object stays foreground for many seconds, a late ghost still fades.
        _accumulate(matched.luma, self.luma, mask, self.learning_rate, self.foreground_rate)
        if matched.chroma is not None and self.chroma is not None:
            height, width = self.chroma.shape
            half = cv2.resize(mask, (width, height // 2), interpolation=cv2.INTER_NEAREST)
            _accumulate(matched.chroma, self.chroma, np.vstack((half, half)), self.learning_rate, self.foreground_rate)


def _over(frame: Pixels, model: Pixels, threshold: float) -> Mask:
    """255 where the frame differs from the model by more than ``threshold``."""
    return np.asarray(cv2.compare(cv2.absdiff(frame, model), np.array([threshold]), cv2.CMP_GT), np.uint8)


def _accumulate(frame: Pixels, model: Pixels, mask: Mask, learning_rate: float, foreground_rate: float) -> None:
    cv2.accumulateWeighted(frame, model, learning_rate, mask=cv2.bitwise_not(mask))
    cv2.accumulateWeighted(frame, model, foreground_rate, mask=mask)


def _median(frames: Sequence[NDArray[Any]]) -> Pixels:
    return np.asarray(np.median(np.stack(frames), axis=0), np.float32)


def _sampled(chroma: Pixels, still: NDArray[np.bool_]) -> Pixels:
    """Chroma at the luma fit's sample points (every 2nd chroma pixel each way) where ``still``, centred."""
    half = chroma.shape[0] // 2
    cr, cb = chroma[:half:2, ::2], chroma[half::2, ::2]
    rows, columns = min(cr.shape[0], cb.shape[0], still.shape[0]), min(cr.shape[1], still.shape[1])
    where = still[:rows, :columns]
    return np.concatenate((cr[:rows, :columns][where], cb[:rows, :columns][where])) - np.float32(CHROMA_CENTRE)


def noise_sigma(frames: Sequence[Planes]) -> list[float]:
    """Each plane's sensor noise from consecutive frames: between neighbours little moves and the light
    barely changes, so the median absolute difference is noise (scaled to a Gaussian's deviation, ÷√2
    for the two frames' noise adding up). Luma's, then chroma's when the frames have it."""
    pairs = list(itertools.islice(itertools.pairwise(frames), 8))
    if not pairs:
        return [0.0] if not frames or frames[0].chroma is None else [0.0, 0.0]
    planes = [[(a.luma, b.luma) for a, b in pairs]]
    if frames[0].chroma is not None:
        planes.append([(a.chroma, b.chroma) for a, b in pairs if a.chroma is not None and b.chroma is not None])
    return [
        float(1.4826 * np.median(np.stack([np.abs(b[::2, ::2] - a[::2, ::2]) for a, b in plane])) / np.sqrt(2))
        for plane in planes
    ]


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
