"""The runner: Batch entrypoint, progress and heartbeat, cancellation mid-run, failures."""

from __future__ import annotations

from typing import Any

import pytest

from forgesyte_core import wiring
from forgesyte_core.batch import main
from forgesyte_core.compute.runner import ProgressReporter
from forgesyte_core.errors import JobCancelled
from forgesyte_core.jobs.model import JobStatus
from tests.helpers import Aws, upload
from tests.integration.pipeline import ingest, job, results, submit
from tests.media_factory import MediaFiles


def queued(aws: Aws, media: MediaFiles, plugin_id: str = "frame-counter", tool: str = "count_frames") -> str:
    data = media.mp4v.read_bytes()
    created = submit("video", plugin_id, tool, data, "video/mp4")
    upload(created, data)
    ingest(aws)
    aws.drain("WorkQueue")
    return str(created["job_id"])


def test_batch_entrypoint_runs_a_job(aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = queued(aws, media)
    monkeypatch.setenv("AWS_BATCH_JOB_ID", "batch-run-42")
    assert main([job_id]) == 0
    done = job(job_id)
    assert done["status"] == "completed"
    assert done["compute"] == "batch"
    assert done["compute_run_id"] == "batch-run-42"
    assert results(aws, job_id)["total_frames"] == 30
    assert main([job_id]) == 0, "a second start finds the job taken and does nothing"
    assert main([]) == 2


def test_batch_entrypoint_exit_code_reports_failure(aws: Aws, media: MediaFiles) -> None:
    job_id = queued(aws, media, "crasher", "explode")
    assert main([job_id]) == 1
    assert job(job_id)["status"] == "failed"


def test_progress_is_throttled_and_is_the_heartbeat(aws: Aws, media: MediaFiles) -> None:
    job_id = queued(aws, media)
    store = wiring.job_store()
    store.transition(job_id, JobStatus.RUNNING)
    now = [0.0]
    reporter = ProgressReporter(store, job_id, interval=2.0, clock=lambda: now[0])
    for second in range(10):
        now[0] = second * 0.5
        reporter(second + 1, 10)
    assert reporter.writes == 2  # at t=2.0 and t=4.0
    current = store.get(job_id)
    assert current.progress == 90
    assert current.heartbeat_at is not None


def test_cancel_during_a_run_stops_the_plugin(aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = queued(aws, media)
    store = wiring.job_store()
    store.transition(job_id, JobStatus.RUNNING)
    store.transition(job_id, JobStatus.CANCELLED)
    reporter = ProgressReporter(store, job_id, interval=0.0)
    with pytest.raises(JobCancelled):
        reporter(1, 10)


@pytest.mark.usefixtures("every_progress")
def test_cancelled_while_running_ends_cancelled_without_results(aws: Aws, media: MediaFiles) -> None:

    job_id = queued(aws, media)
    runner = wiring.runner()
    plugin = runner.registry.load("frame-counter").instance
    original = plugin.run_tool

    def cancel_then_run(tool: str, args: dict[str, Any]) -> Any:
        wiring.job_store().transition(job_id, JobStatus.CANCELLED)
        return original(tool, args)

    plugin.run_tool = cancel_then_run
    assert runner.run(job_id, "lambda") is None
    assert job(job_id)["status"] == "cancelled"
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="results/")


def test_missing_plugin_fails_the_job(aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = queued(aws, media)
    monkeypatch.setenv("PLUGIN_ALLOWLIST", "text-reader")
    from forgesyte_core.settings import reset_settings

    reset_settings()
    assert main([job_id]) == 1
    failed = job(job_id)
    assert failed["error_code"] == "plugin_load_error"
    assert failed["error_message"] == "plugin 'frame-counter' is not installed (not in PLUGIN_ALLOWLIST)"
