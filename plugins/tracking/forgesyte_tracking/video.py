"""Run a detector and the tracker over a video, yielding ForgeSyte-shaped frames lazily.

The result's ``frames`` is a generator: the runner streams it to S3 one frame at a time, so a long
video never sits in memory, and progress is reported as frames are consumed. A detector sees the
decoded frames as a stream (it may read ahead, as the motion detector does to learn its
background); :func:`per_frame` adapts one that judges each frame alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from forgesyte_tracking.bytetrack import ByteTracker, Track

# boxes (N×4 xyxy, pixels), scores (N), class ids (N)
Detections = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]
Frame = NDArray[np.uint8]
Detector = Callable[[Frame], Detections]
# (decoded BGR frames, fps) -> one Detections per frame, in order
StreamDetector = Callable[[Iterator[Frame], float], Iterator[Detections]]
Progress = Callable[[int, int], None]


def per_frame(detector: Detector) -> StreamDetector:
    return lambda frames, fps: (detector(frame) for frame in frames)


def class_name(names: Sequence[str] | Mapping[int, str], class_id: int) -> str:
    if isinstance(names, Mapping):
        return names.get(class_id, str(class_id))
    return names[class_id] if 0 <= class_id < len(names) else str(class_id)


def tracked_objects(tracks: Sequence[Track], names: Sequence[str] | Mapping[int, str]) -> list[dict[str, Any]]:
    """ForgeSyte's tracked objects; rounding is done for all boxes at once (70 a frame is common)."""
    if not tracks:
        return []
    boxes = np.round(np.array([t.xyxy for t in tracks], dtype=np.float64), 1)
    centres = np.round((boxes[:, :2] + boxes[:, 2:]) / 2, 1)
    scores = np.round(np.array([t.score for t in tracks], dtype=np.float64), 4)
    return [
        {
            "track_id": track.track_id,
            "class_id": track.class_id,
            "class": class_name(names, track.class_id),
            "confidence": score,
            "xyxy": box,
            "center": centre,
        }
        for track, box, centre, score in zip(tracks, boxes.tolist(), centres.tolist(), scores.tolist(), strict=True)
    ]


def open_video(path: str) -> tuple[cv2.VideoCapture, int, float, int, int]:
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise ValueError(f"cannot decode the video at {path}")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    return capture, total, fps, width, height


def track_video(
    video_path: str,
    detect: StreamDetector,
    names: Sequence[str] | Mapping[int, str],
    progress_callback: Progress | None = None,
    tracker: ByteTracker | None = None,
    progress_every: int = 10,
    frame_range: Sequence[int] | None = None,
) -> dict[str, Any]:
    """``frame_range`` ``[first, stop)``: a segmented run's share (the runner's ``args["frame_range"]``);
    ``first`` is a keyframe, frames keep their indices and timestamps in the whole video."""
    capture, total, fps, width, height = open_video(video_path)
    tracker = tracker or ByteTracker()
    first, stop = (int(frame_range[0]), min(total, int(frame_range[1]))) if frame_range else (0, total)
    if first:
        capture.set(cv2.CAP_PROP_POS_FRAMES, first)
    if frame_range:
        total = max(0, stop - first)

    def decoded() -> Iterator[Frame]:
        for _ in range(total) if frame_range else itertools.count():
            ok, frame = capture.read()
            if not ok:
                return
            yield np.asarray(frame, dtype=np.uint8)  # a view: already BGR uint8

    def frames() -> Iterator[dict[str, Any]]:
        index = first
        detections = detect(decoded(), fps)
        try:
            for boxes, scores, classes in detections:
                tracks = tracker.update(boxes, scores, classes)
                yield {
                    "frame_index": index,
                    "timestamp_ms": round(index * 1000.0 / fps, 3),
                    "detections": {"tracked_objects": tracked_objects(tracks, names)},
                }
                index += 1
                done = index - first
                if progress_callback and (done % progress_every == 0 or done == total):
                    progress_callback(done, total)
        finally:
            close = getattr(detections, "close", None)
            if callable(close):  # a detector reading ahead on a thread stops before the capture goes
                close()
            capture.release()

    return {"total_frames": total, "fps": fps, "width": width, "height": height, "frames": frames()}
