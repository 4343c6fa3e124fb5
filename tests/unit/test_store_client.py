"""The job store sends every call through the client it is given: a Stubber sees (and answers) them all."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from forgesyte_core.errors import NotFound, TransitionConflict
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import JobStore

JOB_ID = "11111111-1111-4111-8111-111111111111"


def stubbed() -> tuple[JobStore, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (a stub)
    return JobStore("jobs", "us-east-1", client), Stubber(client)


def test_a_missing_job_is_not_found() -> None:
    store, stub = stubbed()
    stub.add_response(
        "get_item",
        {},
        {"TableName": "jobs", "Key": {"job_id": {"S": JOB_ID}}, "ConsistentRead": True, "ReturnConsumedCapacity": ANY},
    )
    with stub, pytest.raises(NotFound, match=JOB_ID):
        store.get(JOB_ID)
    stub.assert_no_pending_responses()


def test_a_lost_condition_names_the_status_the_job_is_really_in() -> None:
    store, stub = stubbed()
    stub.add_client_error("update_item", "ConditionalCheckFailedException", expected_params=None)
    item = {
        "job_id": {"S": JOB_ID},
        "status": {"S": "cancelled"},
        "plugin_id": {"S": "p"},
        "tool": {"S": "t"},
        "job_type": {"S": "video"},
        "input_key": {"S": f"uploads/{JOB_ID}/input"},
        "content_type": {"S": "video/mp4"},
        "declared_bytes": {"N": "10"},
        "created_at": {"S": "2026-11-26T00:00:00.000000+0000"},
        "updated_at": {"S": "2026-11-26T00:00:00.000000+0000"},
        "upload_expires_at": {"S": "2026-11-26T00:15:00.000000+0000"},
        "expires_at": {"N": "1800000000"},
    }
    stub.add_response(
        "get_item",
        {"Item": item},
        {"TableName": "jobs", "Key": ANY, "ConsistentRead": True, "ReturnConsumedCapacity": ANY},
    )
    with stub, pytest.raises(TransitionConflict, match="is cancelled, not queued; it cannot move to running"):
        store.transition(JOB_ID, JobStatus.RUNNING, expected=(JobStatus.QUEUED,))
    stub.assert_no_pending_responses()
