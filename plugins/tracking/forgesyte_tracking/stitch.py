"""Stitching the tracks of a segmented run, so an object that crosses a cut keeps one id.

Segment ``i + 1`` also tracks the last ``overlap`` frames of segment ``i`` (after a pre-roll that
warms its tracker). Its tracks are matched to segment ``i``'s in those frames: pairs of the same class
whose boxes overlap (IoU ≥ ``min_iou``) in most of the frames where both are seen, best pairs first,
one to one. A matched track takes the earlier track's id; any other gets the next new id on its first
reported frame, so ids count up in order of first appearance, as in an unsplit run. Pure Python: the
merge holds one segment's frames and the previous segment's overlap at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

Box = Sequence[float]
Frame = Mapping[str, Any]


def iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _objects(frame: Frame) -> list[dict[str, Any]]:
    detections = frame.get("detections")
    found = detections.get("tracked_objects") if isinstance(detections, Mapping) else None
    return [dict(o) for o in found or [] if isinstance(o, Mapping) and o.get("track_id") is not None]


class TrackStitcher:
    def __init__(self, overlap: int, min_iou: float = 0.3, min_agreement: float = 0.5) -> None:
        self.overlap, self.min_iou, self.min_agreement = overlap, min_iou, min_agreement
        self._next_id = 1
        self._tail: dict[int, list[dict[str, Any]]] = {}  # frame index -> objects with global ids
        self.matched = 0  # tracks carried across a cut
        self.cuts = 0

    def segment(self, frames: Iterable[Frame], start: int, end: int) -> Iterator[dict[str, Any]]:
        """This segment's own frames ``[start, end)``, with global track ids, in order."""
        frames = sorted((f for f in frames if start - self.overlap <= int(f["frame_index"]) < end), key=_index)
        window = {_index(f): _objects(f) for f in frames if _index(f) < start}
        ids = self._match(window) if self._tail and window else {}
        if self._tail:
            self.cuts += 1
            self.matched += len(ids)
        tail: dict[int, list[dict[str, Any]]] = {}
        for frame in frames:
            index = _index(frame)
            if index < start:
                continue
            objects = []
            for item in _objects(frame):
                local = item["track_id"]
                if local not in ids:
                    ids[local] = self._next_id
                    self._next_id += 1
                objects.append({**item, "track_id": ids[local]})
            if index >= end - self.overlap:
                tail[index] = objects
            detections = dict(frame.get("detections") or {})
            detections["tracked_objects"] = objects
            yield {**frame, "detections": detections}
        self._tail = tail

    def _match(self, window: Mapping[int, list[dict[str, Any]]]) -> dict[Any, int]:
        """local id -> global id for the tracks seen in both segments' overlap."""
        agree: dict[tuple[int, Any], int] = defaultdict(int)
        seen_global: dict[int, int] = defaultdict(int)
        seen_local: dict[Any, int] = defaultdict(int)
        for index, locals_ in window.items():
            globals_ = self._tail.get(index, [])
            for g in globals_:
                seen_global[g["track_id"]] += 1
            for item in locals_:
                seen_local[item["track_id"]] += 1
                for g in globals_:
                    if g.get("class_id") == item.get("class_id") and iou(g["xyxy"], item["xyxy"]) >= self.min_iou:
                        agree[(g["track_id"], item["track_id"])] += 1
        pairs = sorted(agree.items(), key=lambda pair: -pair[1])
        ids: dict[Any, int] = {}
        taken: set[int] = set()
        for (global_id, local_id), frames in pairs:
            if global_id in taken or local_id in ids:
                continue
            both = min(seen_global[global_id], seen_local[local_id])
            if frames >= max(1, self.min_agreement * both):
                ids[local_id] = global_id
                taken.add(global_id)
        return ids


def _index(frame: Frame) -> int:
    return int(frame["frame_index"])
