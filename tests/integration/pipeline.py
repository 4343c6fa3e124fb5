"""Drives jobs through the real handlers: API submit → presigned POST → ingest → runner."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import Aws, LambdaContext, call_api, sqs_event, upload


def submit(
    kind: str, plugin_id: str, tool: str, data: bytes, content_type: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    status, body, _ = call_api(
        "POST",
        f"/v1/{kind}/submit",
        {
            "plugin_id": plugin_id,
            "tool": tool,
            "content_type": content_type,
            "content_length": len(data),
            "options": options or {},
        },
    )
    assert status == 201, body
    return dict(body)


def ingest(aws: Aws) -> dict[str, Any]:
    import ingest_app

    messages = aws.drain("UploadQueue")
    result: dict[str, Any] = ingest_app.lambda_handler(sqs_event(messages), LambdaContext())
    return result


def run_work(aws: Aws, remaining_ms: int = 900_000) -> dict[str, Any]:
    """The runner Lambda on every waiting work message, with ``remaining_ms`` left before its timeout."""
    import runner_app

    messages = aws.drain("WorkQueue")
    result: dict[str, Any] = runner_app.lambda_handler(sqs_event(messages), LambdaContext(remaining_ms=remaining_ms))
    return result


def job(job_id: str) -> dict[str, Any]:
    status, body, _ = call_api("GET", f"/v1/jobs/{job_id}")
    assert status == 200, body
    return dict(body)


def run_video(
    aws: Aws,
    data: bytes,
    plugin_id: str = "frame-counter",
    tool: str = "count_frames",
    content_type: str = "video/mp4",
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    created = submit("video", plugin_id, tool, data, content_type, options)
    upload(created, data)
    ingest(aws)
    run_work(aws)
    return job(created["job_id"])


def results(aws: Aws, job_id: str) -> dict[str, Any]:
    body = aws.s3.get_object(Bucket=aws.bucket, Key=f"results/{job_id}.json")["Body"].read()
    data: dict[str, Any] = json.loads(body)
    return data
