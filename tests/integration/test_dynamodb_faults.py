"""A DynamoDB write failing at any point of a job's life, injected at the client the store is given.

Each case fails exactly one write (the n-th PutItem or UpdateItem of the whole pipeline) the way
DynamoDB does when it has an internal error, then lets the system do what AWS would: the caller
retries a 5xx submit with its Idempotency-Key, SQS redelivers a message whose handler failed, and
the reconcile sweep runs later. Every job must end completed (the fault was DynamoDB's, not the job's),
never stuck and within its attempts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from forgesyte_core import wiring
from forgesyte_core.clients import client
from tests.helpers import Aws, LambdaContext, call_api, sqs_event, upload
from tests.integration.pipeline import job
from tests.media_factory import MediaFiles

WRITES = ("PutItem", "UpdateItem")


class FailOneWrite:
    """A botocore ``before-call`` hook: the n-th write raises as DynamoDB's 500 would."""

    def __init__(self, n: int) -> None:
        self.n, self.writes, self.failed = n, 0, ""

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name not in WRITES:
            return
        self.writes += 1
        if self.writes == self.n:
            self.failed = f"{model.name} {sorted(params.get('ExpressionAttributeValues', {}))}"
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, model.name)


def deliver(handler: Any, messages: list[dict[str, Any]]) -> None:
    """SQS to a Lambda with partial batch responses: a failed message comes back, up to 3 receives."""
    for _ in range(3):
        if not messages:
            return
        try:
            answer = handler(sqs_event(messages), LambdaContext())
        except BatchProcessingError:  # every record failed: the whole batch comes back
            continue
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        messages = [m for m in messages if m["MessageId"] in failed]


def submit_with_retry(data: bytes, key: str) -> dict[str, Any]:
    body = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4"}
    for _ in range(2):
        status, created, _ = call_api(
            "POST", "/v1/video/submit", {**body, "content_length": len(data)}, headers={"Idempotency-Key": key}
        )
        if status == 201:
            return dict(created)
        assert status == 500, created
    raise AssertionError("the retried submit failed again")


def life_of_a_job(aws: Aws, data: bytes, key: str) -> str:
    import ingest_app
    import runner_app

    created = submit_with_retry(data, key)
    upload(created, data)
    deliver(ingest_app.lambda_handler, aws.drain("UploadQueue"))
    deliver(runner_app.lambda_handler, aws.drain("WorkQueue"))
    return str(created["job_id"])


def writes_in_a_clean_run(aws: Aws, data: bytes) -> int:
    counter = FailOneWrite(0)
    client("dynamodb").meta.events.register("before-call.dynamodb", counter)
    try:
        assert job(life_of_a_job(aws, data, "clean"))["status"] == "completed"
    finally:
        client("dynamodb").meta.events.unregister("before-call.dynamodb", counter)
    return counter.writes


def settled(aws: Aws, job_id: str) -> dict[str, Any]:
    """The job after the sweeps an hour later (and the runs they relaunch) had their turn."""
    import runner_app

    later = wiring.job_store().get(job_id)
    for _ in range(3):
        if later.is_terminal:
            break
        wiring.reconciler().sweep(now=later.updated_at + timedelta(hours=1))
        deliver(runner_app.lambda_handler, aws.drain("WorkQueue"))
        later = wiring.job_store().get(job_id)
    return job(job_id)


@pytest.mark.usefixtures("every_progress")  # progress writes among the writes that fail
def test_one_failed_write_anywhere_ends_the_job_completed_or_failed_with_a_reason(aws: Aws, media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    writes = writes_in_a_clean_run(aws, data)
    assert writes >= 5  # create, queued, launched, running, completed (and progress between)
    ends = []
    for n in range(1, writes + 1):
        hook = FailOneWrite(n)
        client("dynamodb").meta.events.register("before-call.dynamodb", hook)
        try:
            job_id = life_of_a_job(aws, data, f"case-{n}")
        finally:
            client("dynamodb").meta.events.unregister("before-call.dynamodb", hook)
        assert hook.failed, n
        view = settled(aws, job_id)
        case = (n, hook.failed, view["status"], view.get("error_message"))
        assert view["status"] in ("completed", "failed"), case
        assert view["status"] == "completed" or view["error_message"], case
        assert view["attempt"] <= 2, case
        ends.append(view["status"])
    # A failed write never costs the job: progress writes are skipped, the rest are redelivered or retried.
    assert ends == ["completed"] * writes, ends
