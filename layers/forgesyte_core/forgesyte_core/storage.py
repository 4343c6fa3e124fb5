"""The media bucket: key layout, presigned POST/GET, ranged reads, results upload.

Object keys never carry user text: ``uploads/{job_id}/input`` and ``results/{job_id}.json``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from forgesyte_core.errors import InputChanged

UPLOAD_KEY = re.compile(r"^uploads/([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})/input$")


def input_key(job_id: str) -> str:
    return f"uploads/{job_id}/input"


def result_key(job_id: str) -> str:
    return f"results/{job_id}.json"


ARTIFACTS = {"annotated_video": ("annotated.mp4", "video/mp4"), "contact_sheet": ("contact-sheet.png", "image/png")}


def segment_result_key(job_id: str, index: int) -> str:
    """One segment's results, before the merge writes the job's (kept: what each runner saw)."""
    return f"results/{job_id}/segments/{index:04d}.json"


def artifact_key(job_id: str, name: str) -> str:
    """Where the runner puts a picture of the results (``options.render``), beside the results JSON."""
    return f"results/{job_id}.{ARTIFACTS[name][0]}"


def job_id_from_key(key: str) -> str | None:
    match = UPLOAD_KEY.match(key)
    return match.group(1) if match else None


def _precondition_failed(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in {"PreconditionFailed", "412"}


def input_changed(key: str) -> InputChanged:
    return InputChanged(
        f"{key} was replaced after it was validated (the upload form was used again); submit the job again"
    )


class S3Source:
    """A :class:`~forgesyte_core.media.source.ByteSource` over one version of one S3 object.

    Every ranged GET carries ``If-Match`` with the ETag the object had when its head was read, so
    a replacement during the probe fails instead of mixing two files' bytes.
    """

    def __init__(self, s3: Any, bucket: str, key: str, size: int, etag: str | None = None) -> None:
        self._s3, self._bucket, self._key, self._size, self._etag = s3, bucket, key, size, etag

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        last = min(self._size, offset + length) - 1
        pinned = {"IfMatch": self._etag} if self._etag else {}
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={offset}-{last}", **pinned)
        except self._s3.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                raise input_changed(self._key) from None
            raise
        data: bytes = response["Body"].read()
        return data


class Storage:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def presigned_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        """A browser form upload allowed for this key, this content type and 1..max_bytes bytes."""
        post: dict[str, Any] = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return post

    def presigned_get(self, key: str, expires_in: int, download_name: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        url: str = self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return url

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self.s3.head_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return response

    def source(self, key: str, size: int, etag: str | None = None) -> S3Source:
        return S3Source(self.s3, self.bucket, key, size, etag)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def download(self, key: str, path: Path, etag: str | None = None) -> Path:
        """The object to ``path``; with ``etag``, only that version (InputChanged if it was replaced)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if etag is None:
            self.s3.download_file(self.bucket, key, str(path))
            return path
        # s3transfer takes no If-Match, so one conditional GET streamed to disk in 8 MiB chunks.
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)["Body"]
        except self.s3.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                raise input_changed(key) from None
            raise
        with path.open("wb") as out:
            shutil.copyfileobj(body, out, 8 * 1024 * 1024)
        return path

    def read_bytes(self, key: str, etag: str | None = None) -> bytes:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key, **({"IfMatch": etag} if etag else {}))
        except self.s3.exceptions.ClientError as exc:
            if _precondition_failed(exc):
                raise input_changed(key) from None
            raise
        data: bytes = response["Body"].read()
        return data

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        # upload_file switches to multipart above 8 MiB, so large results never sit in memory.
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})
