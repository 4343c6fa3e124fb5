"""Ingest: an object arrived under uploads/ (or was dropped under incoming/, see drops.py); validate it
by its bytes and dispatch the job.

Events arrive at least once and may be test events or foreign keys: those are dropped with a log
line. A rejected upload fails its job with ``invalid_media`` and a reason, and the object is deleted.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

from forgesyte_core.compute.dispatch import Dispatcher, TooLongForLambda
from forgesyte_core.errors import ForgeSyteError, InputChanged, InvalidMedia, TransitionConflict
from forgesyte_core.intake.drops import BadDrop, DropIntake
from forgesyte_core.jobs.model import Job, JobStatus, JobType
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.media import Limits, MediaInfo, probe_media
from forgesyte_core.media.samples import read_sample_table
from forgesyte_core.media.source import RangeCache
from forgesyte_core.observability import bind_job, unbind_job
from forgesyte_core.settings import Settings
from forgesyte_core.storage import Storage, input_changed, job_id_from_key

log = logging.getLogger(__name__)


def media_limits(settings: Settings, job_type: JobType) -> Limits:
    """The limits an upload for a ``job_type`` job must meet."""
    max_bytes = settings.max_upload_bytes if job_type == JobType.VIDEO else settings.max_image_bytes
    return Limits(
        max_bytes,
        settings.max_video_seconds,
        settings.max_video_pixels,
        settings.max_image_pixels,
        settings.max_image_decoded_bytes,
    )


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int
    version_id: str = ""
    sequencer: str = ""  # orders writes of one key; the same for copies of one event
    etag: str = ""

    @property
    def version(self) -> str:
        """What tells this write of the key from another: its version, else S3's sequencer, else
        (emulators that send neither) the content's ETag."""
        return self.version_id or self.sequencer or self.etag


def parse_s3_notification(body: str | dict[str, Any]) -> list[ObjectCreated]:
    """The ObjectCreated records of one S3 notification (an SQS message body); [] for test events."""
    payload = json.loads(body) if isinstance(body, str) else body
    if payload.get("Event") == "s3:TestEvent":
        log.info("dropping s3:TestEvent")
        return []
    created = []
    for record in payload.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            log.info("dropping %s event", record.get("eventName"))
            continue
        s3 = record.get("s3", {})
        created.append(
            ObjectCreated(
                bucket=s3.get("bucket", {}).get("name", ""),
                key=unquote_plus(s3.get("object", {}).get("key", "")),
                size=int(s3.get("object", {}).get("size", 0) or 0),
                version_id=str(s3.get("object", {}).get("versionId") or ""),
                sequencer=str(s3.get("object", {}).get("sequencer") or ""),
                etag=str(s3.get("object", {}).get("eTag") or ""),
            )
        )
    return created


