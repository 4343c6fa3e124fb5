"""Multipart uploads for large videos, straight from the browser to S3 (the contract of Uppy's S3
multipart plugin: create, sign each part, list the parts uploaded so far, complete, abort).

Every call is for one pending job of the caller's, and the object is always the job's own input
key with the content type it declared, so a multipart upload cannot land anywhere else. S3 cannot
hold a multipart upload to a size policy as it does a POST form, so the total is checked on
completion (and again by ingest, as for every upload). Completing emits one ObjectCreated event:
ingest sees one object, once.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from forgesyte_core.errors import BadRequest, Conflict, PayloadTooLarge
from forgesyte_core.jobs.access import JobAccess
from forgesyte_core.jobs.model import Job, JobStatus
from forgesyte_core.jobs.store import utcnow
from forgesyte_core.settings import Settings

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's floor for every part but the last
MAX_PARTS = 10_000


class MultipartUploads:
    def __init__(self, access: JobAccess, s3: Any, settings: Settings) -> None:
        self.access, self.s3, self.settings = access, s3, settings

    def create(self, job_id: str, caller: str) -> dict[str, Any]:
        job = self._uploadable(job_id, caller)
        started = self.s3.create_multipart_upload(
            Bucket=self.settings.bucket_name, Key=job.input_key, ContentType=job.content_type
        )
        # A video of several GB takes longer than a POST's window: the job waits for it this long,
        # and a page reloaded meanwhile resumes it (the bucket aborts what is left after a day).
        window = timedelta(seconds=self.settings.multipart_window_s)
        self.access.store.set_fields(job.job_id, JobStatus.PENDING, upload_expires_at=utcnow() + window)
        part_bytes = max(MIN_PART_BYTES, math.ceil(job.declared_bytes / MAX_PARTS))
        return {
            "uploadId": started["UploadId"],
            "key": job.input_key,
            "part_bytes": part_bytes,
            "parts": max(1, math.ceil(job.declared_bytes / part_bytes)),
        }

    def sign_part(self, job_id: str, caller: str, upload_id: str, part_number: str) -> dict[str, Any]:
        job = self._uploadable(job_id, caller)
        number = _part_number(part_number)
        url = self.s3.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.settings.bucket_name,
                "Key": job.input_key,
                "UploadId": upload_id,
                "PartNumber": number,
            },
            ExpiresIn=self.settings.upload_url_expiry_s,
        )
        return {"url": url, "headers": {}}

    def list_parts(self, job_id: str, caller: str, upload_id: str) -> list[dict[str, Any]]:
        """The parts S3 holds so far, as Uppy wants them: a resumed upload sends only the rest."""
        return self._parts(self._uploadable(job_id, caller), upload_id)

    def _parts(self, job: Job, upload_id: str) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            page = self._s3_call(
                "list_parts",
                Bucket=self.settings.bucket_name,
                Key=job.input_key,
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
            parts += [
                {"PartNumber": p["PartNumber"], "Size": p["Size"], "ETag": p["ETag"]} for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = page["NextPartNumberMarker"]

    def complete(self, job_id: str, caller: str, upload_id: str, body: dict[str, Any]) -> dict[str, Any]:
        job = self._uploadable(job_id, caller)
        parts = body.get("parts")
        if not isinstance(parts, list) or not parts:
            raise BadRequest("parts must be a non-empty list of {PartNumber, ETag}")
        try:
            numbered = [(_part_number(str(p["PartNumber"])), str(p["ETag"])) for p in parts]
        except (KeyError, TypeError):
            raise BadRequest("parts must be a non-empty list of {PartNumber, ETag}") from None
        chosen = [{"PartNumber": number, "ETag": etag} for number, etag in sorted(numbered)]
        held = {p["PartNumber"]: p["Size"] for p in self._parts(job, upload_id)}
        total = sum(held.get(number, 0) for number, _ in numbered)
        if total > job.declared_bytes:
            self._abort(job, upload_id)
            raise PayloadTooLarge(
                f"the parts hold {total} bytes, more than the {job.declared_bytes} the job declared; "
                "the upload was aborted: submit again with the file's real size"
            )
        self._s3_call(
            "complete_multipart_upload",
            Bucket=self.settings.bucket_name,
            Key=job.input_key,
            UploadId=upload_id,
            MultipartUpload={"Parts": chosen},
        )
        return {"location": f"s3://{self.settings.bucket_name}/{job.input_key}", "key": job.input_key}

    def abort(self, job_id: str, caller: str, upload_id: str) -> dict[str, Any]:
        return self._abort(self.access.owned(job_id, caller), upload_id)

    def _abort(self, job: Job, upload_id: str) -> dict[str, Any]:
        self._s3_call("abort_multipart_upload", Bucket=self.settings.bucket_name, Key=job.input_key, UploadId=upload_id)
        return {"aborted": upload_id}

    def _uploadable(self, job_id: str, caller: str) -> Job:
        job = self.access.owned(job_id, caller)
        if job.status != JobStatus.PENDING:
            raise Conflict(f"job {job_id} is {job.status}: its upload is closed")
        if utcnow() > job.upload_expires_at:
            raise Conflict(f"job {job_id}'s upload window closed at {job.upload_expires_at.isoformat()}; submit again")
        return job

    def _s3_call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.s3, operation)(**params)
        except self.s3.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"}:
                raise BadRequest(
                    f"S3 refused the multipart upload: {code}: {exc.response['Error'].get('Message', '')}"
                ) from None
            raise


def _part_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PARTS:
        raise BadRequest(f"part numbers run from 1 to {MAX_PARTS}")
    return int(text)
