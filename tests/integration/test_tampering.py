"""What the runner reads is exactly what ingest validated, and options cannot point it at other files."""

from __future__ import annotations

import pytest

from forgesyte_core import wiring
from forgesyte_core.errors import InputChanged
from tests.helpers import Aws, upload
from tests.integration.pipeline import ingest, job, run_work, submit
from tests.media_factory import MediaFiles


def test_reusing_the_upload_form_after_validation_fails_the_job(aws: Aws, media: MediaFiles) -> None:
    """The presigned POST is valid until it expires: a second POST replaces the validated file."""
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    assert job(created["job_id"])["status"] == "queued"
    upload(created, bytes(len(data)))  # the same form, other bytes of the same size
    ingest(aws)
    failed = job(created["job_id"])
    assert failed["status"] == "failed"
    assert failed["error_code"] == "input_changed"
    assert "was replaced after it was validated" in failed["error_message"]
    run_work(aws)
    assert job(created["job_id"])["error_code"] == "input_changed"  # the runner never ran it


def test_the_runner_reads_only_the_validated_version(aws: Aws, media: MediaFiles) -> None:
    """The swap's own event has not arrived yet: the runner's conditional read still refuses it."""
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    aws.s3.put_object(Bucket=aws.bucket, Key=f"uploads/{created['job_id']}/input", Body=b"random bytes")
    run_work(aws)
    failed = job(created["job_id"])
    assert failed["status"] == "failed"
    assert failed["error_code"] == "input_changed"


def test_an_image_swapped_before_the_run_is_refused(aws: Aws, media: MediaFiles) -> None:
    data = media.image("png").read_bytes()
    created = submit("image", "text-reader", "analyze", data, "image/png")
    upload(created, data)
    ingest(aws)
    aws.s3.put_object(Bucket=aws.bucket, Key=f"uploads/{created['job_id']}/input", Body=data + b"\0")
    run_work(aws)
    assert job(created["job_id"])["error_code"] == "input_changed"


def test_a_replacement_during_the_probe_is_caught_by_the_ranged_reads(aws: Aws, media: MediaFiles) -> None:
    key = "uploads/00000000-0000-4000-8000-000000000000/input"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=media.mp4v.read_bytes())
    head = wiring.storage().head(key)
    assert head is not None
    source = wiring.storage().source(key, int(head["ContentLength"]), str(head["ETag"]))
    assert source.read(0, 8)
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=b"x" * 100)
    with pytest.raises(InputChanged):
        source.read(0, 8)


@pytest.fixture
def yolo_catalog(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import _reset

    monkeypatch.delenv("PLUGIN_CATALOG_PATH")  # the shipped plugins' catalog: yolo-onnx's file_options
    _reset()


@pytest.mark.parametrize(
    "model",
    [
        "/etc/hostname",
        "/opt/forgesyte/models/../../../etc/hostname",
        "/opt/forgesyte/models-evil/x.onnx",
        "s3://test-mediabucket/uploads/00000000-0000-4000-8000-000000000000/input",
        "s3://other-bucket/models/x.onnx",
        "s3://test-mediabucket/models/../uploads/x",
        "relative/model.onnx",
        ["/opt/forgesyte/models/x.onnx"],
    ],
)
def test_a_model_outside_the_allowed_locations_is_refused_at_submit(
    yolo_catalog: None, aws: Aws, model: object
) -> None:
    from tests.helpers import call_api

    body = {"plugin_id": "yolo-onnx", "tool": "detect", "content_type": "image/png", "content_length": 10}
    status, payload, _ = call_api("POST", "/v1/image/submit", {**body, "options": {"model": model}})
    assert status == 422, payload
    assert "options.model must be a file under the allowed model locations" in payload["detail"]
    allowed = {**body, "options": {"model": f"s3://{aws.bucket}/models/yolo11n.onnx"}}
    assert call_api("POST", "/v1/image/submit", allowed)[0] == 201


def test_the_runner_refuses_a_model_outside_the_allowed_locations_too(
    yolo_catalog: None, aws: Aws, media: MediaFiles
) -> None:
    """A job written past the API (an old job, a stale catalog) still cannot point the plugin at a file."""
    from forgesyte_core.jobs.model import JobStatus

    data = media.image("png").read_bytes()
    created = submit("image", "yolo-onnx", "detect", data, "image/png", {"model": f"s3://{aws.bucket}/models/m.onnx"})
    store = wiring.job_store()
    store._item_cls(created["job_id"]).update(actions=[store._item_cls.options.set({"model": "/etc/hostname"})])
    upload(created, data)
    ingest(aws)
    run_work(aws)
    failed = job(created["job_id"])
    assert failed["status"] == str(JobStatus.FAILED)
    assert failed["error_code"] == "forbidden_location"
