"""The API client retries what a crowd causes (a reset connection, a 503) and never makes a second
job doing so: each submit carries one Idempotency-Key for all its tries. A loopback server plays
the API; it forgets the first answers on purpose."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from forgesyte_dev import client
from forgesyte_dev.client import ApiClient, ApiError


class FlakyApi:
    """Drops the connection, then answers 503, then 201; records every request it saw."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        self.seen: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.seen.append({"path": self.path, "key": self.headers.get("Idempotency-Key"), "body": body})
                failure = api.failures.pop(0) if api.failures else None
                if failure == "reset":
                    self.close_connection = True
                    return  # no answer at all: the client sees the connection end
                status, payload = (201, {"job_id": "j1"})
                if failure == "503":
                    status, payload = 503, {"message": "Service Unavailable"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "RETRY_DELAYS_S", (0.01, 0.02, 0.04))


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00" * 24)
    return path


@contextmanager
def flaky(failures: list[str]) -> Iterator[FlakyApi]:
    api = FlakyApi(failures)
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()


def test_a_submit_retried_after_a_reset_and_a_503_sends_one_idempotency_key(video: Path) -> None:
    with flaky(["reset", "503"]) as api:
        created = ApiClient(api.url, "key").submit(video, "motion-tracker", "video_track", {})
        assert created == {"job_id": "j1"}
        assert len(api.seen) == 3
        keys = {seen["key"] for seen in api.seen}
        assert len(keys) == 1
        assert None not in keys
        assert len({seen["body"] for seen in api.seen}) == 1


def test_two_submits_have_two_keys(video: Path) -> None:
    with flaky([]) as api:
        api_client = ApiClient(api.url, "key")
        api_client.submit(video, "motion-tracker", "video_track", {})
        api_client.submit(video, "motion-tracker", "video_track", {})
        assert api.seen[0]["key"] != api.seen[1]["key"]


def test_reads_give_up_after_the_last_retry_with_the_status(video: Path) -> None:
    with flaky(["503"] * 10) as api:
        with pytest.raises(ApiError) as raised:
            ApiClient(api.url, "key").request("GET", "/v1/jobs")
        assert raised.value.status == 503
        assert len(api.seen) == 4  # the first try and three retries


def test_a_post_without_a_key_is_not_retried() -> None:
    with flaky(["503"]) as api:
        with pytest.raises(ApiError):
            ApiClient(api.url, "key").request("POST", "/v1/jobs/j1/cancel")
        assert len(api.seen) == 1


def test_a_refused_connection_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens (the stack is not running): the user hears so at once, not after the retries."""
    pauses: list[float] = []
    monkeypatch.setattr(client.time, "sleep", pauses.append)
    with flaky([]) as api:
        url = api.url  # closed: its port now refuses
    with pytest.raises(ApiError, match="cannot reach"):
        ApiClient(url, "key", timeout=2).request("GET", "/v1/jobs")
    assert pauses == []
