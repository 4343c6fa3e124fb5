"""Lambda events built the way AWS builds them: SQS batches and API Gateway REST proxy requests."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """An SQS → Lambda event for messages from ReceiveMessage (AttributeNames=["All"])."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def api_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: dict[str, str] | None,
    query: dict[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str,
    api_key: str | None,
    stage: str = "local",
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as the Api resource in template.yaml sends it."""
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": source_ip,
                "apiKey": api_key,
                # API Gateway names the key by its resource id; locally, a stable id derived from the key.
                "apiKeyId": f"local-{hashlib.sha256(api_key.encode()).hexdigest()[:10]}" if api_key else None,
                "userAgent": headers.get("User-Agent", ""),
            },
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }
