"""motion-tracker on synthetic scenes with ground truth, scored with py-motmetrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgesyte_dev.motscore import score
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_motion.detector import MotionOptions
from forgesyte_motion.plugin import Plugin

# make bench measures the full 640x360 scene against MOTA 0.90 / IDF1 0.85; this floor guards
# against regressions without re-running the benchmark.
MOTA_FLOOR, IDF1_FLOOR = 0.85, 0.80


def test_tracking_quality_on_crossing_stopping_and_hidden_objects(tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    truth = crossing_scene(seconds=8).write(video)
    progress: list[tuple[int, int]] = []
    result = Plugin().run_tool(
        "video_track",
        {"video_path": str(video), "options": {}, "progress_callback": lambda c, t: progress.append((c, t))},
    )
    frames = list(result["frames"])
    assert result["total_frames"] == len(frames) == 240
    metrics = score(truth, frames)
    assert metrics["mota"] >= MOTA_FLOOR, metrics
    assert metrics["idf1"] >= IDF1_FLOOR, metrics
    assert progress[-1] == (240, 240)
    sample = next(o for f in frames for o in f["detections"]["tracked_objects"])
    assert set(sample) == {"track_id", "class_id", "class", "confidence", "xyxy", "center"}
    assert sample["class"] == "motion"
    assert 0.5 <= sample["confidence"] <= 1.0


def test_results_are_generated_lazily(tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    crossing_scene(seconds=1).write(video)
    result = Plugin().run_tool("video_track", {"video_path": str(video), "options": {}})
    assert not isinstance(result["frames"], list)
    assert next(iter(result["frames"]))["frame_index"] == 0


def test_options_are_validated() -> None:
    assert MotionOptions.from_options({"history": "200", "unknown": 1}).history == 200
    with pytest.raises(ValueError, match="option 'work_width' must be a int"):
        MotionOptions.from_options({"work_width": "wide"})
    with pytest.raises(ValueError, match="Unknown tool: detect"):
        Plugin().run_tool("detect", {"image_bytes": b""})
