"""ByteTrack-style multi-object tracking (Zhang et al., 2022), class-aware.

Each frame: predict every track with its Kalman filter; match high-confidence detections to tracked
and recently lost tracks by IoU (Hungarian assignment); match the leftover tracked tracks to the
low-confidence detections, which recovers occluded objects instead of dropping them; confirm new
tracks on their second hit; start tracks from unmatched confident detections; forget tracks lost
for longer than the buffer. Detections only match tracks of their own class.

Two tracks on one object (same box, same motion: one detector output seen twice, or a detector
guided by the tracker's own predictions) are one track: the younger is dropped, as ByteTrack drops
duplicates. Memory and time per frame stay bounded on any footage: at most ``max_tracks`` are kept
(the lost tracks seen longest ago go first), so the IoU matrices are at most detections × ``max_tracks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from forgesyte_tracking import kalman
from forgesyte_tracking.geometry import iou_matrix, xyah_to_xyxy, xyxy_to_xyah

DUPLICATE_IOU = 0.9
DUPLICATE_SPEED = 0.05  # velocities closer than this share of the box's height per frame: one motion


class State(Enum):
    NEW = 0
    TRACKED = 1
    LOST = 2


@dataclass
class Track:
    track_id: int
    class_id: int
    score: float
    mean: NDArray[np.float64]
    covariance: NDArray[np.float64]
    state: State = State.NEW
    hits: int = 1
    last_frame: int = 0
    start_frame: int = 0
    matched: bool = field(default=True, repr=False)
    detection: NDArray[np.float64] | None = field(default=None, repr=False)

    @property
    def predicted_xyxy(self) -> NDArray[np.float64]:
        """The Kalman filter's box: what association compares detections against."""
        return xyah_to_xyxy(self.mean[:4])

    @property
    def xyxy(self) -> NDArray[np.float64]:
        """The box reported: the detection matched last, which does not lag a box that changes size."""
        return self.detection if self.detection is not None else self.predicted_xyxy

    def absorb(self, box: NDArray[np.float64], score: float, frame: int) -> None:
        """Take a detection; the filter's update runs for every matched track at the end of the frame."""
        self.detection = box
        self.score, self.last_frame, self.hits = score, frame, self.hits + 1
        self.state, self.matched = State.TRACKED, True


