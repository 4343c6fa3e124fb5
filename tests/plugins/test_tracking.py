"""The ByteTrack-style tracker on hand-made detections."""

from __future__ import annotations

import numpy as np
import pytest

from forgesyte_tracking import ByteTracker
from forgesyte_tracking.geometry import iou_matrix, xyah_to_xyxy, xyxy_to_xyah


def step(
    tracker: ByteTracker, boxes: list[list[float]], scores: list[float], classes: list[int] | None = None
) -> dict[int, list[float]]:
    tracks = tracker.update(
        np.array(boxes, float).reshape(-1, 4), np.array(scores, float), np.array(classes or [0] * len(boxes))
    )
    return {t.track_id: t.xyxy.tolist() for t in tracks}


def test_iou_matrix_and_box_conversions() -> None:
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], float)
    b = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    assert iou_matrix(a, b) == pytest.approx(np.array([[1.0, 0.0], [25 / 175, 0.0]]))
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)
    assert xyah_to_xyxy(xyxy_to_xyah(a)) == pytest.approx(a)


def test_two_objects_keep_their_ids_while_moving() -> None:
    tracker = ByteTracker()
    seen = []
    for t in range(20):
        seen.append(step(tracker, [[10 + 3 * t, 10, 40 + 3 * t, 40], [200 - 3 * t, 100, 230 - 3 * t, 130]], [0.9, 0.8]))
    assert all(set(frame) == {1, 2} for frame in seen)
    assert seen[-1][1][0] == pytest.approx(67)
    assert seen[-1][2][0] == pytest.approx(143)


def test_new_tracks_need_a_second_hit_after_the_first_frame() -> None:
    tracker = ByteTracker()
    assert step(tracker, [], []) == {}
    assert step(tracker, [[0, 0, 10, 10]], [0.9]) == {}
    assert list(step(tracker, [[1, 0, 11, 10]], [0.9])) == [1]
    assert step(tracker, [[100, 100, 110, 110]], [0.9]) == {}  # a one-frame flicker uses no id
    assert list(step(tracker, [[100, 100, 110, 110]], [0.9])) == [2]


def test_a_track_survives_a_gap_shorter_than_its_buffer() -> None:
    tracker = ByteTracker(lost_buffer_frames=10)
    for t in range(12):
        step(tracker, [[10 * t, 0, 10 * t + 40, 40]], [0.9])
    for _ in range(5):
        assert step(tracker, [], []) == {}
    # reappears where it would be had it kept its speed
    assert list(step(tracker, [[170, 0, 210, 40]], [0.9])) == [1]


def test_a_track_is_forgotten_after_its_buffer() -> None:
    tracker = ByteTracker(lost_buffer_frames=3)
    for _t in range(3):
        step(tracker, [[0, 0, 20, 20]], [0.9])
    for _ in range(5):
        step(tracker, [], [])
    step(tracker, [[0, 0, 20, 20]], [0.9])
    assert list(step(tracker, [[0, 0, 20, 20]], [0.9])) == [2]


def test_low_confidence_detections_keep_an_occluded_track() -> None:
    tracker = ByteTracker()
    for _ in range(3):
        step(tracker, [[0, 0, 20, 20]], [0.9])
    assert list(step(tracker, [[0, 0, 20, 20]], [0.3])) == [1]  # second association
    fresh = ByteTracker()
    step(fresh, [[0, 0, 20, 20]], [0.3])
    assert step(fresh, [[0, 0, 20, 20]], [0.3]) == {}  # low scores never start tracks


def test_detections_only_match_tracks_of_their_class() -> None:
    tracker = ByteTracker()
    for _ in range(3):
        step(tracker, [[0, 0, 20, 20]], [0.9], [0])
    step(tracker, [[0, 0, 20, 20]], [0.9], [1])
    assert list(step(tracker, [[0, 0, 20, 20]], [0.9], [1])) == [2]


def test_two_tracks_on_one_object_become_one_and_crossing_objects_stay_two() -> None:
    tracker = ByteTracker()
    box = np.array([[100.0, 100.0, 140.0, 140.0]])
    tracker.update(box, np.array([0.9]), np.array([0]))
    for step in range(1, 6):  # the same object detected twice each frame, as a feedback loop would
        moved = box + np.array([step * 2.0, 0, step * 2.0, 0])
        tracker.update(np.vstack([moved, moved + 0.5]), np.array([0.9, 0.9]), np.array([0, 0]))
    assert len([t for t in tracker.tracks if t.track_id]) == 1

    crossing = ByteTracker()
    for step in range(30):  # head-on: the boxes coincide for a frame, the motions never do
        left, right = 20.0 + 6 * step, 200.0 - 6 * step
        boxes = np.array([[left, 100, left + 40, 140], [right, 100, right + 40, 140]])
        crossing.update(boxes, np.array([0.9, 0.9]), np.array([0, 0]))
    assert sorted(t.track_id for t in crossing.tracks) == [1, 2]


def test_the_tracker_keeps_at_most_max_tracks_forgetting_the_longest_lost_first() -> None:
    rng = np.random.default_rng(1)
    tracker = ByteTracker(max_tracks=50)
    for _ in range(40):  # 30 new objects a frame, each seen once or twice: a flood of short tracks
        corners = rng.uniform(0, 2000, (30, 2))
        boxes = np.hstack([corners, corners + 20])
        tracker.update(boxes, np.full(30, 0.9), np.zeros(30, np.int64))
        assert len(tracker.tracks) <= 50
    steady = np.array([[5.0, 5.0, 25.0, 25.0]])
    for _ in range(3):
        seen = tracker.update(steady, np.array([0.9]), np.array([0]))
    assert len(seen) == 1  # what is tracked now is never what the cap drops
