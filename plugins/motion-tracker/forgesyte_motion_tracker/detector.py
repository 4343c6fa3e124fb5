"""Moving-object boxes from a multi-frame background model, on a downscaled frame.

Working at ``work_width`` pixels keeps the cost per frame far below decoding; boxes are scaled back
to the frame's pixels. Frames are compared in luma and chroma (``colour``), so an object as bright as
the ground but of another colour is seen. The first ``background_seconds`` of small frames are held
(about 26 MB at 30 fps in colour) so the background can be the median of samples across them before
the first frame is judged (see :mod:`forgesyte_motion_tracker.background`).

Whatever the footage, the work per frame is bounded: blobs under ``min_area`` are dropped, only the
``max_detections`` largest are kept, and a frame that mostly changed at once re-learns the background
instead of reporting it. Objects that touch make one blob: where a blob covers the
boxes the tracker expects for two or more of its tracks, it is cut up guided by those boxes, so
people walking side by side or crossing keep their own tracks. A blob's confidence grows with how much of its
box is foreground (0.5 for a sliver, 1.0 for a solid box).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from forgesyte_motion_tracker.background import Background, Held, Planes, noise_sigma
from forgesyte_tracking import Detections

Boxes = NDArray[np.float64]
CROSSING_OVERLAP = 0.15  # of the smaller box: more than this, one object hides part of the other
MERGED_FILL = 0.2  # confidence 0.6 for a box placed from the tracker's expectation


@dataclass(frozen=True)
class MotionOptions:
    work_width: int = 320
    background_seconds: float = 10.0  # the opening span whose frames the background is the median of
    background_samples: int = 40
    min_difference: float = 12.0  # grey levels; noisier footage raises it (5 noise deviations)
    learning_rate: float = 0.02  # how fast the background follows where nothing moves
    min_area: float = 0.0008  # fraction of the frame
    colour: bool = True  # compare chroma as well as luma
    min_colour_difference: float = 10.0  # chroma levels (YCrCb), raised to 5 noise deviations likewise
    max_detections: int = 100  # per frame: the largest blobs
    scene_change: float = 0.6  # fraction of the frame changing at once that restarts the background

    def __post_init__(self) -> None:
        checks = {
            "work_width": self.work_width >= 32,
            "background_seconds": self.background_seconds > 0,
            "background_samples": self.background_samples >= 1,
            "min_difference": self.min_difference >= 0,
            "learning_rate": 0 <= self.learning_rate < 1,
            "min_area": 0 <= self.min_area < 1,
            "min_colour_difference": self.min_colour_difference >= 0,
            "max_detections": self.max_detections >= 1,
            "scene_change": 0 < self.scene_change <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"option {name!r} is out of range: {getattr(self, name)!r} (see the tool's manifest)")

    @classmethod
    def from_options(cls, options: dict[str, object]) -> MotionOptions:
        known = {name: type(getattr(cls(), name)) for name in cls.__dataclass_fields__}
        values = {}
        for name, value in options.items():
            if name in known:
                if known[name] is bool and not isinstance(value, bool):
                    raise ValueError(f"option {name!r} must be a bool, got {value!r}")
                try:
                    values[name] = known[name](value)
                except (TypeError, ValueError):
                    raise ValueError(f"option {name!r} must be a {known[name].__name__}, got {value!r}") from None
        return cls(**values)


class MotionDetector:
    def __init__(self, options: MotionOptions, expected: Callable[[], Boxes] | None = None) -> None:
        """``expected``: the boxes the tracker predicts for its live tracks in the next frame."""
        self.options = options
        self.expected = expected or (lambda: np.zeros((0, 4)))
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.scale = np.ones(4)  # small frame's pixels per frame pixel: x, y, x, y
        self.scene_changes = 0

    def stream(self, frames: Iterable[NDArray[np.uint8]], fps: float) -> Iterator[Detections]:
        """Detections for each frame, in order. Reads ahead over the opening span to learn it, and again
        from a frame where a scene that had held for a span changed (a cut): that frame is judged by the
        new model. A scene that changes again sooner (the camera moving) is followed frame to frame."""
        upcoming: Iterator[Held] = (self._small(frame) for frame in frames)
        span = max(1, round(self.options.background_seconds * fps))
        while head := list(itertools.islice(upcoming, span)):
            self.background = self._learn(head)
            upcoming = itertools.chain(head, upcoming)
            for judged, small in enumerate(upcoming):
                pixels = self._pixels(small)
                mask = self.background.foreground(pixels)
                if self.background.scene_changed:
                    self.scene_changes += 1
                    if judged >= span:
                        upcoming = itertools.chain([small], upcoming)
                        break
                    self.background.restart(pixels)
                yield self._detect(mask)

    def _learn(self, head: list[Held]) -> Background:
        step = max(1, len(head) // max(1, self.options.background_samples))
        return Background(
            head[::step],
            noise_sigma([self._pixels(frame) for frame in head[:9]]),
            (self.options.min_difference, self.options.min_colour_difference),
            self.options.learning_rate,
            self.options.learning_rate / 50,
            self.options.scene_change,
        )

    def _small(self, frame: NDArray[np.uint8]) -> Held:
        """The frame at ``work_width`` as bytes: luma, and in colour chroma at half that size (Cr over Cb)."""
        height, width = frame.shape[:2]
        scale = min(1.0, self.options.work_width / width)
        size = (max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2)))  # even: chroma halves
        self.scale = np.array([size[0] / width, size[1] / height] * 2)
        small: NDArray[Any] = frame
        if size != (width, height):
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        luma = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)
        if not self.options.colour:
            return luma, None
        half = cv2.resize(small, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA)
        _, cr, cb = cv2.split(cv2.cvtColor(half, cv2.COLOR_BGR2YCrCb))
        return luma, np.vstack((cr, cb))

    @staticmethod
    def _pixels(small: Held) -> Planes:
        luma, chroma = small
        return Planes(luma.astype(np.float32), None if chroma is None else chroma.astype(np.float32))

    def _detect(self, foreground: NDArray[np.uint8]) -> Detections:
        opened = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, self.kernel)
        mask = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, self.kernel)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        min_pixels = self.options.min_area * mask.shape[0] * mask.shape[1]
        expected = self.expected() * self.scale
        areas = stats[1:, cv2.CC_STAT_AREA]
        kept = 1 + np.flatnonzero(areas >= min_pixels)
        if len(kept) > self.options.max_detections:  # the largest; a busy frame costs no more than this
            kept = kept[np.argsort(-areas[kept - 1], kind="stable")[: self.options.max_detections]]
        boxes: list[tuple[float, float, float, float]] = []
        filled: list[float] = []
        for label in kept:
            x, y, w, h, area = (int(v) for v in stats[label])
            inside = _expected_inside(expected, (x, y, x + w, y + h))
            if len(inside) >= 2:
                for box in _split_merged(labels[y : y + h, x : x + w] == label, (x, y), inside):
                    if (box[2] - box[0]) * (box[3] - box[1]) < min_pixels:
                        continue  # a sliver: no object this small would have been detected alone
                    boxes.append((box[0], box[1], box[2], box[3]))
                    filled.append(MERGED_FILL)
            else:
                boxes.append((x, y, x + w, y + h))
                filled.append(area / max(w * h, 1))
        found = np.array(boxes, dtype=np.float64).reshape(-1, 4)[: self.options.max_detections] / self.scale
        filled = filled[: self.options.max_detections]
        return found, 0.5 + 0.5 * np.array(filled, dtype=np.float64), np.zeros(len(found), np.int64)


def _expected_inside(expected: Boxes, box: tuple[int, int, int, int]) -> Boxes:
    """The expected boxes mostly (half or more of their area) inside ``box``."""
    if len(expected) == 0:
        return expected
    x1 = np.maximum(expected[:, 0], box[0])
    y1 = np.maximum(expected[:, 1], box[1])
    x2 = np.minimum(expected[:, 2], box[2])
    y2 = np.minimum(expected[:, 3], box[3])
    overlap = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (expected[:, 2] - expected[:, 0]) * (expected[:, 3] - expected[:, 1])
    inside: Boxes = expected[overlap >= 0.5 * np.maximum(area, 1e-6)]
    return inside


def _split_merged(blob: NDArray[np.bool_], origin: tuple[int, int], expected: Boxes) -> Boxes:
    """Boxes for the objects one blob holds, guided by where the tracker expects them.

    Objects side by side (touching): the blob is cut across the line they stand along, each getting
    a share of its length in proportion to its expected size, and each share's extent the other way
    is read from the blob's pixels, so every box follows the objects and none shrinks away. Objects
    whose expected boxes overlap are crossing, one hiding part of the other, so no cut is right:
    each coasts on its own prediction, clipped to the blob.
    """
    x0, y0 = origin
    height, width = blob.shape
    if _any_overlap(expected):
        boxes = expected.copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(x0, x0 + width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(y0, y0 + height)
        return boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
    centres = (expected[:, :2] + expected[:, 2:]) / 2
    axis = 0 if np.ptp(centres[:, 0]) >= np.ptp(centres[:, 1]) else 1  # 0: side by side in x
    order = np.argsort(centres[:, axis])
    lengths = np.maximum(expected[order, 2 + axis] - expected[order, axis], 1.0)
    span = width if axis == 0 else height
    edges = np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum() * span]).round().astype(int)
    boxes = np.zeros((0, 4))
    for start, stop in itertools.pairwise(edges):
        part = blob[:, start:stop] if axis == 0 else blob[start:stop, :]
        across = np.flatnonzero(part.any(axis=1 if axis == 0 else 0))
        if stop <= start or len(across) == 0:
            continue
        if axis == 0:
            box = (x0 + start, y0 + across[0], x0 + stop, y0 + across[-1] + 1)
        else:
            box = (x0 + across[0], y0 + start, x0 + across[-1] + 1, y0 + stop)
        boxes = np.vstack([boxes, np.array(box, dtype=np.float64)])
    return boxes


def _any_overlap(boxes: Boxes) -> bool:
    """Whether two boxes share more than a sliver (boxes of touching objects graze each other)."""
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    shared = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    overlapping = shared > CROSSING_OVERLAP * np.minimum(area[:, None], area[None, :])
    np.fill_diagonal(overlapping, False)
    return bool(overlapping.any())
