"""The media bucket: key layout, presigned POST/GET, ranged reads, results upload.

Object keys never carry user text: ``uploads/{job_id}/input`` and ``results/{job_id}.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

UPLOAD_KEY = re.compile(r"^uploads/([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})/input$")


def input_key(job_id: str) -> str:
    return f"uploads/{job_id}/input"


def result_key(job_id: str) -> str:
    return f"results/{job_id}.json"


def job_id_from_key(key: str) -> str | None:
    match = UPLOAD_KEY.match(key)
    return match.group(1) if match else None


class S3Source:
    """A :class:`~forgesyte_core.media.source.ByteSource` over one S3 object: one GET per read."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int) -> None:
        self._s3, self._bucket, self._key, self._size = s3, bucket, key, size

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        last = min(self._size, offset + length) - 1
        response = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={offset}-{last}")
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

    def source(self, key: str, size: int) -> S3Source:
        return S3Source(self.s3, self.bucket, key, size)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def download(self, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.s3.download_file(self.bucket, key, str(path))
        return path

    def read_bytes(self, key: str) -> bytes:
        data: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return data

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        # upload_file switches to multipart above 8 MiB, so large results never sit in memory.
        self.s3.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})
