"""Each ended job is one metric line (embedded metric format) that the alarms and dashboard read:
the outcome, a failure's error code, a completed run's time by plugin, tool and compute."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from forgesyte_core.jobs.model import Job, JobStatus, JobType
from forgesyte_core.jobs.outcome_metrics import record_outcome

NOW = datetime(2026, 12, 3, tzinfo=UTC)
JOB = Job("j1", "motion-tracker", "video_track", JobType.VIDEO, "uploads/j1", "video/mp4", 10, NOW, NOW, NOW, NOW)


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    """Metric name → its dimensions and value, from the EMF lines printed."""
    found = {}
    for line in capsys.readouterr().out.splitlines():
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "ForgeSyte"
        (metric,) = directive["Metrics"]
        (dimensions,) = directive["Dimensions"]
        found[metric["Name"]] = {"dimensions": {d: blob[d] for d in dimensions}, "value": blob[metric["Name"]]}
    return found


@pytest.fixture(autouse=True)
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "forgesyte")


def test_a_failed_job_counts_by_outcome_and_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    record_outcome(replace(JOB, status=JobStatus.FAILED, error_code="invalid_media"))
    found = emitted(capsys)
    assert found["JobsEnded"] == {"dimensions": {"service": "forgesyte", "Outcome": "failed"}, "value": [1.0]}
    assert found["JobsFailed"]["dimensions"] == {"service": "forgesyte", "ErrorCode": "invalid_media"}
    assert "RunSeconds" not in found


def test_a_completed_job_records_its_run_time_by_plugin_tool_and_compute(capsys: pytest.CaptureFixture[str]) -> None:
    record_outcome(replace(JOB, status=JobStatus.COMPLETED, compute="batch", summary={"run_seconds": 12.5}))
    found = emitted(capsys)
    assert found["JobsEnded"]["dimensions"]["Outcome"] == "completed"
    assert found["RunSeconds"] == {
        "dimensions": {"service": "forgesyte", "Plugin": "motion-tracker", "Tool": "video_track"},
        "value": [12.5],
    }
    assert found["ComputeSeconds"]["dimensions"]["Compute"] == "batch"
    assert "JobsFailed" not in found


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING])
def test_a_job_still_under_way_records_nothing(status: JobStatus, capsys: pytest.CaptureFixture[str]) -> None:
    record_outcome(replace(JOB, status=status))
    assert capsys.readouterr().out == ""


def test_nothing_is_written_where_metrics_are_switched_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    record_outcome(replace(JOB, status=JobStatus.FAILED, error_code="invalid_media"))
    assert capsys.readouterr().out == ""
