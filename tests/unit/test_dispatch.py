"""The routing policy and the launchers' requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from forgesyte_core.compute.dispatch import (
    BatchLauncher,
    RoutingPolicy,
    TooLongForLambda,
    WorkQueueLauncher,
    job_id_from_batch_name,
)
from forgesyte_core.jobs.model import Job
from forgesyte_core.media.info import MediaInfo

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CPU_TOOL: dict[str, Any] = {"id": "t", "input_types": ["video"], "capabilities": []}
GPU_TOOL: dict[str, Any] = {"id": "t", "input_types": ["video"], "capabilities": ["gpu"]}


def job(duration: float = 10.0, job_type: str = "video") -> Job:
    return Job(
        job_id="11111111-1111-4111-8111-111111111111",
        plugin_id="p",
        tool="t",
        job_type=job_type,
        input_key="k",
        content_type="video/mp4",
        declared_bytes=1,
        created_at=NOW,
        updated_at=NOW,
        upload_expires_at=NOW,
        expires_at=NOW,
        media=MediaInfo(kind=job_type, container="mp4", bytes=1, width=640, height=360, duration=duration),
    )


@pytest.mark.parametrize(
    ("mode", "duration", "tool", "batch", "expected"),
    [
        ("auto", 10, CPU_TOOL, True, "lambda"),
        ("auto", 600, CPU_TOOL, True, "batch"),
        ("auto", 10, GPU_TOOL, True, "batch"),
        ("auto", 600, GPU_TOOL, False, "lambda"),
        ("lambda", 600, GPU_TOOL, True, "lambda"),
        ("batch", 1, CPU_TOOL, True, "batch"),
        ("batch", 1, CPU_TOOL, False, "lambda"),
    ],
)
def test_routing(mode: str, duration: float, tool: dict[str, Any], batch: bool, expected: str) -> None:
    backend, why = RoutingPolicy(mode, 300, batch).route(job(duration), tool)
    assert backend == expected
    assert why


@pytest.mark.parametrize("mode", ["auto", "lambda"])
def test_a_video_too_long_for_lambda_is_never_sent_there(mode: str) -> None:
    policy = RoutingPolicy(mode, 300, False, lambda_max_video_seconds=600)
    assert policy.route(job(600), CPU_TOOL)[0] == "lambda"  # at the limit
    with pytest.raises(TooLongForLambda, match="the video is 601 s; the runner Lambda takes videos up to 600 s"):
        policy.route(job(601), CPU_TOOL)
    if mode == "auto":
        assert RoutingPolicy(mode, 300, True, 600).route(job(3600), CPU_TOOL)[0] == "batch"


def test_images_are_never_long_videos() -> None:
    assert RoutingPolicy("auto", 300, True).route(job(10_000, "image"), CPU_TOOL)[0] == "lambda"


def test_batch_launcher_names_the_job_after_its_id() -> None:
    batch = boto3.client("batch", region_name="us-east-1")
    the_job = job()
    with Stubber(batch) as stub:
        stub.add_response(
            "submit_job",
            {"jobName": "forgesyte-" + the_job.job_id, "jobId": "run-1"},
            {
                "jobName": "forgesyte-" + the_job.job_id,
                "jobQueue": "q",
                "jobDefinition": "d",
                "parameters": {"job_id": the_job.job_id},
                "tags": {"forgesyte:job_id": the_job.job_id},
                "propagateTags": True,
            },
        )
        assert BatchLauncher(batch, "q", "d").launch(the_job) == "run-1"
    assert job_id_from_batch_name("forgesyte-" + the_job.job_id) == the_job.job_id
    assert job_id_from_batch_name("someone-else") is None


def test_work_queue_launcher_sends_the_job_id() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    the_job = job()
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message",
            {"MessageId": "m-1"},
            {"QueueUrl": "https://q", "MessageBody": f'{{"job_id": "{the_job.job_id}"}}'},
        )
        assert WorkQueueLauncher(sqs, "https://q").launch(the_job) == "m-1"


def test_an_unknown_dispatch_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from forgesyte_core.settings import Settings

    monkeypatch.setenv("DISPATCH_MODE", "local")
    with pytest.raises(ValueError, match="DISPATCH_MODE must be one of auto, lambda, batch"):
        Settings.from_env()


def test_batch_launcher_starts_segments_as_one_array_job_and_a_retry_as_its_own() -> None:
    batch = boto3.client("batch", region_name="us-east-1")
    the_job = job()
    common = {"jobQueue": "q", "jobDefinition": "d", "parameters": {"job_id": the_job.job_id}}
    tags = {"tags": {"forgesyte:job_id": the_job.job_id}, "propagateTags": True}
    with Stubber(batch) as stub:
        stub.add_response(
            "submit_job",
            {"jobName": "x", "jobId": "array-1"},
            {
                "jobName": "forgesyte-" + the_job.job_id,
                **common,
                "containerOverrides": {"environment": [{"name": "FORGESYTE_SEGMENT_ARRAY", "value": "1"}]},
                "arrayProperties": {"size": 4},
                **tags,
            },
        )
        stub.add_response(
            "submit_job",
            {"jobName": "x", "jobId": "retry-1"},
            {
                "jobName": f"forgesyte-{the_job.job_id}-s2",
                **common,
                "containerOverrides": {"environment": [{"name": "FORGESYTE_SEGMENT", "value": "2"}]},
                **tags,
            },
        )
        launcher = BatchLauncher(batch, "q", "d")
        assert launcher.launch_segments(the_job, [0, 1, 2, 3]) == "array-1"
        assert launcher.launch_segments(the_job, [2]) == "retry-1"


def test_work_queue_launcher_sends_one_message_per_segment_in_batches_of_ten() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    the_job = job()
    with Stubber(sqs) as stub:
        for first, count in ((0, 10), (10, 2)):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"job_id": the_job.job_id, "segment": i})}
                for i in range(first, first + count)
            ]
            successful = [{"Id": e["Id"], "MessageId": f"m-{e['Id']}", "MD5OfMessageBody": "x"} for e in entries]
            stub.add_response(
                "send_message_batch", {"Successful": successful, "Failed": []}, {"QueueUrl": "q", "Entries": entries}
            )
        assert WorkQueueLauncher(sqs, "q").launch_segments(the_job, list(range(12))) == "m-0"


def test_a_segment_message_the_queue_refuses_fails_the_launch() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    the_job = job()
    with Stubber(sqs) as stub:
        failed = [{"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "try again"}]
        stub.add_response("send_message_batch", {"Successful": [], "Failed": failed})
        with pytest.raises(RuntimeError, match="refused segment messages"):
            WorkQueueLauncher(sqs, "q").launch_segments(the_job, [0])


def test_batch_containers_know_their_segment() -> None:
    from forgesyte_core.batch import batch_segment

    assert batch_segment({}) is None
    assert batch_segment({"FORGESYTE_SEGMENT": "7"}) == 7
    assert batch_segment({"FORGESYTE_SEGMENT_ARRAY": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "3"}) == 3
    assert batch_segment({"AWS_BATCH_JOB_ARRAY_INDEX": "3"}) is None  # an array of whole jobs is not ours
