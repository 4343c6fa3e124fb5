"""Admitting an upload: check plugin and tool, create the job, hand out a presigned POST."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from forgesyte_core.errors import AlreadyExists, BadRequest, Conflict, PayloadTooLarge, Unprocessable
from forgesyte_core.intake.idempotency import check_key, fingerprint, job_id_for
from forgesyte_core.intake.request_body import check_options, check_text
from forgesyte_core.jobs.model import Job, JobStatus, JobType
from forgesyte_core.jobs.store import JobStore, utcnow
from forgesyte_core.jobs.webhooks import Resolver, check_callback_url, resolve
from forgesyte_core.plugins.catalog import PluginCatalog, tool_input_kinds, unavailable_reason
from forgesyte_core.plugins.locations import check_file_options
from forgesyte_core.settings import Settings, allowed_model_locations
from forgesyte_core.storage import Storage, input_key

CONTENT_TYPES = {
    JobType.VIDEO: frozenset({"video/mp4", "video/quicktime", "video/3gpp"}),
    JobType.IMAGE: frozenset({"image/png", "image/jpeg", "image/webp"}),
}


@dataclass(frozen=True)
class SubmitRequest:
    plugin_id: str
    tool: str
    content_type: str
    content_length: int
    options: dict[str, Any]
    callback_url: str | None = None  # gets a signed POST when the job ends (see webhooks.py)


SUBMIT_FIELDS = ("plugin_id", "tool", "content_type", "content_length", "options", "callback_url")


def parse_submit(body: Any, max_options_bytes: int, max_options_depth: int) -> SubmitRequest:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(str(name) for name in body if name not in SUBMIT_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)} (a submit takes {', '.join(SUBMIT_FIELDS)})")
    missing = [name for name in ("plugin_id", "tool", "content_type", "content_length") if body.get(name) in (None, "")]
    if missing:
        raise BadRequest(f"missing field(s): {', '.join(missing)}")
    for name in ("plugin_id", "tool", "content_type"):
        if not isinstance(body[name], str):
            raise BadRequest(f"{name} must be a string")
    length = body["content_length"]
    if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
        raise BadRequest("content_length must be a positive integer (the file's size in bytes)")
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise BadRequest("options must be a JSON object")
    check_options(options, max_options_bytes, max_options_depth)
    for name in ("plugin_id", "tool", "content_type"):
        if len(body[name]) > 200:
            raise BadRequest(f"{name} is longer than 200 characters")
        check_text(body[name], name)
    callback_url = body.get("callback_url")
    if callback_url is not None and not isinstance(callback_url, str):
        raise BadRequest("callback_url must be an https URL")
    return SubmitRequest(
        body["plugin_id"], body["tool"], body["content_type"].strip().lower(), length, options, callback_url or None
    )


class Admission:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        catalog: PluginCatalog,
        settings: Settings,
        resolver: Resolver = resolve,
    ) -> None:
        self.store, self.storage, self.catalog, self.settings = store, storage, catalog, settings
        self.resolver = resolver  # DNS, for callback_url's host

    def max_bytes(self, job_type: JobType) -> int:
        return self.settings.max_upload_bytes if job_type == JobType.VIDEO else self.settings.max_image_bytes

    def submit(
        self, job_type: JobType, request: SubmitRequest, idempotency_key: str | None = None, caller: str = "anonymous"
    ) -> dict[str, Any]:
        """The new job and its upload form; with an ``idempotency_key``, a retry gets the same job back
        (``replayed`` true, a fresh upload form while the upload window is open)."""
        tool = self.catalog.tool(request.plugin_id, request.tool)
        if request.callback_url:
            if not self.settings.webhooks_enabled:
                raise Unprocessable("this stack takes no callback_url: deploy it with the WebhookSecret parameter")
            check_callback_url(request.callback_url, self.resolver, self.settings.webhook_allow_localhost)
        check_file_options(tool, request.options, allowed_model_locations(self.settings))
        unavailable = unavailable_reason(tool, request.options)
        if unavailable:
            raise Unprocessable(
                f"tool '{request.tool}' of plugin '{request.plugin_id}' cannot run as deployed: {unavailable}"
            )
        if job_type not in tool_input_kinds(tool):
            accepted = ", ".join(sorted(tool_input_kinds(tool))) or "nothing"
            raise Unprocessable(
                f"tool '{request.tool}' of plugin '{request.plugin_id}' does not take {job_type} input"
                f" (it takes {accepted})"
            )
        render = request.options.get("render", False)
        if not isinstance(render, bool) or (render and job_type != JobType.VIDEO):
            raise Unprocessable(
                "options.render must be true or false, and draws pictures of video tools' tracks only "
                f"(this is a {job_type} job)"
            )
        if request.content_type not in CONTENT_TYPES[job_type]:
            allowed = ", ".join(sorted(CONTENT_TYPES[job_type]))
            raise Unprocessable(
                f"content_type {request.content_type!r} is not accepted for {job_type} jobs ({allowed})"
            )
        limit = self.max_bytes(job_type)
        if request.content_length > limit:
            raise PayloadTooLarge(
                f"{job_type} uploads are limited to {limit} bytes; this one declares {request.content_length}"
            )
        digest = fingerprint(job_type, asdict(request))
        job_id = job_id_for(caller, check_key(idempotency_key)) if idempotency_key is not None else None
        try:
            job = self.store.create(
                plugin_id=request.plugin_id,
                tool=request.tool,
                job_type=job_type,
                content_type=request.content_type,
                declared_bytes=request.content_length,
                options=request.options,
                upload_expiry_s=self.settings.upload_url_expiry_s,
                ttl_days=self.settings.job_ttl_days,
                input_key_for=input_key,
                job_id=job_id,
                request_hash=digest,
                owner=caller,
                callback_url=request.callback_url,
            )
        except AlreadyExists:
            job = self.store.get(str(job_id))
            if job.request_hash != digest:
                raise Conflict(
                    "this Idempotency-Key was already used for a different request; use a new key for a new job"
                ) from None
            return self._created(job, replayed=True)
        return self._created(job, replayed=False)

    def _created(self, job: Job, replayed: bool) -> dict[str, Any]:
        upload = None
        seconds_left = int((job.upload_expires_at - utcnow()).total_seconds())
        if job.status == JobStatus.PENDING and seconds_left > 0:
            post = self.storage.presigned_post(job.input_key, job.content_type, job.declared_bytes, seconds_left)
            upload = {
                "method": "POST",
                "url": post["url"],
                "fields": post["fields"],
                "expires_at": job.upload_expires_at.isoformat(),
                "max_bytes": job.declared_bytes,
            }
        return {
            "job_id": job.job_id,
            "status": str(job.status),
            "plugin_id": job.plugin_id,
            "tool": job.tool,
            "job_type": job.job_type,
            "upload": upload,
            "status_url": f"/v1/jobs/{job.job_id}",
            "replayed": replayed,
        }
