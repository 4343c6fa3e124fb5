"""callback_url on submit, and the webhook function on the job's real event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forgesyte_core import wiring
from tests.conftest import _reset
from tests.helpers import Aws, LambdaContext, call_api
from tests.integration.pipeline import run_video
from tests.integration.test_job_events import listen, received
from tests.media_factory import MediaFiles

BODY = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": 10}


@pytest.fixture
def webhooks_on(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOKS_ENABLED", "true")
    monkeypatch.setenv("WEBHOOK_SECRET", "test-secret")
    _reset()
    # DNS for the test's host only: nothing here reaches the network.
    monkeypatch.setattr(wiring.admission(), "resolver", lambda host, port: ["93.184.216.34"])


def test_submit_refuses_callbacks_the_stack_cannot_honour(aws: Aws) -> None:
    status, body, _ = call_api("POST", "/v1/video/submit", {**BODY, "callback_url": "https://hooks.example.com/h"})
    assert status == 422
    assert "WebhookSecret" in body["detail"]


def test_submit_refuses_plain_http_and_private_hosts(aws: Aws, webhooks_on: None) -> None:
    status, body, _ = call_api("POST", "/v1/video/submit", {**BODY, "callback_url": "http://hooks.example.com/h"})
    assert (status, body["detail"]) == (400, "callback_url must be an https:// URL")
    wiring.admission().resolver = lambda host, port: ["10.0.0.7"]
    status, body, _ = call_api("POST", "/v1/video/submit", {**BODY, "callback_url": "https://internal.corp/h"})
    assert status == 400
    assert "not a public address" in body["detail"]


def test_the_webhook_function_posts_the_ended_jobs_event_signed(
    aws: Aws, media: MediaFiles, webhooks_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webhook_app

    url = listen(aws)
    done = run_video(aws, media.mp4v.read_bytes(), options={})  # no callback: the rule would not match
    assert done["status"] == "completed"
    received(aws, url)
    data = media.mp4v.read_bytes()
    status, created, _ = call_api(
        "POST",
        "/v1/video/submit",
        {**BODY, "content_length": len(data), "callback_url": "https://hooks.example.com/jobs"},
    )
    assert status == 201, created
    from tests.helpers import upload
    from tests.integration.pipeline import ingest, run_work

    upload(created, data)
    ingest(aws)
    run_work(aws)
    ended = [e for e in received(aws, url) if e["detail"]["status"] == "completed"]
    assert ended[0]["detail"]["callback_url"] == "https://hooks.example.com/jobs"

    sent: list[dict[str, Any]] = []
    hooks = wiring.webhooks()
    monkeypatch.setattr(hooks, "resolver", lambda host, port: ["93.184.216.34"])
    monkeypatch.setattr(hooks, "post", lambda u, b, h, t: sent.append({"url": u, "body": b, "headers": h}) or 200)
    assert webhook_app.lambda_handler(ended[0], LambdaContext())["http_status"] == 200
    assert sent[0]["url"] == "https://hooks.example.com/jobs"
    assert json.loads(sent[0]["body"])["job"]["job_id"] == created["job_id"]
    assert sent[0]["headers"]["ForgeSyte-Signature"].startswith("t=")
