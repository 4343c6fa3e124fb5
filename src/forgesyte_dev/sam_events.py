"""``forgesyte sam-events``: events for ``sam local invoke`` made from the running stack's own queues.

Under ``forgesyte dev --sam-local`` nothing polls the upload and work queues: in AWS, Lambda's event
source mappings would, and here ``sam local invoke`` stands in for them. So a real upload's S3
notification waits on the upload queue and an admitted job's message on the work queue. This takes
each waiting message off its queue (as Lambda's poller does once it hands a batch to the function)
and writes it as the SQS event the function would get: ``ingest.json`` and ``runner.json`` under
``.local-stack/sam-events/``. The events name the stack's bucket, keys and job ids, so ingest and the
runner really act on them. ``--video`` (or ``--synthetic``) submits and uploads a file through the
stack's API first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

import boto3

from forgesyte_dev.local.events import sqs_event
from forgesyte_dev.local.outputs import FAKE_CREDENTIALS
from forgesyte_dev.local.s3_events import with_sequencers

# Which function each queue feeds, and the event file written for it.
QUEUES = {"UploadQueue": ("IngestFunction", "ingest.json"), "WorkQueue": ("RunnerFunction", "runner.json")}


class NoStack(RuntimeError):
    """No local stack answers here, or what was asked of it cannot be done; the message says which."""


def synthetic_clip(folder: Path) -> Path:
    """A 3 s 320x180 clip of objects crossing, for a first run with no video at hand."""
    from forgesyte_dev.synthetic import crossing_scene

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synthetic.mp4"
    crossing_scene(320, 180, seconds=3).write(path)
    return path


def submit(state: dict[str, Any], video: Path, plugin_id: str, tool: str) -> str:
    """Submit and upload ``video`` through the stack's API, as a browser would; the job's id."""
    from forgesyte_dev.client import ApiClient

    api = ApiClient(state["api_url"], state["api_key"])
    created = api.submit(video, plugin_id, tool, {})
    api.upload(created, video, lambda *_: None)
    return str(created["job_id"])


def take_events(state: dict[str, Any], out: Path, wait_s: float = 5.0) -> dict[str, Path]:
    """Each queue's waiting messages as one event file; waits up to ``wait_s`` for the first."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=state["moto_url"],
        region_name=state["region"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    deadline = time.monotonic() + wait_s
    while not written:
        for queue, (function, name) in QUEUES.items():
            url = state["queues"][queue]
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
                "Messages", []
            )
            if not messages:
                continue
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            path = out / name
            path.write_text(json.dumps(with_sequencers(sqs_event(messages, arn, state["region"])), indent=2) + "\n")
            for message in messages:  # the invocation owns them now, as after Lambda's poller hands them over
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            written[function] = path
        if written or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return written


def run(state_dir: Path, video: Path | None, plugin_id: str, tool: str, wait_s: float, stdout: TextIO) -> int:
    from botocore.exceptions import EndpointConnectionError

    from forgesyte_dev.client import ApiError, local_stack_state

    try:
        state = local_stack_state(state_dir / "stack.json")
    except ApiError as exc:
        raise NoStack(f"{exc.detail} (`forgesyte dev --sam-local` for sam local)") from None
    if video is not None and not video.is_file():
        raise NoStack(f"no such file: {video}")
    try:
        return _run(state, state_dir, video, plugin_id, tool, wait_s, stdout)
    except (EndpointConnectionError, ConnectionError) as exc:
        where = state_dir / "stack.json"
        raise NoStack(f"the local stack in {where} does not answer ({exc}): is it still running?") from None


def _run(
    state: dict[str, Any], state_dir: Path, video: Path | None, plugin_id: str, tool: str, wait_s: float, stdout: TextIO
) -> int:
    if video is not None:
        print(f"submitted and uploaded {video.name}: job {submit(state, video, plugin_id, tool)}", file=stdout)
    written = take_events(state, state_dir / "sam-events", wait_s)
    if not written:
        print(
            "no message waits on the upload or work queue: upload a file (`--video FILE`, or `forgesyte submit`) "
            "or invoke IngestFunction with the last ingest.json first",
            file=stdout,
        )
        return 1
    for function, path in written.items():
        flags = "" if function == "RunnerFunction" else " --invoke-image localhost/forgesyte-lambda-python:3.11"
        shown = path.relative_to(state_dir.parent) if path.is_relative_to(state_dir.parent) else path
        command = f"sam local invoke {function} -e {shown} --env-vars env.json --skip-pull-image{flags}"
        print(f"wrote {shown}: {command}", file=stdout)
    return 0