def _associate(
    tracks: list[Track], boxes: NDArray[np.float64], classes: NDArray[np.int64], threshold: float
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Matches (track index, detection index) with IoU above ``threshold``; then the leftovers."""
    if not tracks or len(boxes) == 0:
        return [], list(range(len(tracks))), list(range(len(boxes)))
    track_boxes = xyah_to_xyxy(np.array([t.mean[:4] for t in tracks]))
    iou = iou_matrix(track_boxes, boxes)
    same_class = np.array([t.class_id for t in tracks])[:, None] == classes[None, :]
    cost = np.where(same_class & (iou >= threshold), 1.0 - iou, 1e6)
    rows, cols = linear_sum_assignment(cost)
    matches = [(r, c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < 1e6]
    matched_tracks = {r for r, _ in matches}
    matched_dets = {c for _, c in matches}
    return (
        matches,
        [i for i in range(len(tracks)) if i not in matched_tracks],
        [j for j in range(len(boxes)) if j not in matched_dets],
    )


class ByteTracker:
    def __init__(
        self,
        high_threshold: float = 0.5,
        low_threshold: float = 0.1,
        new_track_threshold: float = 0.6,
        match_iou: float = 0.2,
        low_match_iou: float = 0.5,
        lost_buffer_frames: int = 30,
        max_tracks: int = 500,
    ) -> None:
        self.high_threshold, self.low_threshold = high_threshold, low_threshold
        self.new_track_threshold = new_track_threshold
        self.match_iou, self.low_match_iou = match_iou, low_match_iou
        self.lost_buffer_frames = lost_buffer_frames
        self.max_tracks = max_tracks
        self.tracks: list[Track] = []
        self.frame = 0
        self._next_id = 1

    def update(
        self, boxes: NDArray[np.float64], scores: NDArray[np.float64], classes: NDArray[np.int64]
    ) -> list[Track]:
        """Feed one frame's detections (N×4 xyxy, N scores, N class ids); returns the confirmed tracks seen now."""
        self.frame += 1
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        for track in self.tracks:
            track.matched = False
        self._predict()

        high = scores >= self.high_threshold
        low = ~high & (scores >= self.low_threshold)
        hi_idx, lo_idx = np.flatnonzero(high), np.flatnonzero(low)

        confirmed = [t for t in self.tracks if t.state != State.NEW]
        unconfirmed = [t for t in self.tracks if t.state == State.NEW]

        # 1. Confident detections against tracked and lost tracks.
        matches, rest_tracks, rest_hi = _associate(confirmed, boxes[hi_idx], classes[hi_idx], self.match_iou)
        for ti, di in matches:
            confirmed[ti].absorb(boxes[hi_idx[di]], float(scores[hi_idx[di]]), self.frame)

        # 2. Tracks still unmatched (and not already lost) against the low-confidence detections.
        still_tracked = [confirmed[i] for i in rest_tracks if confirmed[i].state == State.TRACKED]
        matches, _, _ = _associate(still_tracked, boxes[lo_idx], classes[lo_idx], self.low_match_iou)
        for ti, di in matches:
            still_tracked[ti].absorb(boxes[lo_idx[di]], float(scores[lo_idx[di]]), self.frame)

        # 3. New tracks from the last frame against the confident detections left over.
        hi_left = hi_idx[rest_hi]
        matches, _, rest_new = _associate(unconfirmed, boxes[hi_left], classes[hi_left], self.match_iou)
        for ti, di in matches:
            unconfirmed[ti].absorb(boxes[hi_left[di]], float(scores[hi_left[di]]), self.frame)
            self._activate(unconfirmed[ti])
        hi_left = hi_left[rest_new]

        self._correct([t for t in self.tracks if t.matched])
        self._drop_duplicates()

        # Unmatched: new tracks die at once, tracked ones are lost, lost ones expire.
        survivors = []
        for track in self.tracks:
            if not track.matched:
                if track.state == State.NEW:
                    continue
                track.state = State.LOST
                if self.frame - track.last_frame > self.lost_buffer_frames:
                    continue
            survivors.append(track)
        self.tracks = survivors

        for j in hi_left:
            if scores[j] >= self.new_track_threshold:
                self._start(boxes[j], float(scores[j]), int(classes[j]))
        if len(self.tracks) > self.max_tracks:
            self._forget_oldest_lost()

        return [t for t in self.tracks if t.state == State.TRACKED and t.last_frame == self.frame and t.hits >= 2]

    def _drop_duplicates(self) -> None:
        """Of two tracked tracks with nearly the same box and velocity, the younger goes. Objects crossing
        share a box for a moment too, but move differently."""
        tracked = [t for t in self.tracks if t.state == State.TRACKED and t.matched]
        if len(tracked) < 2:
            return
        means = np.array([t.mean for t in tracked])
        iou = iou_matrix(xyah_to_xyxy(means[:, :4]), xyah_to_xyxy(means[:, :4]))
        velocity_gap = np.linalg.norm(means[:, None, 4:6] - means[None, :, 4:6], axis=2)
        same = (iou >= DUPLICATE_IOU) & (velocity_gap <= DUPLICATE_SPEED * means[:, None, 3])
        np.fill_diagonal(same, False)
        if not same.any():
            return
        dropped: set[int] = set()
        for i, j in zip(*np.nonzero(np.triu(same)), strict=True):
            if i in dropped or j in dropped:
                continue
            older = (tracked[i].start_frame, i) <= (tracked[j].start_frame, j)
            dropped.add(int(j) if older else int(i))
        gone = {id(tracked[k]) for k in dropped}
        self.tracks = [t for t in self.tracks if id(t) not in gone]

    def _forget_oldest_lost(self) -> None:
        """Back to ``max_tracks``: lost tracks seen longest ago go first, then (a frame of more confident
        detections than that) the newest tracks; tracks seen now are kept before any lost one."""
        ranked = sorted(self.tracks, key=lambda t: (t.state == State.LOST, -t.last_frame, t.start_frame))
        keep = {id(t) for t in ranked[: self.max_tracks]}
        self.tracks = [t for t in self.tracks if id(t) in keep]

    def expected_boxes(self) -> NDArray[np.float64]:
        """Where the confirmed, currently tracked objects should be in the next frame (N×4 xyxy)."""
        live = [t for t in self.tracks if t.state == State.TRACKED and t.hits >= 2]
        if not live:
            return np.zeros((0, 4))
        means = np.array([t.mean for t in live])
        return xyah_to_xyxy(means[:, :4] + means[:, 4:])

    def _predict(self) -> None:
        if not self.tracks:
            return
        means = np.array([t.mean for t in self.tracks])
        means[[t.state != State.TRACKED for t in self.tracks], 7] = 0.0  # a lost box keeps its size
        means, covariances = kalman.predict(means, np.array([t.covariance for t in self.tracks]))
        for track, mean, covariance in zip(self.tracks, means, covariances, strict=True):
            track.mean, track.covariance = mean, covariance

    def _correct(self, matched: list[Track]) -> None:
        if not matched:
            return
        measurements = xyxy_to_xyah(np.array([t.detection for t in matched]))
        means, covariances = kalman.update(
            np.array([t.mean for t in matched]), np.array([t.covariance for t in matched]), measurements
        )
        for track, mean, covariance in zip(matched, means, covariances, strict=True):
            track.mean, track.covariance = mean, covariance

    def _start(self, box: NDArray[np.float64], score: float, class_id: int) -> None:
        mean, covariance = kalman.initiate(xyxy_to_xyah(box))
        track = Track(
            0, class_id, score, mean, covariance, last_frame=self.frame, start_frame=self.frame, detection=box
        )
        self.tracks.append(track)
        if self.frame == 1:  # nothing to confirm against on the first frame
            track.hits = 2
            self._activate(track)

    def _activate(self, track: Track) -> None:
        """Ids go to confirmed tracks only, so one-frame flickers do not use them up."""
        track.state = State.TRACKED
        if not track.track_id:
            track.track_id = self._next_id
            self._next_id += 1
