"""Jobs from plain S3 drops: an object written under ``{prefix}{plugin_id}/{tool}/…`` becomes a job on
arrival, validated like any upload and run, for pipelines that never touch the API. The prefix is the
stack's ``DropPrefix`` parameter (``incoming/`` by default).

Options ride in the object's metadata: ``x-amz-meta-forgesyte-options`` holding a JSON object. The
job's id is derived from the key and the object's version (or, in an unversioned bucket, the
event's sequencer), so the same object delivered twice makes one job, and writing the key again
makes a new one. A drop naming an unknown plugin or tool, or carrying bad options, still becomes a
job: a failed one, with the reason, so nothing vanishes. The object is the job's input and is left
where it was dropped.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import uuid
from dataclasses import dataclass
from typing import Any

from forgesyte_core.errors import AlreadyExists, ForgeSyteError
from forgesyte_core.intake.request_body import check_options
from forgesyte_core.jobs.model import Job, JobStatus, JobType
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.plugins.catalog import PluginCatalog, tool_input_kinds
from forgesyte_core.settings import Settings
from forgesyte_core.storage import Storage

log = logging.getLogger(__name__)

OPTIONS_METADATA = "forgesyte-options"
DROP_OWNER = "s3-drop"
_NAMESPACE = uuid.UUID("7c0a3f56-2b1e-4c55-9f0e-0d5e1f3c9a11")


class BadDrop(ForgeSyteError):
    """A drop that cannot become a runnable job: its job fails with this reason."""

    code = "bad_drop"


@dataclass(frozen=True)
class DropKey:
    plugin_id: str
    tool: str
    name: str


@dataclass(frozen=True)
class DropArrival:
    """A drop's job and the object's HEAD, read once for both the job and its validation."""

    job: Job
    head: dict[str, Any]


def parse_drop_key(key: str, prefix: str) -> DropKey | None:
    """``{prefix}{plugin_id}/{tool}/{name…}``; None for anything else (a folder marker, too short)."""
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("/", 2)
    if len(parts) != 3 or not all(parts) or parts[2].endswith("/"):
        return None
    return DropKey(*parts)


def drop_job_type(content_type: str, key: str, tool_kinds: frozenset[str]) -> JobType:
    """Video or image: by the object's content type; when that says neither (``binary/octet-stream``
    from an upload that set none), by the key's extension; else by what the tool takes."""
    said = content_type if content_type.startswith(("image/", "video/")) else mimetypes.guess_type(key)[0] or ""
    if said.startswith("image/") or (not said.startswith("video/") and tool_kinds == {"image"}):
        return JobType.IMAGE
    return JobType.VIDEO


def drop_job_id(key: str, version: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{key}\n{version}"))


def create_drop_job(
    store: JobStore,
    settings: Settings,
    drop: DropKey,
    key: str,
    job_id: str,
    job_type: JobType,
    content_type: str = "",
    declared_bytes: int = 0,
    options: dict[str, Any] | None = None,
) -> Job:
    """The drop's pending job, its input the dropped object itself; AlreadyExists when made before."""
    return store.create(
        plugin_id=drop.plugin_id,
        tool=drop.tool,
        job_type=job_type,
        content_type=content_type,
        declared_bytes=declared_bytes,
        options=options or {},
        upload_expiry_s=0,
        ttl_days=settings.job_ttl_days,
        input_key_for=lambda _: key,
        job_id=job_id,
        owner=DROP_OWNER,
    )


class DropIntake:
    def __init__(self, store: JobStore, storage: Storage, catalog: PluginCatalog, settings: Settings) -> None:
        self.store, self.storage, self.catalog, self.settings = store, storage, catalog, settings

    @property
    def prefix(self) -> str:
        return self.settings.drop_prefix

    def owns(self, key: str) -> bool:
        return key.startswith(self.prefix)

    def arrival(self, key: str, version: str) -> DropArrival | None:
        """The job for this drop, made on its first event (pending, to be validated, or already failed
        with the reason); None when the key is not a drop or the object is gone."""
        drop = parse_drop_key(key, self.prefix)
        head = self.storage.head(key) if drop else None
        if drop is None or head is None:
            log.info("ignoring %s: not a drop (%sPLUGIN/TOOL/NAME) or gone", key, self.prefix)
            return None
        return DropArrival(self._job_for(drop, key, version, head), head)

    def _job_for(self, drop: DropKey, key: str, version: str, head: dict[str, Any]) -> Job:
        job_id = drop_job_id(key, version)
        existing = self.store.find(job_id)
        if existing is not None:
            return existing  # a duplicate event: the usual checks decide what to do
        content_type = str(head.get("ContentType", "")).lower()
        tool, problem = self._tool(drop)
        kinds = tool_input_kinds(tool) if tool else frozenset()
        job_type = drop_job_type(content_type, key, kinds)
        options, bad_options = self._options(head.get("Metadata") or {})
        if problem is None and job_type not in kinds:
            problem = BadDrop(f"tool '{drop.tool}' of plugin '{drop.plugin_id}' does not take {job_type} input")
        problem = problem or bad_options
        try:
            size = int(head["ContentLength"])
            job = create_drop_job(self.store, self.settings, drop, key, job_id, job_type, content_type, size, options)
        except AlreadyExists:  # a concurrent copy of the event made it first
            return self.store.get(job_id)
        log.info("job %s from drop %s", job_id, key)
        if problem is not None:
            return self.store.transition(
                job_id,
                JobStatus.FAILED,
                expected=(JobStatus.PENDING,),
                error_code=problem.code,
                error_message=problem.message,
            )
        return job

    def _options(self, metadata: dict[str, str]) -> tuple[dict[str, Any], ForgeSyteError | None]:
        text = metadata.get(OPTIONS_METADATA)
        if not text:
            return {}, None
        try:
            options = json.loads(text)
            if not isinstance(options, dict):
                raise BadDrop(f"x-amz-meta-{OPTIONS_METADATA} must be a JSON object")
            check_options(options, self.settings.max_options_bytes, self.settings.max_options_depth)
        except ValueError:
            return {}, BadDrop(f"x-amz-meta-{OPTIONS_METADATA} is not JSON: {text[:100]!r}")
        except ForgeSyteError as exc:
            return {}, BadDrop(exc.message)
        return options, None

    def _tool(self, drop: DropKey) -> tuple[dict[str, Any] | None, ForgeSyteError | None]:
        try:
            return self.catalog.tool(drop.plugin_id, drop.tool), None
        except ForgeSyteError as exc:
            return None, BadDrop(f"{exc.message}: drop files under {self.prefix}PLUGIN_ID/TOOL/")
