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
