"""Serialising what ForgeSyte plugins return, streaming frames, and the summary."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from forgesyte_core.compute.results import reported_error, to_jsonable, unwrap, write_image_results, write_video_results
from forgesyte_core.errors import PluginFailed


class Box(BaseModel):
    label: str
    score: float


@dataclass
class Point:
    x: int
    y: int


def test_to_jsonable_handles_numpy_pydantic_dataclasses_and_non_finite() -> None:
    value = {
        "arr": np.array([[1, 2], [3, 4]], dtype=np.int32),
        "scalar": np.float32(0.5),
        "count": np.int64(3),
        "model": Box(label="car", score=0.9),
        "point": Point(1, 2),
        "nan": float("nan"),
        "tuple": (1, 2),
        "raw": b"abc",
    }
    assert to_jsonable(value) == {
        "arr": [[1, 2], [3, 4]],
        "scalar": 0.5,
        "count": 3,
        "model": {"label": "car", "score": 0.9},
        "point": {"x": 1, "y": 2},
        "nan": None,
        "tuple": [1, 2],
        "raw": "<3 bytes>",
    }


def test_to_jsonable_refuses_what_it_cannot_represent() -> None:
    with pytest.raises(TypeError, match="cannot serialise a object"):
        to_jsonable(object())


def test_unwrap_forgesyte_wrapper() -> None:
    assert unwrap({"success": True, "result": {"a": 1}}) == {"a": 1}
    assert unwrap({"success": True, "value": 2}) == {"success": True, "value": 2}
    with pytest.raises(PluginFailed, match="no frames decoded"):
        unwrap({"success": False, "error": "no frames decoded"})


@dataclass
class DataclassResult:
    text: str
    error: str | None = None


class PydanticResult(BaseModel):
    text: str
    error: str | None = None


@pytest.mark.parametrize(
    ("result", "error"),
    [
        ({"text": "", "error": "eng.traineddata not found"}, "eng.traineddata not found"),
        ({"success": False}, "the plugin reported success: false without saying why"),
        ({"success": False, "message": "no faces found"}, "no faces found"),
        ({"error": {"message": "model missing", "code": 3}}, "model missing"),
        ({"error": {"code": 3}}, '{"code": 3}'),
        (DataclassResult("", "bad input"), "bad input"),
        (PydanticResult(text="", error="decoder failed"), "decoder failed"),
        ({"text": "ok", "error": None}, None),
        ({"text": "ok", "error": ""}, None),
        ({"success": True, "result": {"error": "nested results are the plugin's data"}}, None),
        (PydanticResult(text="ok"), None),
        ([1, 2], None),
    ],
)
def test_errors_a_plugin_reports_in_its_result_are_found(result: Any, error: str | None) -> None:
    assert reported_error(result) == error
    if error is None:
        unwrap(result)
    else:
        with pytest.raises(PluginFailed, match="the plugin reported an error: "):
            unwrap(result)


def _frames(count: int) -> Any:
    for index in range(count):
        objects = [{"track_id": index % 3, "class": "person" if index % 2 else "car", "xyxy": np.zeros(4)}]
        yield {"frame_index": index, "detections": {"tracked_objects": objects}}


def test_video_results_stream_an_iterator_of_frames() -> None:
    out = io.StringIO()
    summary = write_video_results(
        out, {"job_id": "j", "status": "completed"}, {"total_frames": 5, "fps": 25.0, "frames": _frames(5)}
    )
    document = json.loads(out.getvalue())
    assert document["job_id"] == "j"
    assert document["total_frames"] == 5
    assert len(document["frames"]) == 5
    assert document["frames"][4]["detections"]["tracked_objects"][0]["xyxy"] == [0.0, 0.0, 0.0, 0.0]
    assert document["frames_decoded"] == 5
    assert summary.to_dict() == {
        "frame_count": 5,
        "detection_count": 5,
        "frames_decoded": 5,
        "track_count": 3,
        "classes": ["car", "person"],
    }


def test_video_results_without_frames_and_from_a_pydantic_model() -> None:
    class VideoResult(BaseModel):
        total_frames: int
        frames: list[dict[str, Any]]

    out = io.StringIO()
    summary = write_video_results(out, {}, VideoResult(total_frames=2, frames=[{"frame_index": 0, "detections": []}]))
    assert json.loads(out.getvalue()) == {
        "total_frames": 2,
        "frames": [{"frame_index": 0, "detections": []}],
        "frames_decoded": 1,  # the header said 2; one frame is what the plugin read
    }
    assert summary.frame_count == 2
    assert summary.frames_decoded == 1
    out = io.StringIO()
    write_video_results(out, {"job_id": "j"}, {"motion": True})
    assert json.loads(out.getvalue()) == {"job_id": "j", "motion": True, "frames": [], "frames_decoded": 0}


def test_image_results_follow_forgesyte_shape() -> None:
    out = io.StringIO()
    summary = write_image_results(
        out, {"plugin_id": "rapidocr", "tool": "analyze"}, {"detections": [{"label": "cat"}, {"label": "dog"}]}
    )
    assert json.loads(out.getvalue()) == {
        "plugin_id": "rapidocr",
        "tool": "analyze",
        "results": {"detections": [{"label": "cat"}, {"label": "dog"}]},
    }
    assert summary.to_dict() == {"frame_count": 1, "detection_count": 2, "classes": ["cat", "dog"]}
