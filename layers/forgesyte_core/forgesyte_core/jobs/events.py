"""Job events on EventBridge: every status change a job makes, for rules to route to SNS, Step
Functions, queues or functions, so a downstream system is told when a job ends instead of polling.

Each event is ``source: "forgesyte"``, ``detail-type: "ForgeSyte Job Status Change"`` and a detail
of the job's id, plugin, tool, status, error, input object and result location (documented in the
README).
Publishing never blocks or fails a job: a refused or failed put is retried, then logged.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from forgesyte_core.jobs.model import Job, JobStatus

log = logging.getLogger(__name__)

SOURCE = "forgesyte"
DETAIL_TYPE = "ForgeSyte Job Status Change"
ATTEMPTS = 3


def event_detail(job: Job, bucket: str) -> dict[str, Any]:
    result = {"bucket": bucket, "key": job.output_key} if job.status == JobStatus.COMPLETED and job.output_key else None
    return {
        "job_id": job.job_id,
        "status": str(job.status),
        "plugin_id": job.plugin_id,
        "tool": job.tool,
        "job_type": str(job.job_type),
        "owner": job.owner,
        "attempt": job.attempt,
        "compute": job.compute,
        "error_code": job.error_code,
        "error_message": job.error_message,
        # Which object the job reads: how a drop pipeline tells its files' jobs apart.
        "input": {"bucket": bucket, "key": job.input_key},
        "result": result,
        "artifacts": {name: {"bucket": bucket, "key": key} for name, key in (job.artifacts or {}).items()} or None,
        "callback_url": job.callback_url,
        "updated_at": job.updated_at.isoformat(),
    }


class JobEvents:
    def __init__(self, client: Any, bus_name: str, bucket: str, retry_delay_s: float = 0.2) -> None:
        self.client, self.bus_name, self.bucket, self.retry_delay_s = client, bus_name, bucket, retry_delay_s

    def published(self, job: Job) -> None:
        """Publish ``job``'s new status; never raises."""
        entry = {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(event_detail(job, self.bucket)),
            "EventBusName": self.bus_name,
            "Resources": [job.job_id],
        }
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = self.client.put_events(Entries=[entry])
                if not answer.get("FailedEntryCount"):
                    return
                reason = answer["Entries"][0].get("ErrorMessage", "refused")
            except Exception as exc:  # the job must not fail because its event did not go out
                reason = f"{type(exc).__name__}: {exc}"
            if attempt < ATTEMPTS:
                time.sleep(self.retry_delay_s * attempt)
        log.error(
            "job event not published after %d attempts: %s",
            ATTEMPTS,
            reason,
            extra={"job_id": job.job_id, "status": str(job.status)},
        )
