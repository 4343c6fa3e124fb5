"""Test helpers: real-shaped events from events/, handler calls, uploads through presigned POSTs."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


@dataclass
class LambdaContext:
    function_name: str = "forgesyte-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:forgesyte-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Aws:
    s3: Any
    sqs: Any
    dynamodb: Any
    stack: Any

    @property
    def bucket(self) -> str:
        return str(self.stack.physical["MediaBucket"])

    def queue(self, logical: str) -> str:
        return str(self.stack.physical[logical])

    def drain(self, logical: str) -> list[dict[str, Any]]:
        """Receive and delete every message waiting on a queue."""
        url = self.queue(logical)
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
                "Messages", []
            )
            if not batch:
                return messages
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)


def sqs_event(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:test"
) -> dict[str, Any]:
    """An SQS → Lambda event carrying these messages, built as the local stack builds it."""
    from forgesyte_dev.local.events import sqs_event as build

    return build(messages, queue_arn)


def api_event(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    event = load_event("api-get-job.json")
    event.update(httpMethod=method, path=path, resource=path, pathParameters=None)
    event["body"] = json.dumps(body) if body is not None and not isinstance(body, str) else body
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    event["headers"] = {**event["headers"], **(headers or {})}
    return event


def call_api(
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    api_key_id: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """The API function's answer; ``api_key_id`` calls as another API key (another caller)."""
    import api_app

    event = api_event(method, path, body, query, headers)
    if api_key_id is not None:
        event["requestContext"]["identity"]["apiKeyId"] = api_key_id
    response = api_app.lambda_handler(event, LambdaContext())
    # API Gateway REST proxy responses may use either header map; a client sees one set of headers.
    headers = {
        **response.get("headers", {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items() if v},
    }
    text = response.get("body") or ""
    payload = json.loads(text) if text and headers.get("Content-Type", "").startswith("application/json") else text
    return response["statusCode"], payload, headers


def upload(created: dict[str, Any], data: bytes, content_type: str | None = None) -> requests.Response:
    """POST the file to S3 with the presigned form fields, as a browser does (no boto3)."""
    form = created["upload"]
    fields = dict(form["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    response = requests.post(form["url"], data=fields, files={"file": ("upload", data)}, timeout=30)
    response.raise_for_status()
    return response


def traced_peak(action: Any) -> tuple[Any, int]:
    """``action()``'s result and the most memory Python allocated while it ran (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