class Ingest:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        dispatcher: Dispatcher,
        settings: Settings,
        drops: DropIntake | None = None,
    ) -> None:
        self.store, self.storage, self.dispatcher, self.settings = store, storage, dispatcher, settings
        self.drops = drops

    def handle(self, event: ObjectCreated) -> str:
        """Process one arrival; returns what happened: ignored | late | duplicate | rejected | queued | failed."""
        job_id, arrival = job_id_from_key(event.key), None
        if self.drops is not None and event.bucket == self.storage.bucket and self.drops.owns(event.key):
            arrival = self.drops.arrival(event.key, event.version)
            if arrival is None:
                return "ignored"
            if arrival.job.error_code == BadDrop.code:  # failed when it was made: nothing to validate
                return "failed"
            job_id = arrival.job.job_id
        if event.bucket != self.storage.bucket:
            ours = self.storage.bucket
            log.info("ignoring object %s/%s: not this stack's bucket (%s)", event.bucket, event.key, ours)
            return "ignored"
        if job_id is None:
            log.info("ignoring object %s/%s: not an upload key (uploads/JOB_ID/input)", event.bucket, event.key)
            return "ignored"
        bind_job(job_id)
        try:
            known = (arrival.job, arrival.head) if arrival else (None, None)  # a drop's: read already
            return self._handle(job_id, event, *known)
        finally:
            unbind_job()

    def _handle(
        self, job_id: str, event: ObjectCreated, known: Job | None = None, known_head: dict[str, Any] | None = None
    ) -> str:
        job = known or self.store.find(job_id)
        if job is None:
            log.info("ignoring upload %s: no such job (expired or never created)", event.key)
            return "ignored"
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            # The job ended before its upload arrived (cancelled, or its upload URL expired).
            if job_id_from_key(event.key) is None:  # a drop stays where its owner put it
                return "duplicate"
            log.info("deleting %s: its job already ended as %s", event.key, job.status)
            self.storage.delete(event.key)
            return "late"
        head = known_head or self.storage.head(event.key)
        if job.status != JobStatus.PENDING:
            return self._after_validation(job, event, head)
        if head is None:
            log.info("ignoring %s: the object is gone", event.key)
            return "ignored"
        etag = str(head["ETag"])
        try:
            media, cache = self._validate(job, int(head["ContentLength"]), str(head.get("ContentType", "")), etag)
            segments = self.dispatcher.segments_for(replace(job, media=media), lambda: read_sample_table(cache))
        except InvalidMedia as exc:
            return self._reject(job, exc.message)
        except InputChanged:  # replaced while being probed: the newer object has its own event
            log.info("%s changed while it was probed; its next event validates the new one", event.key)
            return "duplicate"
        try:
            job = self.store.transition(
                job.job_id,
                JobStatus.QUEUED,
                expected=(JobStatus.PENDING,),
                media=media,
                input_etag=etag,
                segments=segments,
            )
        except TransitionConflict as exc:
            log.info("ignoring duplicate event: %s", exc)
            return "duplicate"
        return self._dispatch(job)

    def _after_validation(self, job: Job, event: ObjectCreated, head: dict[str, Any] | None) -> str:
        """An event for a job past pending: a duplicate, or the upload form used again to swap the file."""
        if head is None or job.input_etag is None or str(head["ETag"]) == job.input_etag:
            if job.status == JobStatus.QUEUED and job.compute_run_id is None:
                # The event came back because an earlier ingest died after marking the job queued and
                # before launching it: launch it now. A second launch is harmless: claims are conditional.
                log.info("relaunching %s: queued but never launched", job.job_id)
                return self._dispatch(job)
            log.info("ignoring duplicate event for %s: job is already %s", event.key, job.status)
            return "duplicate"
        reason = input_changed(job.input_key).message
        log.warning("upload replaced after validation", extra={"key": event.key, "status": str(job.status)})
        with contextlib.suppress(TransitionConflict):  # it may just have ended; its runner checks the ETag too
            self.store.transition(
                job.job_id,
                JobStatus.FAILED,
                expected=(JobStatus.QUEUED, JobStatus.RUNNING),
                error_code=InputChanged.code,
                error_message=reason,
            )
            return "replaced"
        return "duplicate"

    def _validate(self, job: Job, size: int, content_type: str, etag: str) -> tuple[MediaInfo, RangeCache]:
        if content_type.lower() != job.content_type:
            raise InvalidMedia(
                f"uploaded as {content_type or 'no content type'!r} but the job declared {job.content_type!r}"
            )
        if size > job.declared_bytes:
            raise InvalidMedia(f"the upload is {size} bytes, more than the {job.declared_bytes} declared")
        info, cache = probe_media(
            self.storage.source(job.input_key, size, etag), media_limits(self.settings, job.job_type), job.job_type
        )
        log.info("probed %s: %s (%d requests, %d bytes)", job.input_key, info, cache.requests, cache.bytes_read)
        return info, cache

    def _reject(self, job: Job, reason: str) -> str:
        log.info("rejecting upload for job %s: %s", job.job_id, reason)
        try:
            self.store.transition(
                job.job_id,
                JobStatus.FAILED,
                expected=(JobStatus.PENDING,),
                error_code=InvalidMedia.code,
                error_message=reason,
            )
        except TransitionConflict as exc:
            log.info("job changed while rejecting: %s", exc)
            return "duplicate"
        if job_id_from_key(job.input_key) is not None:  # an upload is removed; a drop stays where it was put
            self.storage.delete(job.input_key)
        return "rejected"

    def _dispatch(self, job: Job) -> str:
        backend = "a backend"
        try:
            backend, run_id = self.dispatcher.launch(job)
        except Exception as exc:  # no launch means no run: say so on the job
            log.exception("dispatch failed")
            reason = exc.message if isinstance(exc, ForgeSyteError) else str(exc)
            code = exc.code if isinstance(exc, TooLongForLambda) else "dispatch_failed"
            self.store.transition(
                job.job_id,
                JobStatus.FAILED,
                expected=(JobStatus.QUEUED,),
                error_code=code,
                error_message=f"could not start the job on {backend}: {reason}",
            )
            return "failed"
        with contextlib.suppress(TransitionConflict):  # the runner claimed it already and recorded its backend
            self.store.set_fields(job.job_id, JobStatus.QUEUED, compute=backend, compute_run_id=run_id)
        return "queued"
