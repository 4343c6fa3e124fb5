"""What a caller may do with jobs: each job belongs to the caller who submitted it.

Reading, listing, fetching results and cancelling all go through here, so one caller never sees or
touches another's jobs: a job that is not yours answers exactly as a job that does not exist.
"""

from __future__ import annotations

from typing import Any

from forgesyte_core.errors import Conflict, NotFound
from forgesyte_core.jobs.model import Job, JobStatus
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.jobs.views import job_view
from forgesyte_core.settings import Settings
from forgesyte_core.storage import Storage


def caller_of(request_context: dict[str, Any]) -> str:
    """Who is calling, from API Gateway's request context: a Cognito/JWT user, else the API key."""
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    if claims.get("sub"):
        return f"user:{claims['sub']}"
    key_id = (request_context.get("identity") or {}).get("apiKeyId")
    return f"key:{key_id}" if key_id else "anonymous"


class JobAccess:
    def __init__(self, store: JobStore, storage: Storage, settings: Settings) -> None:
        self.store, self.storage, self.settings = store, storage, settings

    def owned(self, job_id: str, caller: str) -> Job:
        job = self.store.get(job_id)
        if job.owner != caller:
            raise NotFound(f"Job {job_id} not found")
        return job

    def view(self, job_id: str, caller: str) -> dict[str, Any]:
        return job_view(self.owned(job_id, caller), self.storage, self.settings.result_url_expiry_s)

    def list(self, caller: str, status: JobStatus | None, limit: int, cursor: str | None) -> dict[str, Any]:
        jobs, next_cursor = self.store.list(caller, status, limit, cursor)
        return {"jobs": [job_view(job) for job in jobs], "next_cursor": next_cursor}

    def result_url(self, job_id: str, caller: str) -> str:
        job = self.owned(job_id, caller)
        if job.status != JobStatus.COMPLETED or not job.output_key:
            raise Conflict(f"Job {job_id} is {job.status}; results exist once it is completed")
        return self.storage.presigned_get(job.output_key, self.settings.result_url_expiry_s)

    def cancel(self, job_id: str, caller: str) -> dict[str, Any]:
        """pending/queued/running → cancelled; a running plugin stops at its next progress report."""
        self.owned(job_id, caller)
        job = self.store.transition(
            job_id, JobStatus.CANCELLED, error_code="cancelled", error_message="cancelled by request"
        )
        return job_view(job)
