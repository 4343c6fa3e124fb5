"""Reconcile: nothing stays stuck. Batch failures, dead letters and a periodic sweep end as failed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forgesyte_core.compute.dispatch import Dispatcher, job_id_from_batch_name
from forgesyte_core.errors import AlreadyExists, NotFound, TransitionConflict
from forgesyte_core.intake.drops import DROP_OWNER, create_drop_job, drop_job_id, drop_job_type, parse_drop_key
from forgesyte_core.jobs.model import TERMINAL, Job, JobStatus
from forgesyte_core.jobs.segment_reconcile import SegmentReconciler, batch_segment
from forgesyte_core.jobs.store import JobStore, utcnow
from forgesyte_core.settings import Settings
from forgesyte_core.storage import job_id_from_key

log = logging.getLogger(__name__)

DROP_NOT_INGESTED = (
    "ingest could not validate the dropped object: it crashed, timed out or ran out of memory on every try; "
    "check that it is a normal MP4/MOV/3GP or PNG/JPEG/WebP and write it again"
)


def batch_failure_reason(detail: dict[str, Any]) -> str:
    """The reason a person can act on: the last attempt's container reason and exit code first."""
    attempts = detail.get("attempts") or []
    last = attempts[-1] if attempts and isinstance(attempts[-1], dict) else {}
    container = last.get("container") or detail.get("container") or {}
    parts = []
    if container.get("reason"):
        parts.append(str(container["reason"]))
    exit_code = container.get("exitCode")
    if exit_code is not None:
        parts.append(f"exit code {exit_code}" + (" (killed: out of memory or stopped)" if exit_code == 137 else ""))
    status_reason = last.get("statusReason") or detail.get("statusReason")
    if status_reason:
        parts.append(str(status_reason))
    return "; ".join(parts) or "no reason given"


@dataclass
class SweepReport:
    failed: dict[str, list[str]] = field(default_factory=lambda: {"running": [], "queued": [], "pending": []})
    errors: dict[str, str] = field(default_factory=dict)  # job id → why it could not be failed
    retried: list[str] = field(default_factory=list)  # running jobs whose dead run was relaunched

    def total(self) -> int:
        return sum(len(ids) for ids in self.failed.values())


