"""yolo-onnx: letterboxing, decoding, class-aware NMS and the mapping back to image pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from forgesyte_yolo.model import YoloModel, parse_names
from forgesyte_yolo.plugin import Plugin, pipelined_detector
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


def reference_letterbox(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The straightforward way (a fresh padded canvas, then cv2.dnn.blobFromImage), to compare against."""
    height, width = frame.shape[:2]
    ratio = min(size[0] / height, size[1] / width)
    new_w, new_h = round(width * ratio), round(height * ratio)
    canvas = np.full((*size, 3), 114, np.uint8)
    pad_x, pad_y = (size[1] - new_w) // 2, (size[0] - new_h) // 2
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(frame, (new_w, new_h))
    return np.asarray(cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True))


def test_the_preallocated_one_pass_letterbox_equals_blob_from_image(tiny_model: Path) -> None:
    model = YoloModel(str(tiny_model))
    rng = np.random.default_rng(5)
    for shape in [(48, 160, 3), (120, 90, 3), (64, 64, 3)]:
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        blob, _ = model.letterbox(frame)
        assert np.abs(blob - reference_letterbox(frame, (64, 64))).max() < 1e-6
        again, _ = model.letterbox(frame[::-1].copy())  # the blob is reused: its padding must not go stale
        assert np.abs(again - reference_letterbox(frame[::-1].copy(), (64, 64))).max() < 1e-6


def test_a_dynamic_export_gets_the_smallest_stride_multiple_rectangle(tmp_path: Path) -> None:
    path = write_tiny_yolo(tmp_path / "dyn.onnx", [candidate(320, 192, 40, 40, 0, 0.9, 1)], {0: "x"}, 640, True)
    model = YoloModel(str(path))
    assert model.dynamic
    assert model.input_size_for((360, 640, 3)) == (384, 640)  # 16:9 → 384×640, not 640×640
    assert model.input_size_for((1080, 1920, 3)) == (384, 640)
    assert model.input_size_for((640, 480, 3)) == (640, 480)
    blob, box = model.letterbox(np.zeros((360, 640, 3), np.uint8))
    assert blob.shape == (1, 3, 384, 640)
    assert (box.ratio, box.pad_x, box.pad_y) == (1.0, 0, 12)
    boxes, _, _ = model.detect(np.zeros((360, 640, 3), np.uint8))
    assert boxes[0].tolist() == pytest.approx([300, 160, 340, 200])  # (320, 192) less the 12 px of padding
    video = write_mp4v(tmp_path / "wide.mp4", frames=3, size=(640, 360))
    result = Plugin().run_tool("video_track", {"video_path": str(video), "options": {"model": str(path)}})
    assert result["model"]["input_size"] == [384, 640]  # what this video ran at, not the nominal 640×640
    assert len(list(result["frames"])) == 3


def test_device_inputs_through_io_binding_give_the_same_output(tiny_model: Path) -> None:
    """The GPU path (the reader thread hands inference an OrtValue, bound with IO binding), run on the CPU."""
    model = YoloModel(str(tiny_model))
    blob, _ = model.letterbox(np.zeros((64, 128, 3), np.uint8))
    plain = model.infer(blob)
    model.device_inputs = True
    bound = model.to_device(blob)
    assert not isinstance(bound, np.ndarray)
    assert np.array_equal(model.infer(bound), plain)


def test_the_pipelined_video_track_matches_frame_by_frame_detection(tiny_model: Path, tmp_path: Path) -> None:
    video = write_mp4v(tmp_path / "clip.mp4", frames=20, size=(128, 64))
    model = YoloModel(str(tiny_model))
    piped = pipelined_detector(model, 0.1, 0.7, 300)
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    expected = [model.detect(f, 0.1, 0.7, 300) for f in frames]
    got = list(piped(iter(frames), 25.0))
    assert len(got) == len(expected) == 20
    for (b1, s1, c1), (b2, s2, c2) in zip(got, expected, strict=True):
        assert np.allclose(b1, b2)
        assert np.allclose(s1, s2)
        assert np.array_equal(c1, c2)
