"""Jobs as the API shows them: ForgeSyte's fields plus media info, compute backend and result_url."""

from __future__ import annotations

from typing import Any

from forgesyte_core.jobs.model import Job, JobStatus, SegmentStatus
from forgesyte_core.storage import Storage


def segments_view(job: Job) -> dict[str, int] | None:
    """How a segmented job's segments stand: how many, and how many in each state."""
    if not job.segments:
        return None
    counts = {str(status): 0 for status in SegmentStatus}
    for segment in job.segments:
        counts[str(segment.status)] += 1
    return {"total": len(job.segments), **counts}


def job_view(job: Job, storage: Storage | None = None, url_expiry_s: int = 3600) -> dict[str, Any]:
    result_url, artifact_urls = None, None
    if storage is not None and job.status == JobStatus.COMPLETED and job.output_key:
        result_url = storage.presigned_get(job.output_key, url_expiry_s)
        if job.artifacts:
            artifact_urls = {name: storage.presigned_get(key, url_expiry_s) for name, key in job.artifacts.items()}
    return {
        "job_id": job.job_id,
        "status": str(job.status),
        "plugin_id": job.plugin_id,
        "tool": job.tool,
        "job_type": job.job_type,
        "progress": job.segment_progress,
        "segments": segments_view(job),
        "error_code": job.error_code,
        "error_message": job.error_message,
        "media": job.media.to_dict() if job.media else None,
        "compute": job.compute,
        "compute_run_id": job.compute_run_id,
        "attempt": job.attempt,
        "summary": job.summary,
        "result_url": result_url,
        "artifact_urls": artifact_urls,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
    }
