"""A client for the job API, local or deployed: submit, upload with the presigned POST, follow a job."""

from __future__ import annotations

import json
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

TERMINAL = {"completed", "failed", "cancelled"}
# A reset connection, a throttle or a server error is worth another try, with a growing pause:
# reads are safe to repeat, and a submit carries an Idempotency-Key, so its retry makes no second job.
# A refused connection is not: nothing listens there (no stack running, a wrong port), and a crowd
# never causes one (a full listen backlog drops the connection attempt, which TCP sends again).
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 4.0)
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".3gp": "video/3gpp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


def content_type_for(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class MultipartUpload:
    """A multipart/form-data body read lazily from disk, with a known length and a progress hook.

    S3's POST needs Content-Length, so the body is not chunked; it is never held in memory. Progress
    counts the file's bytes, not the form around them (a 24-byte file is 24 bytes, not 1.5 kB).
    """

    def __init__(
        self, fields: dict[str, str], path: Path, content_type: str, progress: Callable[[int, int], None]
    ) -> None:
        self.boundary = uuid.uuid4().hex
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._parts: list[bytes | IO[bytes]] = [head, path.open("rb"), f"\r\n--{self.boundary}--\r\n".encode()]
        self._file_size = path.stat().st_size
        self._head = len(head)
        self.length = len(head) + self._file_size + len(self._parts[2])  # type: ignore[arg-type]
        self._sent, self._progress = 0, progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else size
        out = b""
        while self._parts and len(out) < size:
            part = self._parts[0]
            if isinstance(part, bytes):
                out += part
                self._parts.pop(0)
            else:
                chunk = part.read(size - len(out))
                if not chunk:
                    part.close()
                    self._parts.pop(0)
                out += chunk
        if out:
            self._sent += len(out)
            self._progress(min(max(self._sent - self._head, 0), self._file_size), self._file_size)
        return out


FULL_ID_LENGTH = 36  # a UUID


def local_stack_state(state_file: Path | None = None) -> dict[str, Any]:
    """What the local stack `forgesyte dev` runs for this project wrote about itself (stack.json)."""
    from forgesyte_dev.project import NoProject, state_dir

    try:
        state_file = state_file or state_dir() / "stack.json"
    except NoProject as exc:
        raise ApiError(0, f"{exc}; or name a deployed API with --api or $FORGESYTE_API_URL") from None
    if not state_file.is_file():
        raise ApiError(
            0,
            "no local stack is running: start one with `forgesyte dev` in another terminal, "
            "or name a deployed API with --api and --api-key ($FORGESYTE_API_URL, $FORGESYTE_API_KEY)",
        )
    state: dict[str, Any] = json.loads(state_file.read_text())
    return state


def _refused(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class ApiClient:
    base_url: str
    api_key: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_stack(cls, state_file: Path | None = None) -> ApiClient:
        """The local stack `forgesyte dev` is running for this project."""
        state = local_stack_state(state_file)
        return cls(state["api_url"], state["api_key"])

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        headers = {**({"X-API-Key": self.api_key} if self.api_key else {}), **(headers or {})}
        url = self.base_url.rstrip("/") + path
        retryable = method in ("GET", "HEAD", "OPTIONS", "DELETE") or "Idempotency-Key" in headers
        for delay in (*RETRY_DELAYS_S, None) if retryable else (None,):
            try:
                response = requests.request(
                    method, url, headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs
                )
            except requests.ConnectionError as exc:
                if delay is None or _refused(exc):
                    raise ApiError(
                        0, f"cannot reach {self.base_url}: is the stack running and the URL right?"
                    ) from None
            else:
                if response.status_code not in RETRY_STATUSES or delay is None:
                    break
            time.sleep(delay)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail") or response.json().get("message") or response.text
            except ValueError:
                detail = response.text
            if response.status_code in (401, 403):
                detail = f"{detail} (check the API key: --api-key or $FORGESYTE_API_KEY)"
            raise ApiError(response.status_code, str(detail))
        return (
            response.json()
            if response.content and response.headers.get("Content-Type", "").startswith("application/json")
            else response
        )

    def submit(self, path: Path, plugin_id: str, tool: str, options: dict[str, Any]) -> dict[str, Any]:
        content_type = content_type_for(path)
        kind = "video" if content_type.startswith("video/") else "image"
        body = {
            "plugin_id": plugin_id,
            "tool": tool,
            "content_type": content_type,
            "content_length": path.stat().st_size,
            "options": options,
        }
        created: dict[str, Any] = self.request(
            "POST", f"/v1/{kind}/submit", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        return created

    def upload(self, created: dict[str, Any], path: Path, progress: Callable[[int, int], None]) -> None:
        form = created["upload"]
        body = MultipartUpload(
            form["fields"], path, form["fields"].get("Content-Type", content_type_for(path)), progress
        )
        response = requests.post(form["url"], data=body, headers={"Content-Type": body.content_type}, timeout=600)
        if response.status_code >= 300:
            raise ApiError(response.status_code, f"upload refused by S3: {response.text[:300]}")

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.request("GET", f"/v1/jobs/{job_id}")
        return job

    def resolve_job_id(self, given: str) -> str:
        """A job id, or a unique prefix of one of the caller's jobs (the short ids progress lines print)."""
        if len(given) >= FULL_ID_LENGTH:
            return given
        matches: list[str] = []
        params: dict[str, str] = {"limit": "100"}
        while True:
            page = self.request("GET", "/v1/jobs", params=params)
            matches += [job["job_id"] for job in page.get("jobs", []) if job["job_id"].startswith(given)]
            if not page.get("next_cursor") or len(matches) > 1:
                break
            params["cursor"] = page["next_cursor"]
        if not matches:
            raise ApiError(404, f"no job of yours has an id starting {given!r} (see `forgesyte jobs`)")
        if len(matches) > 1:
            raise ApiError(
                409, f"{given!r} starts more than one job id ({', '.join(matches[:3])}, ...): give more of it"
            )
        return matches[0]

    def wait(
        self, job_id: str, on_update: Callable[[dict[str, Any]], None], interval: float = 0.25, timeout: float = 3600
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            on_update(job)
            if job["status"] in TERMINAL or time.monotonic() > deadline:
                return job
            time.sleep(interval)

    def download(self, url: str) -> bytes:
        response = requests.get(url, timeout=self.timeout)
        response.raise_for_status()
        return response.content

    def results(self, job: dict[str, Any]) -> dict[str, Any]:
        response = requests.get(job["result_url"], timeout=self.timeout)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data
