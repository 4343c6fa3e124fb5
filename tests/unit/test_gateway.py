"""The local gateway answers a broken Content-Length, a short body and a stalled body: never a
dropped connection or a hang (raw sockets on loopback, a stand-in handler); and it hands the page
the API key only on loopback."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from forgesyte_dev.local.gateway import Gateway
from forgesyte_dev.local.routes import api_routes

KEY = "forgesyte-local-dev-key"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"n": len(event["body"] or "")}),
        }

    running = Gateway("127.0.0.1", 0, KEY, api_routes(), {}, handler, read_timeout_s=1.0)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def exchange(
    gateway: Gateway, head: str, body: bytes = b"", half_close: bool = False
) -> tuple[int, dict[str, Any], float]:
    port = int(gateway.url.rsplit(":", 1)[1])
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        request = f"POST /v1/video/submit HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\n{head}\r\n".encode() + body
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    payload = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return status, payload, time.monotonic() - started


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", " ", "٣"])
def test_a_content_length_that_is_not_a_number_is_a_400(gateway: Gateway, declared: str) -> None:
    status, payload, _ = exchange(gateway, f"Content-Length: {declared}\r\n")
    assert status == 400
    assert "Content-Length" in payload["message"]


def test_a_body_past_the_limit_is_a_413_without_reading_it(gateway: Gateway) -> None:
    status, payload, _ = exchange(gateway, "Content-Length: 999999999\r\n")
    assert status == 413
    assert "limit" in payload["message"]


def test_a_stalled_short_body_is_a_408_after_the_read_timeout(gateway: Gateway) -> None:
    status, payload, took = exchange(gateway, "Content-Length: 100\r\n", b'{"a": 1}')
    assert status == 408
    assert "100 bytes declared" in payload["message"]
    assert took >= 0.9  # it waited for the body until the timeout, then answered


def test_a_short_body_the_client_ends_is_a_400(gateway: Gateway) -> None:
    status, payload, _ = exchange(gateway, "Content-Length: 100\r\n", b'{"a": 1}', half_close=True)
    assert status == 400
    assert "ended after 8 of the 100 bytes" in payload["message"]


def test_a_whole_body_reaches_the_handler(gateway: Gateway) -> None:
    status, payload, _ = exchange(gateway, "Content-Length: 8\r\n", b'{"a": 1}')
    assert status == 200
    assert payload == {"n": 8}


def test_the_page_gets_the_api_key_only_on_loopback_or_when_told() -> None:
    """Decided from the address served on (never bound here to anything but loopback)."""
    import requests

    from forgesyte_dev.local.gateway import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.com"))  # noqa: S104
    running = Gateway("127.0.0.1", 0, KEY, api_routes(), {}, lambda event: {})
    running.start()
    try:
        assert running.share_key
        assert requests.get(f"{running.url}/config.json", timeout=5).json() == {"apiUrl": running.url, "apiKey": KEY}
        running.share_key = False  # as when served on 0.0.0.0 without --expose-api-key
        assert requests.get(f"{running.url}/config.json", timeout=5).json() == {"apiUrl": running.url}
    finally:
        running.stop()


def test_a_crowd_is_queued_not_reset_and_handled_in_parallel() -> None:
    """300 clients connect at once (the library's default backlog of 5 reset a burst like it), and
    the handler runs for more than one at once (a lock once made it one at a time)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    running_now, most = 0, 0
    lock = threading.Lock()

    def slow_handler(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal running_now, most
        with lock:
            running_now += 1
            most = max(most, running_now)
        time.sleep(0.02)
        with lock:
            running_now -= 1
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    running = Gateway("127.0.0.1", 0, KEY, api_routes(), {}, slow_handler)
    running.start()
    try:
        with ThreadPoolExecutor(300) as clients:
            answers = list(clients.map(lambda _: exchange(running, "Content-Length: 2\r\n", b"{}")[0], range(300)))
    finally:
        running.stop()
    assert answers == [200] * 300
    assert most > 1


def test_a_function_that_crashes_gets_api_gateways_502_not_a_dropped_connection() -> None:
    def crashing(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("the worker died")

    running = Gateway("127.0.0.1", 0, KEY, api_routes(), {}, crashing)
    running.start()
    try:
        status, payload, _ = exchange(running, "Content-Length: 2\r\n", b"{}")
    finally:
        running.stop()
    assert (status, payload) == (502, {"message": "Internal server error"})
