"""Synthetic videos with exact ground truth: objects that cross, touch, stop, hide and change speed.

Each object follows a piecewise-linear path through keyframes (frame, x, y); a static occluder may
cover part of the scene, static clutter may stand in it, and the light may drift. Ground truth per
frame is the bounding box of each object's *visible* pixels, and objects less than 30% visible are
left out (as MOT benchmarks do), so a tracker is scored on what a camera could see.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
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
class Clutter:
    """Something that never moves: a parked car, a bin, a sign. A tracker must not report it."""

    box: tuple[int, int, int, int]  # xyxy
    color: tuple[int, int, int]
    shape: str = "rect"

    def draw(self, image: NDArray[np.uint8]) -> None:
        x1, y1, x2, y2 = self.box
        if self.shape == "ellipse":
            centre, axes = ((x1 + x2) // 2, (y1 + y2) // 2), ((x2 - x1) // 2, (y2 - y1) // 2)
            cv2.ellipse(image, centre, axes, 0, 0, 360, self.color, -1)
        else:
            cv2.rectangle(image, (x1, y1), (x2, y2), self.color, -1)


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    frames: int
    fps: float
    movers: Sequence[Mover]
    occluders: Sequence[tuple[int, int, int, int]] = field(default_factory=tuple)  # xyxy, drawn on top
    clutter: Sequence[Clutter] = field(default_factory=tuple)  # static things: part of the background
    noise: int = 3  # sensor noise, ± grey levels per pixel and channel
    light: Callable[[float], tuple[float, float]] | None = None  # t in [0, 1] -> (gain, offset)
    seed: int = 7
    ground: tuple[int, int, int] | None = None  # BGR of a flat ground (asphalt, grass); else a grey ramp

    def background(self) -> NDArray[np.uint8]:
        rng = np.random.default_rng(self.seed)
        if self.ground is not None:
            texture = rng.integers(-6, 7, (self.height, self.width, 1))
            image = np.clip(np.array(self.ground) + texture, 0, 255).astype(np.uint8)
        else:
            y, x = np.mgrid[0 : self.height, 0 : self.width]
            base = (40 + 30 * x / self.width + 20 * y / self.height).astype(np.uint8)
            texture = rng.integers(0, 12, (self.height, self.width), dtype=np.uint8)
            image = np.asarray(cv2.cvtColor(base + texture, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
        for thing in self.clutter:
            thing.draw(image)
        return image

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
            pixels = frame.astype(np.float32)
            if self.light is not None:
                gain, offset = self.light(index / max(self.frames - 1, 1))
                pixels = pixels * gain + offset
            pixels += noise.integers(-self.noise, self.noise + 1, frame.shape).astype(np.float32)
            yield np.clip(pixels, 0, 255).astype(np.uint8), truth

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


# Scenes where the action is already under way in the first frame, as in real footage. Each scene
# differs from the demo's: clutter that never moves, drifting light, stronger noise, objects that
# walk side by side touching, cross, and stand still at the start before moving off.


def _clutter(width: int, height: int, seed: int, movers: Sequence[Mover], frames: int) -> list[Clutter]:
    """Six static things placed off the movers' paths."""
    rng = np.random.default_rng(seed)
    things: list[Clutter] = []
    while len(things) < 6:
        w, h = int(rng.integers(20, 60)), int(rng.integers(20, 60))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        blue, green, red = (int(c) for c in rng.integers(60, 230, 3))
        thing = Clutter((x, y, x + w, y + h), (blue, green, red), "ellipse" if rng.random() < 0.5 else "rect")
        if not _near_paths(thing, movers, frames):
            things.append(thing)
    return things


