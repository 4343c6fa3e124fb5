"""`forgesyte sam-events`: what waits on the stack's queues, written as the functions' SQS events."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from forgesyte_dev import sam_events

KEYS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}


@pytest.fixture
def stack_state(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    """A moto server with the two queues, and a stack.json naming them, as `forgesyte dev` writes it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        sqs = boto3.client("sqs", endpoint_url=url, **KEYS)
        queues = {name: sqs.create_queue(QueueName=f"t-{name}")["QueueUrl"] for name in ("UploadQueue", "WorkQueue")}
        state = tmp_path / ".local-stack"
        state.mkdir()
        info = {"moto_url": url, "region": "us-east-1", "queues": queues, "api_url": "http://127.0.0.1:1"}
        (state / "stack.json").write_text(json.dumps(info))
        yield state, sqs
    finally:
        server.stop()


def test_a_waiting_upload_becomes_ingest_s_event_and_leaves_the_queue(stack_state: tuple[Path, Any]) -> None:
    state, sqs = stack_state
    queues = json.loads((state / "stack.json").read_text())["queues"]
    s3 = {"bucket": {"name": "b"}, "object": {"key": "uploads/j/input"}}
    record = {"eventTime": "2026-12-03T10:00:00.000Z", "s3": s3}
    sqs.send_message(QueueUrl=queues["UploadQueue"], MessageBody=json.dumps({"Records": [record]}))
    out = io.StringIO()
    assert sam_events.run(state, None, "", "", 5, out) == 0
    event = json.loads((state / "sam-events/ingest.json").read_text())
    (message,) = event["Records"]
    assert message["eventSource"] == "aws:sqs"
    assert message["eventSourceARN"].endswith(":t-UploadQueue")
    body = json.loads(message["body"])
    assert body["Records"][0]["s3"]["object"]["sequencer"]  # as AWS's notifications carry one
    assert "sam local invoke IngestFunction -e .local-stack/sam-events/ingest.json" in out.getvalue()
    assert not sqs.receive_message(QueueUrl=queues["UploadQueue"]).get("Messages")  # handed over
    assert not (state / "sam-events/runner.json").exists()


def test_nothing_waiting_says_what_to_do(stack_state: tuple[Path, Any]) -> None:
    state, _ = stack_state
    out = io.StringIO()
    assert sam_events.run(state, None, "", "", 0, out) == 1
    assert "no message waits on the upload or work queue" in out.getvalue()


def test_no_stack_a_dead_one_or_a_missing_file_is_said_plainly(tmp_path: Path) -> None:
    state = tmp_path / ".local-stack"
    with pytest.raises(sam_events.NoStack, match="no local stack is running"):
        sam_events.run(state, None, "", "", 0, io.StringIO())
    state.mkdir()
    dead = {"moto_url": "http://127.0.0.1:9", "region": "us-east-1", "queues": {"UploadQueue": "x", "WorkQueue": "y"}}
    (state / "stack.json").write_text(json.dumps(dead))
    with pytest.raises(sam_events.NoStack, match="does not answer"):
        sam_events.run(state, None, "", "", 0, io.StringIO())
    with pytest.raises(sam_events.NoStack, match="no such file"):
        sam_events.run(state, tmp_path / "missing.mp4", "motion-tracker", "video_track", 0, io.StringIO())
