"""Synthetic videos with exact ground truth: objects that cross, stop, hide and change speed.

Each object follows a piecewise-linear path through keyframes (frame, x, y); a static occluder may
cover part of the scene. Ground truth per frame is the bounding box of each object's *visible*
pixels, and objects less than 30% visible are left out (as MOT benchmarks do), so a tracker is
scored on what a camera could see.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

GroundTruth = list[dict[int, tuple[float, float, float, float]]]  # per frame: object id -> xyxy


@dataclass(frozen=True)
class Mover:
    object_id: int
    size: tuple[int, int]
    color: tuple[int, int, int]
    keyframes: Sequence[tuple[int, float, float]]  # (frame, centre x, centre y), frames ascending
    shape: str = "rect"

    def centre(self, frame: int) -> tuple[float, float] | None:
        keys = self.keyframes
        if frame < keys[0][0] or frame > keys[-1][0]:
            return None
        for (f0, x0, y0), (f1, x1, y1) in itertools.pairwise(keys):
            if f0 <= frame <= f1:
                t = (frame - f0) / max(f1 - f0, 1)
                return x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        return keys[-1][1], keys[-1][2]


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    frames: int
    fps: float
    movers: Sequence[Mover]
    occluders: Sequence[tuple[int, int, int, int]] = field(default_factory=tuple)  # xyxy, drawn on top

    def background(self) -> NDArray[np.uint8]:
        rng = np.random.default_rng(7)
        y, x = np.mgrid[0 : self.height, 0 : self.width]
        base = (40 + 30 * x / self.width + 20 * y / self.height).astype(np.uint8)
        texture = rng.integers(0, 12, (self.height, self.width), dtype=np.uint8)
        return np.asarray(cv2.cvtColor(base + texture, cv2.COLOR_GRAY2BGR), dtype=np.uint8)

    def render(self) -> Iterator[tuple[NDArray[np.uint8], dict[int, tuple[float, float, float, float]]]]:
        background = self.background()
        occluded = np.zeros((self.height, self.width), bool)
        for x1, y1, x2, y2 in self.occluders:
            occluded[y1:y2, x1:x2] = True
        noise = np.random.default_rng(11)
        for index in range(self.frames):
            frame = background.copy()
            visible_owner = np.full((self.height, self.width), -1, np.int32)
            areas: dict[int, int] = {}
            for mover in self.movers:
                centre = mover.centre(index)
                if centre is None:
                    continue
                mask = np.zeros((self.height, self.width), np.uint8)
                w, h = mover.size
                cx, cy = centre
                if mover.shape == "ellipse":
                    cv2.ellipse(mask, (round(cx), round(cy)), (w // 2, h // 2), 0, 0, 360, 255, -1)
                else:
                    cv2.rectangle(
                        mask, (round(cx - w / 2), round(cy - h / 2)), (round(cx + w / 2), round(cy + h / 2)), 255, -1
                    )
                drawn = mask > 0
                frame[drawn] = mover.color
                visible_owner[drawn] = mover.object_id  # later movers are in front
                areas[mover.object_id] = int(drawn.sum())
            for x1, y1, x2, y2 in self.occluders:
                frame[y1:y2, x1:x2] = (25, 25, 25)
            visible_owner[occluded] = -1
            truth = {}
            for object_id, area in areas.items():
                ys, xs = np.nonzero(visible_owner == object_id)
                if area and len(xs) >= 0.3 * area:
                    truth[object_id] = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
            jitter = noise.integers(-3, 4, frame.shape, dtype=np.int16)  # sensor noise
            yield np.clip(frame.astype(np.int16) + jitter, 0, 255).astype(np.uint8), truth

    def write(self, path: Path) -> GroundTruth:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (self.width, self.height))
        truth: GroundTruth = []
        for frame, boxes in self.render():
            writer.write(frame)
            truth.append(boxes)
        writer.release()
        return truth


def crossing_scene(width: int = 640, height: int = 360, seconds: float = 10.0, fps: float = 30.0) -> Scene:
    """Four objects: two cross head-on, one stops and starts again faster, one passes behind a pillar."""
    n = int(seconds * fps)
    sx, sy = width / 640, height / 360

    def k(frame_fraction: float, x: float, y: float) -> tuple[int, float, float]:
        return (round(frame_fraction * (n - 1)), x * sx, y * sy)

    movers = [
        Mover(1, (round(44 * sx), round(32 * sy)), (40, 200, 255), [k(0.02, -30, 110), k(0.95, 670, 150)]),
        Mover(2, (round(40 * sx), round(40 * sy)), (255, 120, 60), [k(0.05, 670, 175), k(0.90, -30, 120)], "ellipse"),
        Mover(
            3,
            (round(36 * sx), round(52 * sy)),
            (80, 255, 80),
            [k(0.0, -20, 300), k(0.25, 260, 300), k(0.40, 260, 300), k(0.55, 520, 290), k(0.62, 670, 285)],
        ),
        Mover(4, (round(30 * sx), round(30 * sy)), (220, 80, 220), [k(0.45, 330, -25), k(0.85, 360, 385)], "ellipse"),
    ]
    pillar = (round(300 * sx), round(200 * sy), round(390 * sx), round(260 * sy))
    return Scene(width, height, n, fps, movers, occluders=[pillar])