def busy_start_scene(width: int = 640, height: int = 360, seconds: float = 8.0, fps: float = 30.0) -> Scene:
    """Five objects mid-frame at frame 0 moving every way, two crossing, among clutter; light dims 20%."""
    n = int(seconds * fps)
    last = n - 1
    movers = [
        Mover(1, (40, 30), (40, 200, 255), [(0, 120, 80), (last, 560, 110)]),
        Mover(2, (36, 36), (255, 120, 60), [(0, 520, 150), (last, 90, 120)], "ellipse"),
        Mover(3, (30, 48), (80, 255, 80), [(0, 320, 320), (last // 2, 330, 200), (last, 600, 250)]),
        Mover(4, (34, 34), (220, 80, 220), [(0, 200, 260), (last, 420, 40)], "ellipse"),
        Mover(5, (44, 26), (250, 250, 90), [(0, 470, 300), (last, 150, 330)]),
    ]
    clutter = _clutter(width, height, 21, movers, n)
    return Scene(width, height, n, fps, movers, clutter=clutter, light=lambda t: (1.0 - 0.2 * t, 0.0), seed=21)


def touching_scene(width: int = 640, height: int = 360, seconds: float = 8.0, fps: float = 30.0) -> Scene:
    """Two objects meet, walk side by side touching, then part; two more cross head-on; noise ±6, light
    brightens."""
    n = int(seconds * fps)
    last = n - 1
    meet, part = round(0.3 * last), round(0.6 * last)
    movers = [
        # 1 and 2 meet, walk side by side touching from 30% to 60% of the clip, then part.
        Mover(1, (34, 44), (60, 170, 250), [(0, 100, 120), (meet, 250, 120), (part, 370, 120), (last, 430, 40)]),
        Mover(2, (34, 44), (250, 90, 90), [(0, 180, 200), (meet, 284, 120), (part, 404, 120), (last, 520, 200)]),
        Mover(3, (40, 30), (90, 240, 120), [(0, 60, 280), (last, 600, 260)], "ellipse"),
        Mover(4, (40, 30), (240, 200, 70), [(0, 600, 250), (last, 60, 290)], "ellipse"),
    ]
    clutter = _clutter(width, height, 33, movers, n)
    return Scene(width, height, n, fps, movers, clutter=clutter, noise=6, light=lambda t: (1.0, 25.0 * t), seed=33)


def still_start_scene(width: int = 640, height: int = 360, seconds: float = 8.0, fps: float = 30.0) -> Scene:
    """Objects standing still for the first second, then leaving (where a one-frame background leaves
    ghosts); one passes behind a pillar; light flickers slowly."""
    n = int(seconds * fps)
    last = n - 1
    hold = int(fps)
    movers = [
        Mover(1, (40, 40), (40, 200, 255), [(0, 160, 100), (hold, 160, 100), (last, 560, 60)], "ellipse"),
        Mover(2, (30, 50), (255, 140, 60), [(0, 480, 120), (hold, 480, 120), (last, 100, 200)]),
        Mover(3, (44, 30), (90, 250, 90), [(0, 300, 300), (2 * hold, 300, 300), (last, 620, 330)]),
        Mover(4, (32, 32), (220, 90, 220), [(0, 40, 230), (last, 600, 230)], "ellipse"),
    ]
    pillar = (330, 190, 380, 270)
    clutter = _clutter(width, height, 45, movers, n)
    return Scene(
        width,
        height,
        n,
        fps,
        movers,
        occluders=[pillar],
        clutter=clutter,
        light=lambda t: (1.0 + 0.08 * float(np.sin(2 * np.pi * 1.5 * t)), 0.0),
        seed=45,
    )


# Scenes whose objects are as bright as the ground but of another colour (a red car on grey asphalt):
# every colour's luma (0.299 R + 0.587 G + 0.114 B) is within 6 grey levels of the ground's, under the
# 12 a brightness-only detector needs, so only colour tells them apart.
ASPHALT = (110, 110, 110)
GRASS = (60, 140, 70)  # luma 110
RED, BLUE, GREEN, AMBER, PURPLE = (60, 75, 215), (230, 110, 50), (70, 150, 40), (20, 110, 150), (200, 70, 150)


def asphalt_scene(width: int = 640, height: int = 360, seconds: float = 8.0, fps: float = 30.0) -> Scene:
    """Four cars as bright as the asphalt, under way from frame 0: two cross head-on, one overtakes,
    one turns; static things of the same brightness stand by; light drifts 10%."""
    n = int(seconds * fps)
    last = n - 1
    movers = [
        Mover(1, (48, 26), RED, [(0, 80, 120), (last, 580, 140)]),
        Mover(2, (48, 26), BLUE, [(0, 560, 150), (last, 60, 110)]),
        Mover(3, (30, 44), GREEN, [(0, 300, 330), (last // 2, 320, 220), (last, 600, 200)]),
        Mover(4, (40, 30), AMBER, [(0, 150, 260), (last, 520, 300)], "ellipse"),
    ]
    clutter = [Clutter((20, 20, 60, 50), PURPLE), Clutter((590, 300, 630, 350), RED, "ellipse")]
    clutter = [c for c in clutter if not _near_paths(c, movers, n)]
    return Scene(
        width, height, n, fps, movers, clutter=clutter, light=lambda t: (1.0 + 0.1 * t, 0.0), seed=51, ground=ASPHALT
    )


def grass_scene(width: int = 640, height: int = 360, seconds: float = 8.0, fps: float = 30.0) -> Scene:
    """Four objects of the grass's brightness on grass: a grey one among them (no hue at all), two that meet
    and walk side by side, one that passes behind a post; noise ±5."""
    n = int(seconds * fps)
    last = n - 1
    meet, part = round(0.3 * last), round(0.6 * last)
    movers = [
        Mover(1, (34, 44), ASPHALT, [(0, 100, 120), (meet, 250, 120), (part, 370, 120), (last, 430, 40)]),
        Mover(2, (34, 44), RED, [(0, 180, 200), (meet, 284, 120), (part, 404, 120), (last, 520, 200)]),
        Mover(3, (40, 30), PURPLE, [(0, 40, 290), (last, 600, 270)], "ellipse"),
        Mover(4, (36, 36), BLUE, [(0, 600, 60), (last, 60, 70)], "ellipse"),
    ]
    post = (330, 240, 360, 320)
    return Scene(width, height, n, fps, movers, occluders=[post], noise=5, seed=63, ground=GRASS)


COLOUR_SCENES: dict[str, Callable[[], Scene]] = {"asphalt": asphalt_scene, "grass": grass_scene}


def _near_paths(thing: Clutter, movers: Sequence[Mover], frames: int) -> bool:
    """Keep clutter off the movers' paths: the ground truth would otherwise be ambiguous."""
    x1, y1, x2, y2 = thing.box
    for mover in movers:
        w, h = mover.size
        for index in range(0, frames, 3):
            centre = mover.centre(index)
            if centre and x1 - w <= centre[0] <= x2 + w and y1 - h <= centre[1] <= y2 + h:
                return True
    return False


START_SCENES: dict[str, Callable[[], Scene]] = {
    "busy_start": busy_start_scene,
    "touching": touching_scene,
    "still_start": still_start_scene,
}


def looped_scene(make: Callable[..., Scene], seconds: float, period: float = 10.0, fps: float = 30.0) -> Scene:
    """A long version of a scene: its action played again every ``period`` seconds for ``seconds``, each
    pass with new object ids (a tracker must give each pass new tracks), the same background and clutter.
    Long enough to be cut many times; every cut falls somewhere in a pass, with objects crossing it."""
    base = make(seconds=period, fps=fps)
    passes = max(1, round(seconds / period))
    movers = [
        Mover(
            100 * (r + 1) + m.object_id,
            m.size,
            m.color,
            [(f + r * base.frames, x, y) for f, x, y in m.keyframes],
            m.shape,
        )
        for r in range(passes)
        for m in base.movers
    ]
    light = base.light
    looped_light = (lambda t: light((t * passes) % 1.0)) if light is not None else None
    return Scene(
        base.width,
        base.height,
        passes * base.frames,
        fps,
        movers,
        occluders=base.occluders,
        clutter=base.clutter,
        noise=base.noise,
        light=looped_light,
        seed=base.seed,
    )
