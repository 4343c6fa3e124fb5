"""A retried submit with the same Idempotency-Key gets the same job, never a second one."""

from __future__ import annotations

import concurrent.futures
import json

import pytest

from forgesyte_core.intake.idempotency import job_id_for
from forgesyte_core.storage import job_id_from_key
from tests.helpers import Aws, LambdaContext, api_event, call_api, upload
from tests.integration.pipeline import ingest, job
from tests.media_factory import MediaFiles

BODY = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": 5000}


def submit(key: str | None, body: dict[str, object] = BODY, api_key_id: str = "k1x2y3") -> tuple[int, dict, dict]:

    import api_app

    event = api_event("POST", "/v1/video/submit", body, headers={"Idempotency-Key": key} if key else None)
    event["requestContext"]["identity"]["apiKeyId"] = api_key_id
    response = api_app.lambda_handler(event, LambdaContext())

    headers = {k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], json.loads(response["body"]), {**response.get("headers", {}), **headers}


def test_a_retry_returns_the_same_job_with_a_fresh_upload_form(aws: Aws) -> None:
    status, first, headers = submit("order-42")
    assert status == 201
    assert first["replayed"] is False
    assert "Idempotent-Replayed" not in headers
    status, again, headers = submit("order-42")
    assert status == 201
    assert again["job_id"] == first["job_id"]
    assert again["replayed"] is True
    assert headers["Idempotent-Replayed"] == "true"
    assert again["upload"]["fields"]["key"] == first["upload"]["fields"]["key"]
    assert job_id_from_key(again["upload"]["fields"]["key"]) == first["job_id"]  # a valid upload key
    assert len(call_api("GET", "/v1/jobs", query={"status": "pending"})[1]["jobs"]) == 1


def test_the_same_key_for_a_different_request_is_a_409(aws: Aws) -> None:
    assert submit("order-43")[0] == 201
    status, payload, _ = submit("order-43", {**BODY, "content_length": 6000})
    assert status == 409
    assert "already used for a different request" in payload["detail"]


def test_keys_belong_to_their_caller(aws: Aws) -> None:
    mine = submit("shared-key", api_key_id="alice")[1]
    theirs = submit("shared-key", api_key_id="bob")[1]
    assert mine["job_id"] != theirs["job_id"]
    assert theirs["replayed"] is False
    assert mine["job_id"] == job_id_for("key:alice", "shared-key")


def test_a_replay_after_the_upload_gives_no_form(aws: Aws, media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    body = {**BODY, "content_length": len(data)}
    created = submit("order-44", body)[1]
    upload(created, data)
    ingest(aws)
    assert job(created["job_id"])["status"] == "queued"
    again = submit("order-44", body)[1]
    assert again["replayed"] is True
    assert again["upload"] is None
    assert again["status"] == "queued"


@pytest.mark.usefixtures("atomic_writes")  # a conditional put is one step in DynamoDB; moto needs the lock
def test_concurrent_retries_make_one_job(aws: Aws) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: submit("burst"), range(8)))
    assert {status for status, _, _ in results} == {201}
    assert len({payload["job_id"] for _, payload, _ in results}) == 1
    assert sum(not payload["replayed"] for _, payload, _ in results) == 1


def test_a_malformed_key_is_a_400(aws: Aws) -> None:
    status, payload, _ = submit("x" * 300)
    assert status == 400
    assert "Idempotency-Key" in payload["detail"]
