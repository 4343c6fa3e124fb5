"""What a person would rather look at than JSON: the video with its tracks drawn, and a contact sheet.

The runner draws them when a video job sets ``options.render`` (and ``forgesyte demo`` shows them).
Only the runner image imports this module: it needs OpenCV, which the zip functions never load.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray


def colour(track_id: int) -> tuple[int, int, int]:
    hue = int(track_id * 0.618034 * 180) % 180  # golden-ratio steps keep neighbouring ids apart
    bgr = cv2.cvtColor(np.array([[[hue, 220, 255]]], dtype=np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def draw(
    frame: NDArray[np.uint8], objects: Iterable[Mapping[str, Any]], trails: dict[int, list[tuple[int, int]]]
) -> None:
    for obj in objects:
        x1, y1, x2, y2 = (round(v) for v in obj["xyxy"])
        track_id = int(obj["track_id"])
        ink = colour(track_id)
        cv2.rectangle(frame, (x1, y1), (x2, y2), ink, 2)
        label = f"#{track_id} {obj.get('class', '')}"
        cv2.putText(frame, label, (x1, max(12, y1 - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, ink, 1, cv2.LINE_AA)
        trail = trails.setdefault(track_id, [])
        trail.append((round((x1 + x2) / 2), round((y1 + y2) / 2)))
        del trail[:-30]
        for a, b in itertools.pairwise(trail):
            cv2.line(frame, a, b, ink, 1, cv2.LINE_AA)


class FrameObjects:
    """Each frame's tracked objects, kept compact while the results stream past (see write_video_results)."""

    def __init__(self) -> None:
        self.frames: dict[int, list[dict[str, Any]]] = {}

    def __call__(self, frame: Mapping[str, Any]) -> None:
        detections = frame.get("detections") or {}
        objects = detections.get("tracked_objects") if isinstance(detections, Mapping) else None
        if isinstance(objects, list) and isinstance(frame.get("frame_index"), int):
            kept = [
                {"track_id": o["track_id"], "xyxy": o["xyxy"], "class": o.get("class", "")}
                for o in objects
                if isinstance(o, Mapping) and "track_id" in o and "xyxy" in o
            ]
            if kept:
                self.frames[frame["frame_index"]] = kept


def annotate(
    video: Path, frames: Mapping[int, Iterable[Mapping[str, Any]]], out_video: Path, out_sheet: Path, tiles: int = 6
) -> None:
    """Draw every frame's tracked objects into ``out_video`` (mp4v) and a grid of frames into ``out_sheet``."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or len(frames)
    writer = cv2.VideoWriter(str(out_video), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    picks = {round(i * (total - 1) / (tiles - 1)) for i in range(tiles)} if total > 1 else {0}
    sheet: list[NDArray[np.uint8]] = []
    trails: dict[int, list[tuple[int, int]]] = {}
    index = 0
    while True:
        ok, read = capture.read()
        if not ok:
            break
        frame = np.asarray(read, dtype=np.uint8)
        draw(frame, frames.get(index, []), trails)
        cv2.putText(frame, f"frame {index}", (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        writer.write(frame)
        if index in picks:
            sheet.append(frame.copy())
        index += 1
    writer.release()
    capture.release()
    if sheet:
        columns = 3
        while len(sheet) % columns:
            sheet.append(np.zeros_like(sheet[0]))
        rows = [np.hstack(sheet[i : i + columns]) for i in range(0, len(sheet), columns)]
        cv2.imwrite(str(out_sheet), np.vstack(rows))
