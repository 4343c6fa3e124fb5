"""Drives jobs through the real handlers: API submit → presigned POST → ingest → runner."""

from __future__ import annotations

import json
from typing import Any

import boto3

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


def listen(aws: Aws, pattern: dict[str, Any] | None = None, name: str = "all-jobs") -> str:
    """A rule on the stack's bus (by default for every ForgeSyte job event) into a queue; its URL."""
    events = boto3.client("events", region_name="us-east-1")
    bus = aws.stack.physical["JobEventBus"]
    url = aws.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern or {"source": ["forgesyte"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def received(aws: Aws, url: str) -> list[dict[str, Any]]:
    found = []
    while True:
        batch = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
