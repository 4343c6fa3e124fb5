"""Segmented runs through the real handlers on moto: fan-out on the work queue, one merge, faults.

The stack is deployed with SegmentMinVideoSeconds=4 and SegmentSeconds=2, so a 12 s test video
(OpenCV's mp4v, a keyframe every 12 frames) is cut into segments; ``count_segment`` (the test plugin)
declares ``"segments": {"stitch": "tracks"}`` and reports its one blob as track 7 in every segment.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from forgesyte_core import wiring
from forgesyte_core.jobs.model import JobStatus, SegmentStatus
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, LambdaContext, call_api, load_event, sqs_event, upload
from tests.integration.pipeline import ingest, job, results, run_work, submit
from tests.media_factory import write_mp4v

SEGMENTED = pytest.mark.template_parameters(SegmentMinVideoSeconds="4", SegmentSeconds="2")


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_mp4v(tmp_path_factory.mktemp("segments") / "long.mp4", frames=300, fps=25.0).read_bytes()


def start(aws: Aws, data: bytes, tool: str = "count_segment", options: dict[str, Any] | None = None) -> str:
    created = submit("video", "frame-counter", tool, data, "video/mp4", options)
    upload(created, data)
    ingest(aws)
    return str(created["job_id"])


def run_messages(messages: list[dict[str, Any]]) -> dict[str, Any]:
    import runner_app

    result: dict[str, Any] = runner_app.lambda_handler(sqs_event(messages), LambdaContext())
    return result


@SEGMENTED
def test_a_long_video_runs_as_segments_and_merges_into_one_unsplit_shaped_result(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video)
    stored = wiring.job_store().get(job_id)
    segments = stored.segments or []
    # 12 s in cuts of 60 frames: 2 s asked, but at least twice the 30-frame overlap
    assert [(s.start_frame, s.end_frame) for s in segments] == [(i * 60, i * 60 + 60) for i in range(5)]
    assert all(s.decode_from in range(0, s.start_frame - 29, 12) for s in segments[1:])  # a keyframe, 30 before
    messages = aws.drain("WorkQueue")
    assert sorted(json.loads(m["Body"])["segment"] for m in messages) == list(range(5))
    run_messages(messages)

    done = job(job_id)
    assert done["status"] == "completed", done
    document = results(aws, job_id)
    indices = [frame["frame_index"] for frame in document["frames"]]
    assert indices == list(range(300))  # every frame once, in order, with its global index
    assert document["frames"][299]["timestamp_ms"] == pytest.approx(299 * 40.0)
    ids = {obj["track_id"] for frame in document["frames"] for obj in frame["detections"]["tracked_objects"]}
    assert ids == {1}  # one object, one id across four cuts
    assert document["total_frames"] == 300
    assert [s["index"] for s in document["segments"]] == list(range(5))
    assert all(s["attempts"] == 1 for s in document["segments"])
    # Each segment read only part of the file: its samples, the moov, the ftyp.
    assert all(s["bytes_read"] < len(long_video) for s in document["segments"])
    assert done["summary"]["segments"] == 5
    assert done["summary"]["frame_count"] == 300


@SEGMENTED
def test_duplicate_and_late_segment_messages_never_merge_twice(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video)
    messages = aws.drain("WorkQueue")
    merges = []
    real_merge = wiring.segment_runner().merge
    wiring.segment_runner().merge = lambda job: merges.append(job.job_id) or real_merge(job)  # type: ignore[method-assign]
    run_messages(messages[:3] + messages[:3])  # duplicates while others wait
    run_messages(messages[3:] + messages)  # the rest, then every message again, late
    stored = wiring.job_store().get(job_id)
    assert stored.status == "completed"
    assert stored.segments_done == 5
    assert merges == [job_id]


@SEGMENTED
def test_a_failed_segment_is_retried_alone(aws: Aws, long_video: bytes, tmp_path: Path) -> None:
    job_id = start(aws, long_video, options={"fail_segments": str(tmp_path)})
    third = (wiring.job_store().get(job_id).segments or [])[2]
    (tmp_path / str(third.decode_from)).touch()
    run_work(aws)  # five segments, the third fails and is sent again
    after_one_round = wiring.job_store().get(job_id)
    assert after_one_round.status == "running"
    assert [s.status for s in after_one_round.segments or []].count(SegmentStatus.QUEUED) == 1
    assert "injected failure" in str((after_one_round.segments or [])[2].error)
    run_work(aws)  # only the retry is waiting
    done = wiring.job_store().get(job_id)
    assert done.status == "completed"
    assert [s.attempt for s in done.segments or []] == [1, 1, 2, 1, 1]


@SEGMENTED
def test_a_segment_out_of_attempts_fails_the_job_naming_it(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video, options={"fail_always": True})
    run_work(aws)
    run_work(aws)
    done = job(job_id)
    assert done["status"] == "failed"
    assert done["error_code"] == "plugin_error"
    assert "segment " in done["error_message"]
    assert "after 2 attempts" in done["error_message"]
    assert "injected failure" in done["error_message"]


@SEGMENTED
def test_cancel_stops_every_segment(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video)
    messages = aws.drain("WorkQueue")
    run_messages(messages[:2])
    status, body, _ = call_api("POST", f"/v1/jobs/{job_id}/cancel")
    assert status == 200, body
    run_messages(messages[2:])
    stored = wiring.job_store().get(job_id)
    assert stored.status == "cancelled"
    assert stored.segments_done == 2  # nothing ran after the cancel
    assert not aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix=f"results/{job_id}.json").get("Contents")


@SEGMENTED
@pytest.mark.usefixtures("every_progress")
def test_progress_is_frames_done_over_all_segments(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video)
    messages = aws.drain("WorkQueue")
    run_messages(messages[:3])
    view = job(job_id)
    assert view["status"] == "running"
    assert view["progress"] == 60  # three of five equal segments
    assert view["segments"] == {"total": 5, "queued": 2, "running": 0, "done": 3}


@SEGMENTED
def test_a_tool_that_says_nothing_about_segments_runs_whole(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video, tool="count_frames")
    assert wiring.job_store().get(job_id).segments is None
    messages = aws.drain("WorkQueue")
    assert len(messages) == 1
    assert "segment" not in messages[0]["Body"]
    run_messages(messages)
    assert job(job_id)["status"] == "completed"


# -- faults the reconcile function handles: each names its segment and retries it alone ------------


def reconcile(event: dict[str, Any]) -> dict[str, Any]:
    import reconcile_app

    result: dict[str, Any] = reconcile_app.lambda_handler(event, LambdaContext())
    return result


def claimed_and_lost(aws: Aws, data: bytes, index: int = 1) -> tuple[str, str]:
    """A segmented job whose segment ``index`` was claimed by a run that then vanished (a killed runner)."""
    job_id = start(aws, data)
    aws.drain("WorkQueue")
    store = wiring.job_store()
    store.transition(job_id, JobStatus.RUNNING, expected=(JobStatus.QUEUED,), heartbeat_at=utcnow())
    store.claim_segment(job_id, index, "lost-run", 2)
    return job_id, "lost-run"


def segment_messages(aws: Aws) -> list[int]:
    return sorted(
        int(json.loads(m["Body"])["segment"])
        for m in aws.sqs.receive_message(
            QueueUrl=aws.queue("WorkQueue"), MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
    )


@SEGMENTED
def test_the_sweep_retries_a_segment_whose_runner_went_silent(aws: Aws, long_video: bytes) -> None:
    job_id, _ = claimed_and_lost(aws, long_video, index=1)
    report = wiring.reconciler().sweep(now=utcnow() + timedelta(minutes=10))
    assert report.retried == [job_id]
    stored = wiring.job_store().get(job_id)
    assert (stored.segments or [])[1].status == SegmentStatus.QUEUED
    assert "no progress" in str((stored.segments or [])[1].error)
    # The silent one again, and (the job was silent: their messages were drained above, as if lost)
    # the queued ones; a duplicate of a message still waiting would lose its claim.
    assert segment_messages(aws) == [0, 1, 2, 3, 4]
    run_work(aws)
    done = wiring.job_store().get(job_id)
    assert done.status == "completed"
    assert [s.attempt for s in done.segments or []] == [1, 2, 1, 1, 1]


@SEGMENTED
def test_a_dead_lettered_segment_message_retries_that_segment_then_fails_naming_it(aws: Aws, long_video: bytes) -> None:
    job_id, _ = claimed_and_lost(aws, long_video, index=3)
    event = load_event("work-dead-letter.json")
    event["Records"][0]["body"] = json.dumps({"job_id": job_id, "segment": 3})
    assert reconcile(event) == {"dead_letters": 1, "failed": 0}
    assert segment_messages(aws) == [3]
    aws.drain("WorkQueue")
    wiring.job_store().claim_segment(job_id, 3, "lost-again", 2)  # the retry dies too
    assert reconcile(event) == {"dead_letters": 1, "failed": 1}
    failed = job(job_id)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "runner_failed"
    assert failed["error_message"].startswith("segment 3 of 5 (frames 180-240) failed after 2 attempts")


@SEGMENTED
def test_a_failed_batch_array_child_retries_its_segment(aws: Aws, long_video: bytes) -> None:
    job_id, run = claimed_and_lost(aws, long_video, index=2)
    wiring.job_store().set_fields(job_id, JobStatus.RUNNING, compute="lambda")
    event = load_event("batch-job-failed.json")
    detail = event["detail"]
    detail.update(jobId=run, jobName=f"forgesyte-{job_id}", parameters={"job_id": job_id})
    detail["container"]["environment"] = [{"name": "FORGESYTE_SEGMENT_ARRAY", "value": "1"}]
    parent = copy.deepcopy(event)
    parent["detail"]["arrayProperties"] = {"size": 5}
    assert reconcile(parent) == {"failed": 0}  # the array's own event: its children say which segment
    assert segment_messages(aws) == []
    detail["arrayProperties"] = {"index": 2}
    assert reconcile(event) == {"failed": 0}
    assert segment_messages(aws) == [2]
    run_work(aws)
    assert (wiring.job_store().get(job_id).segments or [])[2].attempt == 2


@SEGMENTED
def test_the_sweep_merges_again_when_the_merge_died(aws: Aws, long_video: bytes) -> None:
    job_id = start(aws, long_video)
    runner = wiring.segment_runner()

    def killed(job: Any) -> None:
        raise SystemExit("the runner was killed during the merge")

    runner.merge = killed  # type: ignore[assignment,method-assign]
    with pytest.raises(SystemExit):
        run_work(aws)
    del runner.merge
    stored = wiring.job_store().get(job_id)
    assert stored.status == "running"
    assert stored.segments_done == 5
    report = wiring.reconciler().sweep(now=utcnow() + timedelta(minutes=10))
    assert report.retried == [job_id]
    run_work(aws)
    assert job(job_id)["status"] == "completed"
    assert results(aws, job_id)["total_frames"] == 300
