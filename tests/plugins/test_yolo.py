"""yolo-tracker: letterboxing, decoding, class-aware NMS and the mapping back to image pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from forgesyte_yolo.model import YoloModel, parse_names
from forgesyte_yolo.plugin import Plugin
from forgesyte_yolo.source import local_model_path, model_location
from tests.media_factory import write_mp4v
from tests.plugins.tiny_yolo import candidate, write_tiny_yolo

NAMES = {0: "person", 1: "car"}


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return write_tiny_yolo(
        tmp_path / "tiny.onnx",
        [
            candidate(32, 32, 20, 10, 0, 0.90, 2),  # a person
            candidate(33, 32, 20, 10, 0, 0.80, 2),  # the same person again: NMS drops it
            candidate(32, 33, 20, 10, 1, 0.70, 2),  # a car over the person: another class, kept
            candidate(10, 10, 4, 4, 1, 0.05, 2),  # under the confidence threshold
        ],
        NAMES,
    )


def test_names_and_input_size_come_from_the_export(tiny_model: Path) -> None:
    model = YoloModel(str(tiny_model))
    assert model.names == NAMES
    assert model.input_size == (64, 64)
    assert model.provider == "CPUExecutionProvider"
    assert parse_names({"names": "{0: '0', 1: 'bike'}"}, 2) == {0: "0", 1: "bike"}
    assert parse_names({}, 3) == {0: "0", 1: "1", 2: "2"}


def test_letterbox_pads_the_short_side_and_keeps_the_aspect(tiny_model: Path) -> None:
    model = YoloModel(str(tiny_model))
    frame = np.zeros((64, 128, 3), np.uint8)
    frame[:, :, 2] = 255  # red in BGR
    blob, box = model.letterbox(frame)
    assert blob.shape == (1, 3, 64, 64)
    assert blob.dtype == np.float32
    assert (box.ratio, box.pad_x, box.pad_y) == (0.5, 0, 16)
    assert blob[0, 0, 32, 32] == pytest.approx(1.0)  # RGB order: red first
    assert blob[0, 0, 5, 32] == pytest.approx(114 / 255)  # padding


def test_decoding_nms_and_mapping_back(tiny_model: Path) -> None:
    model = YoloModel(str(tiny_model))
    boxes, scores, classes = model.detect(np.zeros((64, 128, 3), np.uint8), conf=0.25, iou=0.45)
    assert classes.tolist() == [0, 1]
    assert scores.tolist() == pytest.approx([0.9, 0.7])
    # (32±10, 32±5) in the 64×64 input; image = (input - (0, 16)) / 0.5
    assert boxes[0].tolist() == pytest.approx([44, 22, 84, 42])
    assert boxes[1].tolist() == pytest.approx([44, 24, 84, 44])


def test_boxes_are_clipped_to_the_image(tmp_path: Path) -> None:
    path = write_tiny_yolo(tmp_path / "edge.onnx", [candidate(2, 60, 20, 20, 0, 0.9, 1)], {0: "x"})
    boxes, _, _ = YoloModel(str(path)).detect(np.zeros((64, 64, 3), np.uint8))
    assert boxes[0].tolist() == pytest.approx([0, 50, 12, 64])


def test_detect_tool_reports_classes_by_name(tiny_model: Path) -> None:
    image = cv2.imencode(".png", np.zeros((64, 128, 3), np.uint8))[1].tobytes()
    result = Plugin().run_tool("detect", {"image_bytes": image, "options": {"model": str(tiny_model)}})
    assert [d["class"] for d in result["detections"]] == ["person", "car"]
    assert result["image_size"] == {"width": 128, "height": 64}


def test_video_track_gives_stable_ids(tiny_model: Path, tmp_path: Path) -> None:
    video = write_mp4v(tmp_path / "clip.mp4", frames=12, size=(128, 64))
    calls: list[tuple[int, int]] = []
    result = Plugin().run_tool(
        "video_track",
        {
            "video_path": str(video),
            "device": "cpu",
            "options": {"model": str(tiny_model)},
            "progress_callback": lambda current, total: calls.append((current, total)),
        },
    )
    frames = list(result["frames"])
    assert result["total_frames"] == 12
    assert len(frames) == 12
    ids = {(o["track_id"], o["class"]) for f in frames for o in f["detections"]["tracked_objects"]}
    assert ids == {(1, "person"), (2, "car")}
    assert calls[-1] == (12, 12)


def test_without_a_model_the_message_says_how_to_provide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOLO_MODEL", raising=False)
    with pytest.raises(ValueError, match=r"pass options\.model \(the path or s3:// URI"):
        Plugin().run_tool("detect", {"image_bytes": b"x", "options": {}})
    with pytest.raises(ValueError, match=r"YOLO model not found at /nope\.onnx"):
        local_model_path(model_location({"model": "/nope.onnx"}))


def test_tools_are_unavailable_until_a_default_model_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOLO_MODEL", raising=False)
    gaps = Plugin().unavailable_tools()
    assert set(gaps) == {"detect", "video_track"}
    assert gaps["detect"]["unless_options"] == ["model"]
    assert "YOLO_MODEL" in gaps["detect"]["reason"]
    monkeypatch.setenv("YOLO_MODEL", "s3://models/yolo11n.onnx")
    assert Plugin().unavailable_tools() == {}


def test_model_from_s3_is_downloaded_once(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    from forgesyte_yolo import source

    monkeypatch.setattr(source, "CACHE_DIR", tmp_path / "cache")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        s3.upload_file(str(tiny_model), "models", "yolo/tiny.onnx")
        monkeypatch.setenv("YOLO_MODEL", "s3://models/yolo/tiny.onnx")
        path = local_model_path(model_location({}), s3)
        assert Path(path).read_bytes() == tiny_model.read_bytes()
        s3.delete_object(Bucket="models", Key="yolo/tiny.onnx")
        assert local_model_path(model_location({}), s3) == path  # cached, no second download


def test_unknown_tool_and_missing_arguments() -> None:
    with pytest.raises(ValueError, match="Unknown tool: segment"):
        Plugin().run_tool("segment", {})
    with pytest.raises(ValueError, match="video_track needs video_path"):
        Plugin().run_tool("video_track", {"image_bytes": b""})
