"""Webhooks: HTTPS to public addresses only (checked again before each try), HMAC-signed, retried."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from forgesyte_core.errors import BadRequest
from forgesyte_core.jobs.webhooks import Webhooks, check_callback_url, signature

PUBLIC = {"hooks.example.com": ["93.184.216.34"]}


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "table", "why"),
    [
        ("http://hooks.example.com/x", PUBLIC, "must be an https:// URL"),
        ("https://10.0.0.5/x", {"10.0.0.5": ["10.0.0.5"]}, "not a public address"),
        ("https://127.0.0.1/x", {"127.0.0.1": ["127.0.0.1"]}, "not a public address"),
        ("https://[::1]/x", {"::1": ["::1"]}, "not a public address"),
        ("https://169.254.169.254/latest/meta-data", {"169.254.169.254": ["169.254.169.254"]}, "not a public address"),
        ("https://localhost/x", {"localhost": ["127.0.0.1"]}, "not a public address"),
        ("https://sneaky.example.com/x", {"sneaky.example.com": ["93.184.216.34", "192.168.1.2"]}, "192.168.1.2"),
        ("https://user:pw@hooks.example.com/x", PUBLIC, "must not carry credentials"),
        ("https://nowhere.invalid/x", PUBLIC, "does not resolve"),
        ("https://hooks.example.com/" + "a" * 2100, PUBLIC, "at most 2048"),
    ],
)
def test_only_https_to_public_addresses(url: str, table: dict[str, list[str]], why: str) -> None:
    with pytest.raises(BadRequest, match=why.replace(".", r"\.").replace("[", r"\[")):
        check_callback_url(url, resolver(table))


def test_a_public_https_url_is_accepted() -> None:
    assert check_callback_url("https://hooks.example.com/jobs?x=1", resolver(PUBLIC)) == ["93.184.216.34"]


def test_deliveries_are_signed_and_retried_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, bytes, dict[str, str]]] = []
    answers = [500, 503, 204]

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        sent.append((url, body, headers))
        return answers.pop(0)

    sleeps: list[float] = []
    monkeypatch.setattr("forgesyte_core.jobs.webhooks.time.sleep", sleeps.append)
    detail = {"job_id": "j-1", "status": "completed", "callback_url": "https://hooks.example.com/h"}
    assert Webhooks("s3cret", post, resolver(PUBLIC)).deliver(detail) == 204
    assert len(sent) == 3
    assert sleeps == [1.0, 2.0]
    url, body, headers = sent[-1]
    assert url == "https://hooks.example.com/h"
    assert json.loads(body) == {"type": "job.status", "job": detail}
    timestamp, digest = (part.split("=", 1)[1] for part in headers["ForgeSyte-Signature"].split(","))
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    assert headers["ForgeSyte-Event-Id"] == "j-1:completed"
    assert signature("s3cret", int(timestamp), body) == headers["ForgeSyte-Signature"]


def test_the_last_failure_is_raised_for_the_callers_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("forgesyte_core.jobs.webhooks.time.sleep", lambda _: None)

    def down(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        raise ConnectionRefusedError("refused")

    detail = {"job_id": "j-2", "status": "failed", "callback_url": "https://hooks.example.com/h"}
    with pytest.raises(ConnectionError, match="failed 3 times: ConnectionRefusedError"):
        Webhooks("k", down, resolver(PUBLIC)).deliver(detail)


def test_a_name_repointed_at_a_private_address_is_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(PUBLIC)
    calls: list[str] = []

    def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        calls.append(url)
        table["hooks.example.com"] = ["10.1.2.3"]  # rebound between tries
        return 500

    monkeypatch.setattr("forgesyte_core.jobs.webhooks.time.sleep", lambda _: None)
    detail = {"job_id": "j-3", "status": "completed", "callback_url": "https://hooks.example.com/h"}
    with pytest.raises(BadRequest, match="not a public address"):
        Webhooks("k", post, resolver(table)).deliver(detail)
    assert len(calls) == 1


def test_the_local_stack_may_call_this_machine_and_nothing_else_private() -> None:
    table = {"10.0.0.5": ["10.0.0.5"], "127.0.0.1": ["127.0.0.1"]}
    assert check_callback_url("http://127.0.0.1:8123/hook", resolver(table), allow_localhost=True) == ["127.0.0.1"]
    assert check_callback_url("http://localhost/hook", resolver(table), allow_localhost=True) == ["localhost"]
    with pytest.raises(BadRequest, match=r"must be an https:// URL"):
        check_callback_url("http://10.0.0.5/hook", resolver(table), allow_localhost=True)
    with pytest.raises(BadRequest, match=r"must be an https:// URL"):
        check_callback_url("http://127.0.0.1:8123/hook", resolver(table))
