"""JobStore against DynamoDB (moto): one conditional update per transition, conflicts named."""

from __future__ import annotations

import threading

import pytest

from forgesyte_core import wiring
from forgesyte_core.errors import NotFound, TransitionConflict
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.media.info import MediaInfo
from forgesyte_core.storage import input_key
from tests.helpers import Aws


def new_job(store: JobStore) -> str:
    job = store.create(
        plugin_id="p",
        tool="t",
        job_type="video",
        content_type="video/mp4",
        declared_bytes=10,
        options={"k": [1, 2]},
        upload_expiry_s=60,
        ttl_days=1,
        input_key_for=input_key,
    )
    return job.job_id


def test_create_and_read_back(aws: Aws) -> None:
    store = wiring.job_store()
    job_id = new_job(store)
    job = store.get(job_id)
    assert job.status == JobStatus.PENDING
    assert job.options == {"k": [1, 2]}
    assert job.input_key == f"uploads/{job_id}/input"
    assert abs((job.expires_at - job.created_at).total_seconds() - 86400) < 1  # TTL keeps whole seconds
    item = aws.dynamodb.get_item(TableName=aws.stack.physical["JobsTable"], Key={"job_id": {"S": job_id}})["Item"]
    assert "N" in item["expires_at"], "TTL is an epoch number, as DynamoDB's TTL needs"


def test_transitions_are_conditional(aws: Aws) -> None:
    store = wiring.job_store()
    job_id = new_job(store)
    media = MediaInfo(kind="video", container="mp4", bytes=9, width=64, height=48, fps=25.0, duration=0.12, frames=3)
    assert store.transition(job_id, JobStatus.QUEUED, media=media).media == media
    assert store.get(job_id).media == media  # a typed record, read back as written
    with pytest.raises(TransitionConflict, match="is queued, not pending; it cannot move to queued"):
        store.transition(job_id, JobStatus.QUEUED, expected=(JobStatus.PENDING,))
    with pytest.raises(TransitionConflict, match="is queued, not running"):
        store.record_progress(job_id, 50)
    store.transition(job_id, JobStatus.RUNNING)
    store.transition(job_id, JobStatus.COMPLETED)
    with pytest.raises(TransitionConflict):
        store.transition(job_id, JobStatus.FAILED)  # terminal is final
    with pytest.raises(NotFound):
        store.transition("00000000-0000-4000-8000-000000000000", JobStatus.FAILED)


@pytest.mark.usefixtures("atomic_writes")  # tests/conftest.py: DynamoDB's per-item atomicity
def test_two_claims_racing_one_wins(aws: Aws) -> None:
    store = wiring.job_store()
    job_id = new_job(store)
    store.transition(job_id, JobStatus.QUEUED)
    outcomes: list[str] = []

    def claim() -> None:
        try:
            store.transition(job_id, JobStatus.RUNNING, expected=(JobStatus.QUEUED,))
            outcomes.append("won")
        except TransitionConflict:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]


def test_removing_a_field_with_none(aws: Aws) -> None:
    store = wiring.job_store()
    job_id = new_job(store)
    store.set_fields(job_id, JobStatus.PENDING, compute="lambda")
    assert store.get(job_id).compute == "lambda"
    store.set_fields(job_id, JobStatus.PENDING, compute=None)
    assert store.get(job_id).compute is None
