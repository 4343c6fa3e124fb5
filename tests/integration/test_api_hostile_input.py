"""Hostile and malformed requests get a 4xx with the reason, never a crash (API Gateway's 502).

Each case is one a real caller sent: deeply nested bodies, NaN, huge or deep options, forged
cursors, unknown fields; then hypothesis throws thousands of generated bodies and queries at it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgesyte_core.settings import get_settings
from tests.helpers import Aws, LambdaContext, api_event, call_api

VALID = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": 1000}


def submit(body: Any) -> tuple[int, Any]:
    status, payload, _ = call_api("POST", "/v1/video/submit", body)
    return status, payload


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_a_body_nested_100000_deep_is_a_400(aws: Aws) -> None:
    status, payload = submit("[" * 100_000 + "]" * 100_000)
    assert status == 400
    assert "nested too deeply" in payload["detail"]


@pytest.mark.parametrize("text", ['{"content_length": NaN}', '{"x": Infinity}', "", "   ", "[1, 2"])
def test_bodies_that_are_not_json_are_a_400(aws: Aws, text: str) -> None:
    status, payload = submit(text)
    assert status == 400, payload
    assert "JSON" in payload["detail"]


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/video/submit", b"\xff"),
        ("/v1/video/submit", json.dumps(VALID).encode()[:-1] + b"\xe9}"),  # Latin-1, not UTF-8
        ("/v1/jobs/11111111-1111-4111-8111-111111111111/multipart/u/complete", b'{"parts": "\xff"}'),
    ],
)
def test_a_body_that_is_not_utf8_is_a_400(aws: Aws, path: str, raw: bytes) -> None:
    """API Gateway (and the local gateway) pass such a body base64-encoded; it used to crash the decoder."""
    import api_app

    event = api_event("POST", path)
    event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
    response = api_app.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 400, response
    assert "not UTF-8" in json.loads(response["body"])["detail"]


def test_a_base64_body_that_is_utf8_json_is_read(aws: Aws) -> None:
    import api_app

    event = api_event("POST", "/v1/video/submit")
    event.update(body=base64.b64encode(json.dumps(VALID).encode()).decode(), isBase64Encoded=True)
    assert api_app.lambda_handler(event, LambdaContext())["statusCode"] == 201


def test_unknown_fields_are_named(aws: Aws) -> None:
    status, payload = submit({**VALID, "priority": 9, "callback": "x"})
    assert status == 400
    assert "unknown field(s): callback, priority" in payload["detail"]


def test_options_size_limit_at_its_edge(aws: Aws) -> None:
    limit = get_settings().max_options_bytes
    overhead = len(json.dumps({"a": ""}, separators=(",", ":")))
    at_limit = {"a": "x" * (limit - overhead)}
    assert submit({**VALID, "options": at_limit})[0] == 201
    status, payload = submit({**VALID, "options": {"a": "x" * (limit - overhead + 1)}})
    assert status == 413
    assert f"the limit is {limit}" in payload["detail"]
    assert submit({**VALID, "options": {"a": "x" * 1_000_000}})[0] == 413  # was 409 "already exists"


def test_options_depth_limit_at_its_edge(aws: Aws) -> None:
    limit = get_settings().max_options_depth
    assert submit({**VALID, "options": nested(limit)})[0] == 201
    status, payload = submit({**VALID, "options": nested(limit + 1)})
    assert status == 422
    assert f"the limit is {limit}" in payload["detail"]
    assert submit({**VALID, "options": nested(40)})[0] == 422  # DynamoDB refuses past 32


def test_text_dynamodb_cannot_store_is_a_400(aws: Aws) -> None:
    status, payload = submit(
        '{"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4",'
        ' "content_length": 5, "options": {"note": "\\ud800"}}'
    )
    assert status == 400
    assert "UTF-8" in payload["detail"]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!!",
        _cursor([1, 2]),
        _cursor({"job_id": {"N": "1"}}),
        _cursor({"job_id": {"S": ""}}),
        _cursor({"job_id": {"S": "x" * 500}}),
        _cursor({"job_id": {"S": "a"}, "extra": {"S": "b"}}),
        _cursor({"job_id": {"S": "a"}, "status": {"S": "completed"}, "created_at": {"S": "2026"}}),
        base64.urlsafe_b64encode(b"[" * 50_000).decode(),
    ],
)
def test_forged_cursors_are_a_400(aws: Aws, cursor: str) -> None:
    status, payload, _ = call_api("GET", "/v1/jobs", query={"cursor": cursor})
    assert status == 400, payload
    assert "cursor" in payload["detail"]


def test_a_cursor_is_good_only_for_the_caller_it_was_given_to(aws: Aws) -> None:
    for _ in range(3):
        assert submit(VALID)[0] == 201
    status, page, _ = call_api("GET", "/v1/jobs", query={"limit": "1"})
    assert status == 200
    cursor = page["next_cursor"]
    assert call_api("GET", "/v1/jobs", query={"cursor": cursor})[0] == 200
    assert call_api("GET", "/v1/jobs", query={"status": "pending", "cursor": cursor})[0] == 200
    assert call_api("GET", "/v1/jobs", query={"cursor": cursor}, api_key_id="someone-else")[0] == 400


def test_an_unexpected_error_is_a_json_500_with_the_request_id(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from forgesyte_core.jobs.store import JobStore

    def broken(self: JobStore, job_id: str) -> None:
        raise RuntimeError("the table is gone")

    monkeypatch.setattr(JobStore, "get", broken)
    status, payload, _ = call_api("GET", "/v1/jobs/00000000-0000-4000-8000-000000000000")
    assert status == 500
    assert payload["detail"].startswith("internal error (RuntimeError); request id ")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
SUBMIT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "plugin_id": st.sampled_from(["frame-counter", "text-reader", "nope"]) | JSON,
        "tool": st.sampled_from(["count_frames", "analyze", "default"]) | JSON,
        "content_type": st.sampled_from(["video/mp4", "image/png", "video/webm"]) | JSON,
        "content_length": st.integers(-5, 3 * 1024**3) | JSON,
        "options": st.dictionaries(st.text(max_size=12), JSON, max_size=5) | JSON,
        "extra": JSON,
    },
)
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=SUBMIT_LIKE | JSON | st.text(max_size=200), path=st.sampled_from(["/v1/video/submit", "/v1/image/submit"]))
def test_fuzzed_submits_never_crash(aws: Aws, body: Any, path: str) -> None:
    status, payload, _ = call_api("POST", path, body)
    assert status in (201, 400, 404, 413, 422), (status, payload)
    if status != 201:
        assert isinstance(payload["detail"], str)
        assert payload["detail"]


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "limit", "cursor", "other"]),
        st.text(max_size=40) | st.sampled_from(["pending", "5"]),
    ),
    job_id=st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
)
def test_fuzzed_reads_never_crash(aws: Aws, query: dict[str, str], job_id: str) -> None:
    assert call_api("GET", "/v1/jobs", query=query)[0] in (200, 400)
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result", f"/v1/plugins/{job_id}/manifest"):
        assert call_api("GET", path)[0] in (200, 302, 400, 404, 409)
    assert call_api("POST", f"/v1/jobs/{job_id}/cancel")[0] in (200, 400, 404, 409)
