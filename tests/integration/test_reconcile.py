"""Nothing stays stuck: Batch failures, dead letters and the sweep end jobs failed with a reason."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from forgesyte_core import wiring
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, LambdaContext, load_event, upload
from tests.integration.pipeline import ingest, job, submit
from tests.media_factory import MediaFiles


def reconcile(event: dict[str, object]) -> dict[str, object]:
    import reconcile_app

    result: dict[str, object] = reconcile_app.lambda_handler(event, LambdaContext())
    return result


def queued_job(aws: Aws, media: MediaFiles) -> str:
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    aws.drain("WorkQueue")
    return str(created["job_id"])


def batch_job(aws: Aws, media: MediaFiles, run_id: str) -> str:
    """A queued job whose dispatch recorded the Batch run ``run_id`` (the event file's jobId)."""
    job_id = queued_job(aws, media)
    wiring.job_store().set_fields(job_id, JobStatus.QUEUED, compute="batch", compute_run_id=run_id)
    return job_id


BATCH_RUN = load_event("batch-job-failed.json")["detail"]["jobId"]


def test_batch_failure_event_fails_the_job_with_the_containers_reason(aws: Aws, media: MediaFiles) -> None:
    job_id = batch_job(aws, media, BATCH_RUN)
    event = load_event("batch-job-failed.json")
    event["detail"]["parameters"]["job_id"] = job_id
    assert reconcile(event) == {"failed": 1}
    failed = job(job_id)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "batch_failed"
    assert failed["error_message"] == (
        "the AWS Batch job failed: OutOfMemoryError: Container killed due to memory usage; "
        "exit code 137 (killed: out of memory or stopped); Essential container in task exited"
    )
    assert reconcile(event) == {"failed": 0}, "a repeated event changes nothing"


def test_a_batch_event_for_another_run_leaves_the_job_alone(aws: Aws, media: MediaFiles) -> None:
    job_id = batch_job(aws, media, "a-newer-run")
    event = load_event("batch-job-failed.json")
    event["detail"]["parameters"]["job_id"] = job_id
    assert reconcile(event) == {"failed": 0}
    assert job(job_id)["status"] == "queued"
    wiring.job_store().transition(job_id, JobStatus.RUNNING, compute_run_id=BATCH_RUN, attempt=2)
    assert reconcile(event) == {"failed": 1}, "the run the job records is the event's (no attempts left)"


def test_batch_event_found_by_job_name_and_other_jobs_ignored(aws: Aws, media: MediaFiles) -> None:
    job_id = batch_job(aws, media, BATCH_RUN)
    event = load_event("batch-job-failed.json")
    del event["detail"]["parameters"]
    event["detail"]["jobName"] = f"forgesyte-{job_id}"
    assert reconcile(event) == {"failed": 1}
    foreign = copy.deepcopy(event)
    foreign["detail"]["jobName"] = "nightly-etl"
    assert reconcile(foreign) == {"failed": 0}


def test_dead_letter_fails_the_job(aws: Aws, media: MediaFiles) -> None:
    job_id = queued_job(aws, media)
    event = load_event("work-dead-letter.json")
    event["Records"][0]["body"] = f'{{"job_id": "{job_id}"}}'
    assert reconcile(event) == {"dead_letters": 1, "failed": 1}
    failed = job(job_id)
    assert failed["error_code"] == "runner_failed"
    assert "could not start the job" in failed["error_message"]  # it was never claimed: no run to retry


def test_sweep_ends_silent_runners_and_expired_uploads_only(aws: Aws, media: MediaFiles) -> None:
    store = wiring.job_store()
    stale = queued_job(aws, media)  # its one allowed run already used: it fails instead of retrying
    store.transition(stale, JobStatus.RUNNING, heartbeat_at=utcnow() - timedelta(hours=1), attempt=2)
    alive = queued_job(aws, media)
    store.transition(alive, JobStatus.RUNNING, heartbeat_at=utcnow())
    expired = submit("image", "text-reader", "analyze", b"x", "image/png")["job_id"]
    item = store._item_cls.get(expired)
    item.update(
        actions=[
            store._item_cls.created_at.set(utcnow() - timedelta(hours=2)),
            store._item_cls.upload_expires_at.set(utcnow() - timedelta(hours=1)),
        ]
    )
    fresh = submit("image", "text-reader", "analyze", b"x", "image/png")["job_id"]

    result = reconcile(load_event("schedule.json"))
    assert result == {
        "swept": {"running": [stale], "queued": [], "pending": [expired]},
        "failed": 2,
        "retried": [],
        "errors": {},
    }
    assert job(stale)["error_code"] == "timeout"
    assert job(expired)["error_code"] == "upload_expired"
    assert "submit the job again" in job(expired)["error_message"]
    assert job(alive)["status"] == "running"
    assert job(fresh)["status"] == "pending"


def test_sweep_fails_jobs_queued_too_long(aws: Aws, media: MediaFiles) -> None:
    job_id = queued_job(aws, media)
    report = wiring.reconciler().sweep(now=utcnow() + timedelta(hours=2))
    assert report.failed["queued"] == [job_id]
    assert job(job_id)["error_code"] == "dispatch_timeout"


def test_one_job_the_store_refuses_does_not_stop_the_sweep(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An expired job whose write fails (it was an oversized item) is reported; the others still end."""
    from forgesyte_core.jobs.store import JobStore

    store = wiring.job_store()
    expired = []
    for _ in range(4):
        job_id = submit("image", "text-reader", "analyze", b"x", "image/png")["job_id"]
        store._item_cls(job_id).update(
            actions=[
                store._item_cls.created_at.set(utcnow() - timedelta(hours=2)),
                store._item_cls.upload_expires_at.set(utcnow() - timedelta(hours=1)),
            ]
        )
        expired.append(job_id)
    poisoned = expired[1]
    real_transition = JobStore.transition

    def refusing(self: JobStore, job_id: str, target: JobStatus, **kwargs: object) -> object:
        if job_id == poisoned:
            raise RuntimeError("Item size has exceeded the maximum allowed size")
        return real_transition(self, job_id, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(JobStore, "transition", refusing)
    result = reconcile(load_event("schedule.json"))
    assert sorted(result["swept"]["pending"]) == sorted(set(expired) - {poisoned})  # type: ignore[index]
    assert list(result["errors"]) == [poisoned]  # type: ignore[call-overload]
    assert job(poisoned)["status"] == "pending"
    assert all(job(j)["status"] == "failed" for j in expired if j != poisoned)


def test_an_upload_event_in_the_dead_letter_queue_fails_its_job_with_the_true_reason(aws: Aws) -> None:
    """Ingest crashed on every try (a hostile file, say): the job ends now, not later as upload_expired."""
    import json

    created = submit("image", "text-reader", "analyze", b"x", "image/png")
    notification = json.loads(load_event("s3-upload-sqs.json")["Records"][0]["body"])
    notification["Records"][0]["s3"]["object"]["key"] = f"uploads/{created['job_id']}/input"
    event = load_event("work-dead-letter.json")
    event["Records"][0]["body"] = json.dumps(notification)
    assert reconcile(event) == {"dead_letters": 1, "failed": 1}
    failed = job(created["job_id"])
    assert failed["error_code"] == "ingest_failed"
    assert "crashed, timed out or ran out of memory" in failed["error_message"]
    event["Records"][0]["body"] = "not json"
    assert reconcile(event) == {"dead_letters": 1, "failed": 0}, "a broken dead letter is logged, not raised"
