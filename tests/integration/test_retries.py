"""A run that dies is retried from the queue, up to MAX_ATTEMPTS, and never runs beside its retry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forgesyte_core import wiring
from forgesyte_core.errors import TransitionConflict
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, load_event, upload
from tests.integration.pipeline import ingest, job, run_work, submit
from tests.media_factory import MediaFiles


def dead_run(aws: Aws, media: MediaFiles, attempt: int = 1) -> str:
    """A job whose run ``dead-run`` claimed it (attempt ``attempt``) and then went silent an hour ago."""
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    aws.drain("WorkQueue")
    wiring.job_store().transition(
        created["job_id"],
        JobStatus.RUNNING,
        compute_run_id="dead-run",
        attempt=attempt,
        heartbeat_at=utcnow() - timedelta(hours=1),
    )
    return str(created["job_id"])


def test_a_silent_run_is_retried_and_the_retry_completes(aws: Aws, media: MediaFiles) -> None:
    job_id = dead_run(aws, media)
    report = wiring.reconciler().sweep()
    assert report.retried == [job_id]
    retried = job(job_id)
    assert retried["status"] == "queued"
    assert "retrying (attempt 2 of 2)" in retried["error_message"]
    run_work(aws)  # the relaunched work message
    done = job(job_id)
    assert done["status"] == "completed"
    assert done["attempt"] == 2


def test_the_dead_run_cannot_write_once_its_job_was_retried(aws: Aws, media: MediaFiles) -> None:
    """It was only slow: when it wakes, its heartbeat and its result both lose to the new run."""
    job_id = dead_run(aws, media)
    wiring.reconciler().sweep()
    store = wiring.job_store()
    store.transition(job_id, JobStatus.RUNNING, compute_run_id="new-run", heartbeat_at=utcnow())
    with pytest.raises(TransitionConflict):
        store.record_progress(job_id, 50, owner_run="dead-run")
    with pytest.raises(TransitionConflict):
        store.transition(job_id, JobStatus.COMPLETED, expected=(JobStatus.RUNNING,), owner_run="dead-run")
    assert store.get(job_id).compute_run_id == "new-run"


def test_attempts_run_out_and_the_job_fails_saying_so(aws: Aws, media: MediaFiles) -> None:
    job_id = dead_run(aws, media, attempt=2)
    report = wiring.reconciler().sweep()
    assert report.failed["running"] == [job_id]
    failed = job(job_id)
    assert failed["error_code"] == "timeout"
    assert "(after 2 of 2 attempts)" in failed["error_message"]
    assert aws.drain("WorkQueue") == []


def test_a_dead_lettered_work_message_for_a_running_job_is_retried(aws: Aws, media: MediaFiles) -> None:
    from tests.helpers import LambdaContext

    import reconcile_app

    job_id = dead_run(aws, media)
    event = load_event("work-dead-letter.json")
    event["Records"][0]["body"] = f'{{"job_id": "{job_id}"}}'
    assert reconcile_app.lambda_handler(event, LambdaContext()) == {"dead_letters": 1, "failed": 0}
    assert job(job_id)["status"] == "queued"
    assert len(aws.drain("WorkQueue")) == 1


def test_a_failed_batch_run_is_retried_when_attempts_remain(aws: Aws, media: MediaFiles) -> None:
    from tests.helpers import LambdaContext

    import reconcile_app

    job_id = dead_run(aws, media)
    event = load_event("batch-job-failed.json")
    event["detail"]["parameters"]["job_id"] = job_id
    event["detail"]["jobId"] = "dead-run"
    assert reconcile_app.lambda_handler(event, LambdaContext()) == {"failed": 0}
    queued = job(job_id)
    assert queued["status"] == "queued"
    assert "OutOfMemoryError" in queued["error_message"]
