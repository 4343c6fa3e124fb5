"""Reconcile: nothing stays stuck. Batch failures, dead letters and a periodic sweep end as failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forgesyte_core.dispatch import job_id_from_batch_name
from forgesyte_core.errors import NotFound, TransitionConflict
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import JobStore, utcnow
from forgesyte_core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    failed: dict[str, list[str]] = field(default_factory=lambda: {"running": [], "queued": [], "pending": []})

    def total(self) -> int:
        return sum(len(ids) for ids in self.failed.values())


class Reconciler:
    def __init__(self, store: JobStore, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def fail(self, job_id: str, code: str, message: str, expected: tuple[JobStatus, ...] | None = None) -> bool:
        """Fail a job that has not ended; False when it already had (or moved on meanwhile)."""
        try:
            self.store.transition(job_id, JobStatus.FAILED, expected=expected, error_code=code, error_message=message)
        except (TransitionConflict, NotFound) as exc:
            log.info("not failing %s: %s", job_id, exc)
            return False
        log.info("failed job %s: %s", job_id, message)
        return True

    def batch_state_change(self, detail: dict[str, Any]) -> bool:
        """An EventBridge "Batch Job State Change" detail; only FAILED ends a job here."""
        if detail.get("status") != "FAILED":
            return False
        job_id = (detail.get("parameters") or {}).get("job_id") or job_id_from_batch_name(
            str(detail.get("jobName", ""))
        )
        if not job_id:
            log.info("ignoring Batch job %s: not a ForgeSyte job", detail.get("jobName"))
            return False
        reason = detail.get("statusReason") or "no reason given"
        container = detail.get("container") or {}
        if container.get("reason"):
            reason = f"{reason}; container: {container['reason']}"
        if container.get("exitCode") is not None:
            reason = f"{reason} (exit code {container['exitCode']})"
        return self.fail(job_id, "batch_failed", f"the AWS Batch job failed: {reason}")

    def dead_letter(self, job_id: str, receive_count: int | None = None) -> bool:
        """A work-queue message the runner could not process within its retries."""
        tries = f" after {receive_count} attempts" if receive_count else ""
        return self.fail(
            job_id, "runner_failed", f"the runner could not process the job{tries} (Lambda crash or timeout)"
        )

    def sweep(self, now: datetime | None = None) -> SweepReport:
        now = now or utcnow()
        s = self.settings
        report = SweepReport()
        heartbeat_cutoff = now - timedelta(seconds=s.heartbeat_timeout_s)
        for job in self.store.iter_status(JobStatus.RUNNING):
            last = job.heartbeat_at or job.updated_at
            if last < heartbeat_cutoff and self.fail(
                job.job_id,
                "timeout",
                f"no progress from the runner for {s.heartbeat_timeout_s} s (it crashed or timed out)",
                expected=(JobStatus.RUNNING,),
            ):
                report.failed["running"].append(job.job_id)
        queued_cutoff = now - timedelta(seconds=s.queued_timeout_s)
        for job in self.store.iter_status(JobStatus.QUEUED, created_before=queued_cutoff):
            if job.updated_at < queued_cutoff and self.fail(
                job.job_id,
                "dispatch_timeout",
                f"the job waited more than {s.queued_timeout_s} s for a runner to start",
                expected=(JobStatus.QUEUED,),
            ):
                report.failed["queued"].append(job.job_id)
        grace = timedelta(seconds=s.upload_grace_s)
        for job in self.store.iter_status(JobStatus.PENDING, created_before=now - grace):
            if job.upload_expires_at + grace < now and self.fail(
                job.job_id,
                "upload_expired",
                "no upload arrived before the upload URL expired; submit the job again",
                expected=(JobStatus.PENDING,),
            ):
                report.failed["pending"].append(job.job_id)
        return report
