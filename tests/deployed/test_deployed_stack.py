"""A deployed stack, end to end, as its users drive it: the API with its key, presigned uploads to
the real bucket, jobs that complete, their EventBridge events, and a job from an S3 drop. Everything
it creates is removed at the end (its jobs expire by TTL)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.deployed.conftest import Deployed

TERMINAL = {"completed", "failed", "cancelled"}


def call(deployed: Deployed, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, deployed.api.rstrip("/") + path, json=body, headers={"X-API-Key": deployed.api_key}, timeout=30
    )
    assert response.status_code < 400, (response.status_code, response.text)
    return response.json()


def submit_and_upload(deployed: Deployed, kind: str, path: Path, content_type: str, plugin: str, tool: str) -> str:
    created = call(
        deployed,
        "POST",
        f"/v1/{kind}/submit",
        {"plugin_id": plugin, "tool": tool, "content_type": content_type, "content_length": path.stat().st_size},
    )
    form = created["upload"]
    with path.open("rb") as file:
        answer = requests.post(
            form["url"], data=form["fields"], files={"file": (path.name, file, content_type)}, timeout=120
        )
    assert answer.status_code in (200, 204), answer.text
    return str(created["job_id"])


def wait(deployed: Deployed, job_id: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = call(deployed, "GET", f"/v1/jobs/{job_id}")
        if job["status"] in TERMINAL:
            return dict(job)
        time.sleep(5)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


@pytest.fixture(scope="module")
def events_queue(deployed: Deployed) -> Iterator[str]:
    """A temporary rule on the job bus into a temporary queue: what a user's rule would receive."""
    sqs, events = deployed.session.client("sqs"), deployed.session.client("events")
    bus = deployed.outputs["JobEventBusName"]
    name = f"forgesyte-deployed-test-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["forgesyte"]}))[
        "RuleArn"
    ]
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ]
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    try:
        yield url
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)


def statuses_for(deployed: Deployed, url: str, job_id: str, until: str, timeout: float = 120) -> list[str]:
    sqs, seen = deployed.session.client("sqs"), []
    deadline = time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", []):
            detail = json.loads(message["Body"])["detail"]
            if detail["job_id"] == job_id:
                seen.append(detail["status"])
    return seen


def test_a_video_and_an_image_through_the_real_api(deployed: Deployed, events_queue: str, tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(video)
    video_job = submit_and_upload(deployed, "video", video, "video/mp4", "motion-tracker", "video_track")
    done = wait(deployed, video_job)
    assert done["status"] == "completed", done
    results = requests.get(done["result_url"], timeout=60).json()
    assert results["total_frames"] == 90
    assert statuses_for(deployed, events_queue, video_job, "completed")[-1] == "completed"

    import cv2

    image = tmp_path / "line.png"
    text, _, picture = next(rendered_lines())
    cv2.imwrite(str(image), picture)
    image_job = wait(deployed, submit_and_upload(deployed, "image", image, "image/png", "ocr", "analyze"))
    assert image_job["status"] == "completed", image_job
    assert requests.get(image_job["result_url"], timeout=60).json()["results"]["text"].split() == text.split()


def test_a_drop_under_incoming_becomes_a_job(deployed: Deployed, events_queue: str, tmp_path: Path) -> None:
    video = tmp_path / "drop.mp4"
    crossing_scene(320, 180, seconds=2).write(video)
    s3 = deployed.session.client("s3")
    key = f"incoming/motion-tracker/video_track/deployed-test/{uuid.uuid4().hex}.mp4"
    s3.upload_file(str(video), deployed.bucket, key, ExtraArgs={"ContentType": "video/mp4"})
    try:
        sqs, deadline, ended = deployed.session.client("sqs"), time.monotonic() + 600, None
        while ended is None and time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=events_queue, MaxNumberOfMessages=10, WaitTimeSeconds=10).get(
                "Messages", []
            ):
                detail = json.loads(message["Body"])["detail"]
                if detail["owner"] == "s3-drop" and detail["status"] in TERMINAL:
                    ended = detail
        assert ended is not None, "no event for the drop's job"
        assert ended["status"] == "completed", ended
    finally:
        s3.delete_object(Bucket=deployed.bucket, Key=key)
