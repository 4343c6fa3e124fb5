"""Crashes and time limits at the pipeline's step boundaries end in a defined state, never a stuck job."""

from __future__ import annotations

import pytest

from forgesyte_core import wiring
from forgesyte_core.jobs.model import JobStatus
from tests.helpers import Aws, upload
from tests.integration.pipeline import ingest, job, run_work, submit
from tests.media_factory import MediaFiles


def queued_video_job(aws: Aws, media: MediaFiles) -> str:
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    return str(created["job_id"])


def margin_ms() -> int:
    return int(wiring.ingest().settings.lambda_deadline_margin_s * 1000)


def test_a_lambda_runner_at_its_time_limit_stops_the_plugin_and_says_why(aws: Aws, media: MediaFiles) -> None:
    job_id = queued_video_job(aws, media)
    run_work(aws, remaining_ms=margin_ms())  # the deadline is already inside the margin
    failed = job(job_id)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "timeout"
    assert "reached its time limit" in failed["error_message"]
    assert "BatchSubnetIds" in failed["error_message"]


def test_a_lambda_runner_with_time_left_completes(aws: Aws, media: MediaFiles) -> None:
    job_id = queued_video_job(aws, media)
    run_work(aws, remaining_ms=margin_ms() + 60_000)
    assert job(job_id)["status"] == "completed"


def test_a_video_too_long_for_lambda_without_batch_fails_at_ingest(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _reset

    monkeypatch.setenv("LAMBDA_MAX_VIDEO_SECONDS", "1")  # the test video is 1.2 s
    _reset()
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    failed = job(created["job_id"])
    assert failed["error_code"] == "too_long_for_lambda"
    assert "deploy with AWS Batch" in failed["error_message"]
    assert aws.drain("WorkQueue") == []


def test_ingest_dying_between_the_queued_write_and_the_launch_is_recovered_by_the_redelivered_event(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forgesyte_core.compute.dispatch import WorkQueueLauncher

    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    event = aws.drain("UploadQueue")

    def crash(self: WorkQueueLauncher, job: object) -> str:
        raise SystemExit("the ingest process died")  # not an Exception: nothing in ingest catches it

    with monkeypatch.context() as patched:
        patched.setattr(WorkQueueLauncher, "launch", crash)
        with pytest.raises(SystemExit):
            _ingest_messages(event)
    assert job(created["job_id"])["status"] == "queued"
    assert aws.drain("WorkQueue") == []
    _ingest_messages(event)  # SQS delivers the unacknowledged event again
    assert len(aws.drain("WorkQueue")) == 1
    queued = wiring.job_store().get(created["job_id"])
    assert queued.status == JobStatus.QUEUED
    assert queued.compute_run_id


def _ingest_messages(messages: list[dict[str, object]]) -> object:
    from tests.helpers import LambdaContext, sqs_event

    import ingest_app

    return ingest_app.lambda_handler(sqs_event(messages), LambdaContext())  # type: ignore[arg-type]
