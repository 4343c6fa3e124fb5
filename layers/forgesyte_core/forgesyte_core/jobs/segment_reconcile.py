"""Reconcile for segmented jobs: a segment whose run died is retried alone, as a whole job's run is.

The same three signals as whole runs: a segment whose heartbeat stopped (the sweep), a segment's
work message dead-lettered, a segment's Batch job (or array child) FAILED. A segment with attempts
left goes back to queued and is launched again; one without fails the job, naming it. Segments left
queued with nothing running them (a relaunch that could not be sent) are launched again, and a job
whose segments are all done but whose merge died is merged again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from forgesyte_core.compute.dispatch import ARRAY_VARIABLE, SEGMENT_VARIABLE, Dispatcher
from forgesyte_core.errors import NotFound, TransitionConflict
from forgesyte_core.jobs.model import TERMINAL, Job, JobStatus, SegmentStatus
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.settings import Settings

log = logging.getLogger(__name__)


class SegmentReconciler:
    def __init__(self, store: JobStore, settings: Settings, dispatcher: Dispatcher | None) -> None:
        self.store, self.settings, self.dispatcher = store, settings, dispatcher

    def segment_died(self, job: Job, index: int, code: str, reason: str, run_id: str | None = None) -> str:
        """retried | failed | unchanged, for segment ``index`` of ``job`` whose run died."""
        segment = next((s for s in job.segments or [] if s.index == index), None)
        if job.status in TERMINAL or segment is None or segment.status != SegmentStatus.RUNNING:
            return "unchanged"
        if run_id and segment.run_id and segment.run_id != run_id:
            log.info("ignoring a dead run of segment %d of %s: not its current run", index, job.job_id)
            return "unchanged"
        where = segment.describe(len(job.segments or []))
        if self.dispatcher is None or segment.attempt >= self.settings.max_attempts:
            message = f"{where} failed after {segment.attempt} attempts: {reason}"
            return "failed" if self._fail(job.job_id, code, message) else "unchanged"
        try:
            queued = self.store.requeue_segment(job.job_id, index, segment.run_id, reason)
        except (TransitionConflict, NotFound) as exc:
            log.info("not retrying segment %d of %s: %s", index, job.job_id, exc)
            return "unchanged"
        return self._launch(queued, index, reason)

    def sweep(self, job: Job, now: datetime) -> str:
        """A running segmented job: retry its segments that stopped beating; relaunch the queued ones
        and the merge when the whole job has been silent. retried | failed | unchanged."""
        cutoff = now - timedelta(seconds=self.settings.heartbeat_timeout_s)
        outcome = "unchanged"
        for segment in job.segments or []:
            beat = datetime.fromisoformat(segment.heartbeat_at) if segment.heartbeat_at else None
            if segment.status == SegmentStatus.RUNNING and (beat is None or beat < cutoff):
                reason = f"no progress from the segment's runner for {self.settings.heartbeat_timeout_s} s"
                result = self.segment_died(job, segment.index, "timeout", reason)
                if result == "failed":
                    return result
                outcome = "retried" if result == "retried" else outcome
        silent = (job.heartbeat_at or job.updated_at) < cutoff
        if not silent or self.dispatcher is None:
            return outcome
        if job.segments and job.segments_done >= len(job.segments):
            self.dispatcher.launch_merge(job)
            log.info("merge of %s relaunched: every segment is done but the job is not", job.job_id)
            return "retried"
        for segment in job.segments or []:
            if segment.status == SegmentStatus.QUEUED:
                outcome = self._launch(job, segment.index, "nothing ran the queued segment")
        return outcome

    def _launch(self, job: Job, index: int, reason: str) -> str:
        assert self.dispatcher is not None
        try:
            run_id = self.dispatcher.launch_segment(job, index)
        except Exception as exc:  # no relaunch: end the job with both reasons
            log.exception("segment relaunch failed")
            message = f"segment {index}: {reason}; its retry could not start: {exc}"
            return "failed" if self._fail(job.job_id, "dispatch_failed", message) else "unchanged"
        log.info("segment %d of %s relaunched as %s: %s", index, job.job_id, run_id, reason)
        return "retried"

    def _fail(self, job_id: str, code: str, message: str) -> bool:
        try:
            self.store.transition(
                job_id,
                JobStatus.FAILED,
                expected=(JobStatus.RUNNING, JobStatus.QUEUED),
                error_code=code,
                error_message=message[:2000],
            )
        except (TransitionConflict, NotFound) as exc:
            log.info("not failing %s: %s", job_id, exc)
            return False
        return True


def batch_segment(detail: Mapping[str, Any]) -> int | None:
    """The segment a "Batch Job State Change" is for: its own job's variable, or its array index;
    None for a whole job's run or an array's parent."""
    container = detail.get("container") or {}
    environment = {e.get("name"): e.get("value") for e in container.get("environment") or [] if isinstance(e, dict)}
    if str(environment.get(SEGMENT_VARIABLE, "")).strip():
        return int(str(environment[SEGMENT_VARIABLE]))
    index = (detail.get("arrayProperties") or {}).get("index")
    if environment.get(ARRAY_VARIABLE) == "1" and index is not None:
        return int(index)
    return None
