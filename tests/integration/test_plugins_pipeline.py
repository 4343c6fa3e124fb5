"""The shipped plugins through the whole pipeline: submit, presigned upload, ingest, runner, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import pytest

from forgesyte_core import wiring
from forgesyte_core.jobs.model import Job
from forgesyte_core.jobs.store import utcnow
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.helpers import Aws, call_api, upload
from tests.integration.pipeline import ingest, job, results, run_video, run_work, submit
from tests.plugins.tiny_yolo import candidate, write_tiny_yolo


@pytest.fixture
def shipped_catalog(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the packaged catalog (the shipped plugins) instead of the test plugins'."""
    from tests.conftest import _reset

    monkeypatch.delenv("PLUGIN_CATALOG_PATH")
    _reset()


def test_motion_tracker_end_to_end(aws: Aws, shipped_catalog: None, tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(video)
    done = run_video(aws, video.read_bytes(), plugin_id="motion-tracker", tool="video_track")
    assert done["status"] == "completed", done
    assert done["summary"]["frame_count"] == 90
    assert done["summary"]["classes"] == ["motion"]
    assert done["summary"]["detection_count"] > 90
    document = results(aws, done["job_id"])
    assert document["total_frames"] == 90
    assert len(document["frames"]) == 90
    objects = [o for f in document["frames"] for o in f["detections"]["tracked_objects"]]
    assert {o["track_id"] for o in objects} >= {1, 2}


def test_ocr_image_job_end_to_end(aws: Aws, shipped_catalog: None) -> None:
    text, _, image = next(rendered_lines())
    data = cv2.imencode(".png", image)[1].tobytes()
    created = submit("image", "rapidocr", "analyze", data, "image/png")
    upload(created, data)
    ingest(aws)
    run_work(aws)
    assert job(created["job_id"])["status"] == "completed"
    assert results(aws, created["job_id"])["results"]["text"] == text


def test_yolo_detect_with_a_model_named_in_options(
    aws: Aws, shipped_catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _reset

    monkeypatch.setenv("MODEL_LOCATIONS", f"{tmp_path}/")
    _reset()
    model = write_tiny_yolo(tmp_path / "tiny.onnx", [candidate(32, 32, 20, 10, 0, 0.9, 1)], {0: "widget"})
    data = cv2.imencode(".jpg", next(rendered_lines())[2])[1].tobytes()
    created = submit("image", "yolo-onnx", "detect", data, "image/jpeg", {"model": str(model)})
    upload(created, data)
    ingest(aws)
    run_work(aws)
    done = job(created["job_id"])
    assert done["status"] == "completed"
    assert done["summary"]["classes"] == ["widget"]


def test_yolo_without_a_model_is_refused_at_submit_with_what_to_configure(aws: Aws, shipped_catalog: None) -> None:
    """The image bakes no model: the catalog says so, and submit refuses (422) instead of failing later."""
    _, plugins, _ = call_api("GET", "/v1/plugins")
    yolo = next(p for p in plugins["plugins"] if p["id"] == "yolo-onnx")
    assert set(yolo["unavailable_tools"]) == {"detect", "video_track"}
    status, body, _ = call_api(
        "POST",
        "/v1/image/submit",
        {"plugin_id": "yolo-onnx", "tool": "detect", "content_type": "image/png", "content_length": 10},
    )
    assert status == 422
    assert "cannot run as deployed: no YOLO model configured: pass options.model" in body["detail"]
    assert "YOLO_MODEL_FILE" in body["detail"]
    _, plugins, _ = call_api("GET", "/v1/plugins")
    assert next(p for p in plugins["plugins"] if p["id"] == "motion-tracker")["unavailable_tools"] == {}


def test_large_results_stream_through_a_multipart_upload(aws: Aws) -> None:
    runner = wiring.runner()
    now = utcnow()
    the_job = Job("11111111-1111-4111-8111-111111111111", "p", "t", "video", "k", "video/mp4", 1, now, now, now, now)
    counted = 0

    def frames() -> Any:
        nonlocal counted
        for index in range(70_000):
            counted += 1
            yield {
                "frame_index": index,
                "detections": {
                    "tracked_objects": [
                        {"track_id": 1, "class": "car", "xyxy": [1.5, 2.5, 3.5, 4.5], "center": [2.5, 3.5]}
                    ]
                },
            }

    work = Path(runner.work_dir) / "large"
    work.mkdir()
    summary = runner._store_results(the_job, {"total_frames": 70_000, "frames": frames()}, work)
    head = aws.s3.head_object(Bucket=aws.bucket, Key=f"results/{the_job.job_id}.json")
    assert head["ContentLength"] > 8 * 1024**2
    assert "-" in head["ETag"], "a multipart upload's ETag names its part count"
    document = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=f"results/{the_job.job_id}.json")["Body"].read())
    assert len(document["frames"]) == counted == 70_000
    assert summary.detection_count == 70_000
