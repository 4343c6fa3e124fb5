"""Segment plans, sample tables, sparse segment inputs and track stitching: pure, no AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from forgesyte_core.compute.segment_input import fetch_segment_input
from forgesyte_core.compute.segments import SegmentPolicy, plan_segments, stitch_mode
from forgesyte_core.errors import InvalidMedia
from forgesyte_core.jobs.model import Segment
from forgesyte_core.media.samples import read_sample_table
from forgesyte_core.media.source import FileSource, RangeCache
from forgesyte_tracking.stitch import TrackStitcher
from tests.media_factory import MediaFiles, ffmpeg, needs_ffmpeg, write_mp4v


def table_of(path: Path) -> Any:
    return read_sample_table(RangeCache(FileSource(path), max_requests=64))


def test_cuts_land_on_keyframes_cover_every_frame_once_and_lead_in_from_a_keyframe() -> None:
    keyframes = list(range(0, 1000, 12))
    segments = plan_segments(keyframes, 1000, 200.0, 60)
    # each cut aims at 200 frames past the one before, on the nearest keyframe
    assert [(s.start_frame, s.end_frame) for s in segments] == [
        (0, 204),
        (204, 408),
        (408, 612),
        (612, 816),
        (816, 1000),
    ]
    assert all(s.start_frame in keyframes for s in segments)
    for segment in segments[1:]:
        assert segment.decode_from in keyframes
        assert segment.start_frame - 60 - 12 < segment.decode_from <= segment.start_frame - 60


def test_no_segment_is_shorter_than_half_the_length_and_a_short_video_is_one_segment() -> None:
    assert len(plan_segments(range(0, 100, 10), 100, 200.0, 30)) == 1
    segments = plan_segments(range(0, 1000, 250), 1000, 300.0, 30)  # keyframes every 250 frames only
    assert [(s.start_frame, s.end_frame) for s in segments] == [(0, 250), (250, 500), (500, 750), (750, 1000)]
    assert all(s.frames >= 150 for s in segments)


def test_the_policy_cuts_only_long_videos_of_tools_that_say_so() -> None:
    tracks = {"segments": {"stitch": "tracks", "preroll_seconds": 1.0}}
    assert stitch_mode(tracks) == "tracks"
    assert stitch_mode({"segments": {"stitch": "frames"}}) == "frames"
    assert stitch_mode({}) is None
    assert stitch_mode({"segments": {"stitch": "somehow"}}) is None
    policy = SegmentPolicy(120.0, 60.0, overlap_frames=30, max_segments=600)
    segments = policy.plan(range(0, 108_000, 60), 108_000, 30.0, tracks)
    assert len(segments) == 60
    assert all(s.start_frame - s.decode_from >= 60 for s in segments[1:])  # overlap 30 + pre-roll 30
    capped = SegmentPolicy(120.0, 1.0, max_segments=50).plan(range(0, 108_000, 30), 108_000, 30.0, tracks)
    assert len(capped) <= 50


def test_sample_tables_of_an_opencv_mp4v_file(tmp_path: Path) -> None:
    table = table_of(write_mp4v(tmp_path / "a.mp4", frames=100))
    assert table.frames == 100
    assert table.keyframes == tuple(range(0, 100, 12))
    span = table.byte_span(0, 100)
    assert span.offset == table.offsets[0]
    assert span.end == table.offsets[-1] + table.sizes[-1]
    assert [kind for kind, _ in table.boxes] == ["ftyp", "free", "mdat", "moov"]


def test_a_fragmented_file_has_no_sample_tables_to_cut_by(media: MediaFiles) -> None:
    with pytest.raises(InvalidMedia, match="fragmented"):
        table_of(media.fragmented)


def decoded(path: Path, first: int, stop: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, first)
    frames = []
    for _ in range(first, stop):
        ok, frame = capture.read()
        assert ok
        frames.append(frame)
    capture.release()
    return frames


@needs_ffmpeg
def test_a_sparse_segment_input_decodes_exactly_its_frames_h264_with_b_frames_and_audio(tmp_path: Path) -> None:
    video = ffmpeg(
        tmp_path / "av.mp4",
        *("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine", "-t", "12"),
        *("-c:v", "libx264", "-g", "30", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac"),
    )
    segment = Segment(index=2, start_frame=150, end_frame=210, decode_from=120)
    part = tmp_path / "part.mp4"
    read = fetch_segment_input(FileSource(video), segment, part)
    assert read < 0.75 * video.stat().st_size
    assert part.stat().st_size == video.stat().st_size  # same offsets; the holes take no disk
    whole, sparse = decoded(video, 120, 210), decoded(part, 120, 210)
    assert all(np.array_equal(a, b) for a, b in zip(whole, sparse, strict=True))


def objects(*items: tuple[int, list[float]]) -> dict[str, Any]:
    return {"tracked_objects": [{"track_id": t, "class_id": 0, "xyxy": box} for t, box in items]}


def test_the_stitcher_keeps_one_id_across_a_cut_and_numbers_new_tracks_by_first_appearance() -> None:
    stitcher = TrackStitcher(overlap=4)
    first = [{"frame_index": i, "detections": objects((5, [i, 0, i + 10, 10]))} for i in range(0, 10)]
    # the second segment tracks frames 6..9 again (the overlap), its object under its own id 1, and a new one
    second = [
        {"frame_index": i, "detections": objects((1, [i, 0, i + 10, 10]), (2, [50, 50, 60, 60 + i]))}
        for i in range(6, 20)
    ]
    merged = list(stitcher.segment(first, 0, 10)) + list(stitcher.segment(second, 10, 20))
    assert [f["frame_index"] for f in merged] == list(range(20))
    ids = [[o["track_id"] for o in f["detections"]["tracked_objects"]] for f in merged]
    assert ids[:10] == [[1]] * 10
    assert ids[10:] == [[1, 2]] * 10
    assert stitcher.cuts == 1
    assert stitcher.matched == 1


def test_the_stitcher_does_not_join_tracks_that_only_touch_once() -> None:
    stitcher = TrackStitcher(overlap=4)
    first = [{"frame_index": i, "detections": objects((1, [0, 0, 10, 10]))} for i in range(10)]
    second = [
        {"frame_index": i, "detections": objects((1, [0, 0, 10, 10] if i == 6 else [100, 100, 110, 110]))}
        for i in range(6, 12)
    ]
    merged = list(stitcher.segment(first, 0, 10)) + list(stitcher.segment(second, 10, 12))
    assert merged[-1]["detections"]["tracked_objects"][0]["track_id"] == 2