class Reconciler:
    def __init__(self, store: JobStore, settings: Settings, dispatcher: Dispatcher | None = None) -> None:
        self.store, self.settings, self.dispatcher = store, settings, dispatcher
        self.segments = SegmentReconciler(store, settings, dispatcher)

    def run_died(self, job: Job, code: str, reason: str) -> str:
        """A run of ``job`` died: retry it while attempts remain (``retried``), else fail it (``failed``).

        The requeue is conditional on the dead run still being the job's run, so a job already
        claimed by a newer run is left alone (``unchanged``); the dead runner, should it wake, can
        no longer write (its writes are conditional on its own run id).
        """
        if job.status in TERMINAL:
            return "unchanged"
        if job.status != JobStatus.RUNNING:  # it never started: nothing to retry
            return "failed" if self.fail(job.job_id, code, reason, expected=(job.status,)) else "unchanged"
        if self.dispatcher is None or job.attempt >= self.settings.max_attempts:
            message = f"{reason} (after {job.attempt} of {self.settings.max_attempts} attempts)"
            ok = self.fail(job.job_id, code, message, expected=(JobStatus.RUNNING,), owner_run=job.compute_run_id)
            return "failed" if ok else "unchanged"
        try:
            queued = self.store.transition(
                job.job_id,
                JobStatus.QUEUED,
                expected=(JobStatus.RUNNING,),
                owner_run=job.compute_run_id,
                compute_run_id=None,
                heartbeat_at=None,
                progress=0,
                error_message=f"retrying (attempt {job.attempt + 1} of {self.settings.max_attempts}): {reason}",
            )
        except (TransitionConflict, NotFound) as exc:
            log.info("not retrying %s: %s", job.job_id, exc)
            return "unchanged"
        try:
            backend, run_id = self.dispatcher.launch(queued)
        except Exception as exc:  # no relaunch: end it with both reasons
            log.exception("relaunch failed")
            self.fail(job.job_id, "dispatch_failed", f"{reason}; the retry could not start: {exc}", (JobStatus.QUEUED,))
            return "failed"
        with contextlib.suppress(TransitionConflict):  # the new run may have claimed it already
            self.store.set_fields(job.job_id, JobStatus.QUEUED, compute=backend, compute_run_id=run_id)
        log.info("retrying job %s on %s: %s", job.job_id, backend, reason)
        return "retried"

    def fail(
        self,
        job_id: str,
        code: str,
        message: str,
        expected: tuple[JobStatus, ...] | None = None,
        owner_run: str | None = None,
    ) -> bool:
        """Fail a job that has not ended; False when it already had (or moved on, or runs another run)."""
        try:
            self.store.transition(
                job_id,
                JobStatus.FAILED,
                expected=expected,
                owner_run=owner_run,
                error_code=code,
                error_message=message,
            )
        except (TransitionConflict, NotFound) as exc:
            log.info("not failing %s: %s", job_id, exc)
            return False
        log.info("failed job %s: %s", job_id, message)
        return True

    def batch_state_change(self, detail: dict[str, Any]) -> bool:
        """An EventBridge "Batch Job State Change" detail: a FAILED run of the job's current run is
        retried while attempts remain, else the job fails with the container's reason."""
        if detail.get("status") != "FAILED":
            return False
        job_id = (detail.get("parameters") or {}).get("job_id") or job_id_from_batch_name(
            str(detail.get("jobName", ""))
        )
        if not job_id:
            log.info("ignoring Batch job %s: not a ForgeSyte job", detail.get("jobName"))
            return False
        run_id = str(detail["jobId"]) if detail.get("jobId") else None
        job = self.store.find(job_id)
        if job is not None and job.segments:  # a segment's job or array child; an array's parent says nothing new
            segment = batch_segment(detail)
            if segment is None:
                return False
            reason = f"the AWS Batch job failed: {batch_failure_reason(detail)}"
            return self.segments.segment_died(job, segment, "batch_failed", reason, run_id) == "failed"
        if job is None or (run_id and job.compute_run_id and job.compute_run_id != run_id):
            log.info("ignoring a Batch event for job %s: not its current run", job_id)
            return False
        reason = f"the AWS Batch job failed: {batch_failure_reason(detail)}"
        return self.run_died(job, "batch_failed", reason) == "failed"

    def dead_letter(self, job_id: str, segment: int | None = None) -> bool:
        """A work-queue message the runner could not process within the queue's retries: a run that
        died is retried (or failed when attempts ran out); a job never claimed fails. A segment's
        message retries (or fails) that segment."""
        job = self.store.find(job_id)
        if job is None:
            log.info("dead letter for unknown job %s", job_id)
            return False
        if segment is not None and job.segments:
            reason = f"the runner Lambda died while running segment {segment} (crash, timeout or out of memory)"
            return self.segments.segment_died(job, segment, "runner_failed", reason) == "failed"
        if job.segments:  # its merge's message: the sweep merges again once the job has been silent
            log.info("dead letter for the merge of %s: left to the sweep", job_id)
            return False
        if job.status == JobStatus.RUNNING:
            reason = "the runner Lambda died while running the job (crash, timeout or out of memory)"
            return self.run_died(job, "runner_failed", reason) == "failed"
        message = "the runner could not start the job before the work queue gave up on it (Lambda crash at start)"
        return self.fail(job_id, "runner_failed", message)

    def arrival_dead_letter(self, key: str, version: str) -> bool:
        """An S3 arrival ingest could not process on any try: an upload's job, or a drop's."""
        job_id = job_id_from_key(key)
        return self.upload_dead_letter(job_id) if job_id else self.drop_dead_letter(key, version)

    def upload_dead_letter(self, job_id: str) -> bool:
        """An upload event ingest could not process within the upload queue's retries (it crashed,
        timed out or ran out of memory each time): the job fails now, with that reason, rather than
        later as upload_expired."""
        message = (
            "ingest could not validate the upload: it crashed, timed out or ran out of memory on every try; "
            "check that the file is a normal MP4/MOV/3GP or PNG/JPEG/WebP and submit the job again"
        )
        return self.fail(job_id, "ingest_failed", message, expected=(JobStatus.PENDING,))

    def drop_dead_letter(self, key: str, version: str) -> bool:
        """A drop's event ingest could not process on any try: its job fails with that reason; when
        ingest died before making the job, the job is made here, failed, so the drop does not vanish."""
        drop = parse_drop_key(key, self.settings.drop_prefix)
        if drop is None:
            log.info("dead letter for %s: not a drop", key)
            return False
        job_id = drop_job_id(key, version)
        if self.store.find(job_id) is None:
            with contextlib.suppress(AlreadyExists):
                create_drop_job(self.store, self.settings, drop, key, job_id, drop_job_type("", key, frozenset()))
        return self.fail(job_id, "ingest_failed", DROP_NOT_INGESTED, expected=(JobStatus.PENDING,))

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """Fail stuck jobs. Each job is handled on its own: one that cannot be written is logged and
        reported, and the sweep goes on with the rest."""
        now = now or utcnow()
        s = self.settings
        report = SweepReport()
        heartbeat_cutoff = now - timedelta(seconds=s.heartbeat_timeout_s)
        for job in self.store.iter_status(JobStatus.RUNNING):
            if job.segments:
                self._sweep_segments(report, job, now)
                continue
            last = job.heartbeat_at or job.updated_at
            if last < heartbeat_cutoff:
                message = f"no progress from the runner for {s.heartbeat_timeout_s} s (it crashed or timed out)"
                self._sweep_running(report, job, message)
        queued_cutoff = now - timedelta(seconds=s.queued_timeout_s)
        for job in self.store.iter_status(JobStatus.QUEUED, created_before=queued_cutoff):
            if job.updated_at < queued_cutoff:
                message = f"the job waited more than {s.queued_timeout_s} s for a runner to start"
                self._sweep_one(report, "queued", job.job_id, "dispatch_timeout", message)
        grace = timedelta(seconds=s.upload_grace_s)
        for job in self.store.iter_status(JobStatus.PENDING, created_before=now - grace):
            if job.upload_expires_at + grace < now and job.owner == DROP_OWNER:  # its object is there
                self._sweep_one(report, "pending", job.job_id, "ingest_failed", DROP_NOT_INGESTED)
            elif job.upload_expires_at + grace < now:
                message = "no upload arrived before the upload URL expired; submit the job again"
                self._sweep_one(report, "pending", job.job_id, "upload_expired", message)
        return report

    def _sweep_running(self, report: SweepReport, job: Job, message: str) -> None:
        self._sweep_step(report, job, lambda: self.run_died(job, "timeout", message))

    def _sweep_segments(self, report: SweepReport, job: Job, now: datetime) -> None:
        self._sweep_step(report, job, lambda: self.segments.sweep(job, now))

    def _sweep_step(self, report: SweepReport, job: Job, step: Callable[[], str]) -> None:
        try:
            outcome = step()
        except Exception as exc:  # isolation, as in _sweep_one
            log.exception("sweep could not handle job %s", job.job_id)
            report.errors[job.job_id] = f"{type(exc).__name__}: {exc}"
            return
        if outcome == "failed":
            report.failed["running"].append(job.job_id)
        elif outcome == "retried":
            report.retried.append(job.job_id)

    def _sweep_one(self, report: SweepReport, status: str, job_id: str, code: str, message: str) -> None:
        try:
            if self.fail(job_id, code, message, expected=(JobStatus(status),)):
                report.failed[status].append(job_id)
        except Exception as exc:  # isolation: one job the store refuses must not stop the sweep
            log.exception("sweep could not fail job %s", job_id)
            report.errors[job_id] = f"{type(exc).__name__}: {exc}"
