"""The storage-neutral job record and its state machine.

pending → queued → running → completed | failed | cancelled; any non-terminal status may also end
failed or cancelled. Nothing leaves a terminal status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from forgesyte_core.media.info import MediaInfo


class JobStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class Backend(StrEnum):
    """Where a job runs: the runner Lambda, AWS Batch, or the local stack's in-process stand-ins."""

    LAMBDA = "lambda"
    BATCH = "batch"
    LOCAL = "local"


class SegmentStatus(StrEnum):
    """A segment of a segmented video job: queued → running → done; running → queued to retry it."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


@dataclass
class Segment:
    """One cut of a segmented video job: it reports frames [start_frame, end_frame) and decodes from
    the keyframe ``decode_from`` (earlier, for the overlap its tracks are stitched in and the pre-roll)."""

    index: int
    start_frame: int
    end_frame: int
    decode_from: int
    status: SegmentStatus = SegmentStatus.QUEUED
    attempt: int = 0
    run_id: str | None = None
    heartbeat_at: str | None = None  # ISO 8601, UTC
    frames_done: int = 0
    error: str | None = None
    seconds: float | None = None  # the plugin's run, once done
    bytes_read: int | None = None  # of the input, once done

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    def owns(self, frame_index: int) -> bool:
        return self.start_frame <= frame_index < self.end_frame

    def describe(self, of: int) -> str:
        return f"segment {self.index} of {of} (frames {self.start_frame}-{self.end_frame})"

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("index", "start_frame", "end_frame", "decode_from", "attempt", "frames_done", "bytes_read"):
            if values.get(name) is not None:
                values[name] = int(values[name])
        if values.get("seconds") is not None:
            values["seconds"] = float(values["seconds"])
        values["status"] = SegmentStatus(values.get("status", SegmentStatus.QUEUED))
        return cls(**values)


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

_NEXT: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.QUEUED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    # running → queued: a run that died is retried (reconcile), while attempts remain.
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}),
}


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in _NEXT.get(current, frozenset())


def sources_of(target: JobStatus) -> tuple[JobStatus, ...]:
    """Every status from which ``target`` may be reached, in a stable order."""
    return tuple(status for status in JobStatus if can_transition(status, target))


@dataclass
class Job:
    job_id: str
    plugin_id: str
    tool: str
    job_type: JobType
    input_key: str
    content_type: str
    declared_bytes: int
    created_at: datetime
    updated_at: datetime
    upload_expires_at: datetime
    expires_at: datetime
    status: JobStatus = JobStatus.PENDING
    options: dict[str, Any] = field(default_factory=dict)
    output_key: str | None = None
    media: MediaInfo | None = None  # what ingest's probe found
    input_etag: str | None = None  # the upload ingest validated; the runner reads only this version
    request_hash: str | None = None  # the submit's fingerprint, for Idempotency-Key replays
    owner: str | None = None  # the caller who submitted it: only they can read, list or cancel it
    progress: int = 0
    error_code: str | None = None
    error_message: str | None = None
    compute: str | None = None
    compute_run_id: str | None = None
    attempt: int = 0
    heartbeat_at: datetime | None = None
    summary: dict[str, Any] | None = None
    artifacts: dict[str, str] | None = None  # name -> S3 key: the pictures a render option asked for
    callback_url: str | None = None  # the webhook told when the job ends
    # A segmented run (compute/segments.py): its cuts, each run on its own, and how many are done.
    segments: list[Segment] | None = None
    segments_done: int = 0

    @property
    def media_seconds(self) -> float:
        """The validated video's duration (0 for images and jobs not yet validated)."""
        return float(self.media.duration or 0.0) if self.media else 0.0

    @property
    def segment_progress(self) -> int:
        """Frames done over all segments, as a percentage (99 until the merge completes the job)."""
        if not self.segments or self.status == JobStatus.COMPLETED:
            return self.progress
        total = sum(segment.frames for segment in self.segments) or 1
        done = sum(min(segment.frames_done, segment.frames) for segment in self.segments)
        return min(99, int(100 * done / total))

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL
