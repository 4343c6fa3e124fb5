"""JobStore: the only code that reads or writes job records.

Every status change is one conditional update on the current status, so a duplicate event or a
second runner loses the race (:class:`TransitionConflict`) instead of running a job twice.
"""

from __future__ import annotations

import base64
import builtins
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, QueryError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from forgesyte_core.errors import AlreadyExists, BadRequest, NotFound, TransitionConflict
from forgesyte_core.jobs.model import Job, JobStatus, JobType, Segment, SegmentStatus, sources_of
from forgesyte_core.jobs.table import JobItem, job_item_class
from forgesyte_core.media.info import MediaInfo

log = logging.getLogger(__name__)

_FIELDS = [f.name for f in fields(Job)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _is_condition_failure(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class JobStore:
    def __init__(
        self,
        table_name: str,
        region: str,
        client: Any | None = None,
        on_change: Callable[[Job], None] | None = None,
    ) -> None:
        """``client``: the DynamoDB client to send every call through (the composition root's, or a
        test's Stubber or fault-injecting one); without it PynamoDB makes its own. ``on_change`` is
        told of every status change this store makes (job events), after it is written."""
        self._item_cls = job_item_class(table_name, region, client)
        self._on_change = on_change

    # -- reading -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        try:
            return self._to_job(self._item_cls.get(job_id, consistent_read=True))
        except DoesNotExist:
            raise NotFound(f"Job {job_id} not found") from None

    def find(self, job_id: str) -> Job | None:
        try:
            return self.get(job_id)
        except NotFound:
            return None

    def list(
        self, owner: str, status: JobStatus | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Job], str | None]:
        """One page of ``owner``'s jobs, newest first, optionally in one status; ``cursor`` continues.

        A status filter applies after the page is read, so a page may hold fewer than ``limit``
        jobs while ``cursor`` still says there are more.
        """
        start_key = _decode_cursor(cursor, owner) if cursor else None
        condition = (self._item_cls.status == str(status)) if status is not None else None
        try:
            result = self._item_cls.owner_index.query(
                owner, filter_condition=condition, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
            )
            jobs = [self._to_job(item) for item in result]
        except QueryError as exc:
            if start_key is None or getattr(exc, "cause_response_code", None) != "ValidationException":
                raise
            raise BadRequest(CURSOR_REFUSED) from None
        return jobs, _encode_cursor(result.last_evaluated_key)

    def iter_status(self, status: JobStatus, created_before: datetime | None = None) -> Iterator[Job]:
        """Every job in ``status`` (oldest first), optionally only those created before a time."""
        index = self._item_cls.status_index
        condition = self._item_cls.created_at < created_before if created_before else None
        for item in index.query(str(status), range_key_condition=condition):
            yield self._to_job(item)

    # -- writing -----------------------------------------------------------------------------

    def create(
        self,
        *,
        plugin_id: str,
        tool: str,
        job_type: JobType,
        content_type: str,
        declared_bytes: int,
        options: dict[str, Any],
        upload_expiry_s: int,
        ttl_days: int,
        input_key_for: Callable[[str], str],
        job_id: str | None = None,
        request_hash: str | None = None,
        owner: str | None = None,
        callback_url: str | None = None,
    ) -> Job:
        """A new pending job; AlreadyExists when ``job_id`` (an idempotent submit's) is taken."""
        now = utcnow()
        job_id = job_id or str(uuid.uuid4())
        job = Job(
            job_id=job_id,
            plugin_id=plugin_id,
            tool=tool,
            job_type=job_type,
            input_key=input_key_for(job_id),
            content_type=content_type,
            declared_bytes=declared_bytes,
            options=options,
            created_at=now,
            updated_at=now,
            upload_expires_at=now + timedelta(seconds=upload_expiry_s),
            expires_at=now + timedelta(days=ttl_days),
            request_hash=request_hash,
            owner=owner,
            callback_url=callback_url,
        )
        item = self._item_cls(job_id, **{k: v for k, v in _item_values(job).items() if k != "job_id"})
        try:
            item.save(condition=self._item_cls.job_id.does_not_exist())
        except PutError as exc:
            if not _is_condition_failure(exc):
                raise
            raise AlreadyExists(f"Job {job_id} already exists") from exc
        return job

    def transition(
        self,
        job_id: str,
        target: JobStatus,
        *,
        expected: tuple[JobStatus, ...] | None = None,
        owner_run: str | None = None,
        **values: Any,
    ) -> Job:
        """Move a job to ``target`` if its current status is one of ``expected``.

        ``expected`` defaults to every status that may legally reach ``target``. With ``owner_run``,
        only if that run is the job's current one: a runner whose job was retried elsewhere cannot
        write over the new run. Extra keyword arguments are written in the same update.
        """
        allowed = expected if expected is not None else sources_of(target)
        condition: Condition | None = None
        for status in allowed:
            clause = self._item_cls.status == str(status)
            condition = clause if condition is None else condition | clause
        if owner_run is not None:
            owned = self._item_cls.compute_run_id == owner_run
            condition = owned if condition is None else condition & owned
        values = {"status": str(target), "updated_at": utcnow(), **values}
        job = self._update(job_id, values, condition, allowed, target)
        if self._on_change is not None:
            self._on_change(job)
        return job

    def record_progress(self, job_id: str, progress: int, owner_run: str | None = None) -> Job:
        """Write progress and heartbeat; TransitionConflict if the job stopped running (or, with
        ``owner_run``, runs as another run now: it was retried)."""
        values = {"progress": max(0, min(100, int(progress))), "heartbeat_at": utcnow(), "updated_at": utcnow()}
        condition = self._item_cls.status == str(JobStatus.RUNNING)
        if owner_run is not None:
            condition = condition & (self._item_cls.compute_run_id == owner_run)
        return self._update(job_id, values, condition, (JobStatus.RUNNING,), None)

    def set_fields(self, job_id: str, expected: JobStatus, **values: Any) -> Job:
        """Write fields without a status change, only while the job is in ``expected``."""
        values = {"updated_at": utcnow(), **values}
        condition = self._item_cls.status == str(expected)
        return self._update(job_id, values, condition, (expected,), None)

    # -- segments (compute/segments.py): each one claimed, heartbeated and finished on its own ------

    def claim_segment(self, job_id: str, index: int, run_id: str, max_attempts: int) -> Job:
        """queued → running for one segment of a running job, by ``run_id``; TransitionConflict when the
        segment is not queued (a duplicate or late message), the job stopped, or its attempts are spent."""
        seg = _segment_path(index)
        now = utcnow()
        actions = [
            seg("status").set(str(SegmentStatus.RUNNING)),
            seg("attempt").add(1),
            seg("run_id").set(run_id),
            seg("heartbeat_at").set(now.isoformat()),
            seg("error").remove(),
            self._item_cls.heartbeat_at.set(now),
            self._item_cls.updated_at.set(now),
        ]
        condition = (
            (self._item_cls.status == str(JobStatus.RUNNING))
            & (seg("status") == str(SegmentStatus.QUEUED))
            & (seg("attempt") < max_attempts)
        )
        return self._segment_update(job_id, index, actions, condition, "be claimed")

    def segment_heartbeat(self, job_id: str, index: int, run_id: str, frames_done: int) -> Job:
        """A running segment's frames done and heartbeat; TransitionConflict if the job stopped running
        (cancelled, failed) or the segment runs as another run now."""
        seg = _segment_path(index)
        now = utcnow()
        actions = [
            seg("frames_done").set(max(0, int(frames_done))),
            seg("heartbeat_at").set(now.isoformat()),
            self._item_cls.heartbeat_at.set(now),
            self._item_cls.updated_at.set(now),
        ]
        return self._segment_update(job_id, index, actions, self._owns_segment(index, run_id), "report progress")

    def finish_segment(self, job_id: str, index: int, run_id: str, seconds: float, bytes_read: int) -> Job:
        """running → done, counting it once in ``segments_done``: the update that makes the count equal
        the number of segments is the only one that sees it, so exactly one runner merges."""
        seg = _segment_path(index)
        now = utcnow()
        actions = [
            seg("status").set(str(SegmentStatus.DONE)),
            seg("seconds").set(round(seconds, 3)),
            seg("bytes_read").set(int(bytes_read)),
            seg("heartbeat_at").set(now.isoformat()),
            self._item_cls.segments_done.add(1),
            self._item_cls.heartbeat_at.set(now),
            self._item_cls.updated_at.set(now),
        ]
        return self._segment_update(job_id, index, actions, self._owns_segment(index, run_id), "finish")

    def requeue_segment(self, job_id: str, index: int, run_id: str | None, error: str) -> Job:
        """running → queued for a retry, with the error that ended the run. With ``run_id``, only that
        run's; without (the sweep, the DLQ, a Batch event), any running one."""
        seg = _segment_path(index)
        actions = [
            seg("status").set(str(SegmentStatus.QUEUED)),
            seg("run_id").remove(),
            seg("frames_done").set(0),
            seg("error").set(error[:500]),
            self._item_cls.updated_at.set(utcnow()),
        ]
        condition = (
            self._owns_segment(index, run_id)
            if run_id
            else ((self._item_cls.status == str(JobStatus.RUNNING)) & (seg("status") == str(SegmentStatus.RUNNING)))
        )
        return self._segment_update(job_id, index, actions, condition, "be retried")

    def _owns_segment(self, index: int, run_id: str | None) -> Condition:
        seg = _segment_path(index)
        owned: Condition = (
            (self._item_cls.status == str(JobStatus.RUNNING))
            & (seg("status") == str(SegmentStatus.RUNNING))
            & (seg("run_id") == run_id)
        )
        return owned

    def _segment_update(
        self, job_id: str, index: int, actions: builtins.list[Any], condition: Condition, what: str
    ) -> Job:
        def conflict(current: Job) -> str:
            state = next((s for s in current.segments or [] if s.index == index), None)
            where = f"segment {index} is {state.status}" if state else f"it has no segment {index}"
            return f"Job {job_id} is {current.status} and {where}; it cannot {what}"

        return self._apply(job_id, actions, condition, conflict)

    # -- internals ---------------------------------------------------------------------------

    def _update(
        self,
        job_id: str,
        values: dict[str, Any],
        condition: Condition | None,
        allowed: tuple[JobStatus, ...],
        target: JobStatus | None,
    ) -> Job:
        cls = self._item_cls
        actions = []
        for name, value in values.items():
            attr = getattr(cls, name)
            if isinstance(value, MediaInfo):
                value = value.to_dict()
            elif name == "segments" and value is not None:
                value = {str(segment.index): segment.to_dict() for segment in value}
            actions.append(attr.remove() if value is None else attr.set(value))
        wanted = "/".join(str(s) for s in allowed)
        action = f"move to {target}" if target else "be updated"
        return self._apply(
            job_id,
            actions,
            condition,
            lambda current: f"Job {job_id} is {current.status}, not {wanted}; it cannot {action}",
        )

    def _apply(
        self, job_id: str, actions: builtins.list[Any], condition: Condition | None, conflict: Callable[[Job], str]
    ) -> Job:
        """One conditional update of an existing job; TransitionConflict saying ``conflict(current)`` when
        the condition fails, NotFound when the job is gone."""
        exists = self._item_cls.job_id.exists()
        item = self._item_cls(job_id)
        try:
            item.update(actions=actions, condition=exists & condition if condition is not None else exists)
        except UpdateError as exc:
            if not _is_condition_failure(exc):
                raise
            current = self.find(job_id)
            if current is None:
                raise NotFound(f"Job {job_id} not found") from None
            raise TransitionConflict(conflict(current)) from None
        return self._to_job(item)

    @staticmethod
    def _to_job(item: JobItem) -> Job:
        data = {name: getattr(item, name) for name in _FIELDS}
        data["status"] = JobStatus(data["status"])
        data["job_type"] = JobType(data["job_type"])
        data["progress"] = int(data["progress"] or 0)
        data["attempt"] = int(data["attempt"] or 0)
        data["declared_bytes"] = int(data["declared_bytes"])
        data["options"] = data["options"] or {}
        data["media"] = MediaInfo.from_dict(data["media"]) if data["media"] else None
        raw = data["segments"]
        if raw is not None:
            as_dict = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
            data["segments"] = sorted((Segment.from_dict(v) for v in as_dict.values()), key=lambda seg: seg.index)
        data["segments_done"] = int(data["segments_done"] or 0)
        return Job(**data)


def _segment_path(index: int) -> Callable[[str], Path]:
    return lambda name: Path(["segments", str(index), name])


def _item_values(job: Job) -> dict[str, Any]:
    values = {name: getattr(job, name) for name in _FIELDS}
    values["status"] = str(job.status)
    values["media"] = job.media.to_dict() if job.media else None
    values["segments"] = {str(seg.index): seg.to_dict() for seg in job.segments} if job.segments else None
    return {k: v for k, v in values.items() if v is not None}


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


CURSOR_REFUSED = "cursor is not one this API returned for this listing"


def _decode_cursor(cursor: str, owner: str) -> dict[str, Any]:
    """The start key a listing returned, checked for exactly that shape and for this caller."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError):
        raise BadRequest(CURSOR_REFUSED) from None
    if not isinstance(value, dict) or set(value) != {"job_id", "owner", "created_at"}:
        raise BadRequest(CURSOR_REFUSED)
    for attribute in value.values():
        text = attribute.get("S") if isinstance(attribute, dict) and len(attribute) == 1 else None
        if not isinstance(text, str) or not 0 < len(text) <= 300:
            raise BadRequest(CURSOR_REFUSED)
    if value["owner"]["S"] != owner:
        raise BadRequest(CURSOR_REFUSED)
    return value
