"""Jobs belong to the caller who submitted them: another caller can neither see nor touch them."""

from __future__ import annotations

from tests.helpers import Aws, call_api

BODY = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": 5000}


def submit_as(api_key_id: str) -> str:
    status, payload, _ = call_api("POST", "/v1/video/submit", BODY, api_key_id=api_key_id)
    assert status == 201
    return str(payload["job_id"])


def test_a_caller_lists_reads_and_cancels_only_their_own_jobs(aws: Aws) -> None:
    alices = [submit_as("alice") for _ in range(2)]
    bobs = submit_as("bob")
    listed = call_api("GET", "/v1/jobs", api_key_id="alice")[1]["jobs"]
    assert [job["job_id"] for job in listed] == list(reversed(alices))  # newest first
    assert [j["job_id"] for j in call_api("GET", "/v1/jobs", api_key_id="bob")[1]["jobs"]] == [bobs]
    for path, method in (
        (f"/v1/jobs/{bobs}", "GET"),
        (f"/v1/jobs/{bobs}/result", "GET"),
        (f"/v1/jobs/{bobs}/cancel", "POST"),
    ):
        status, payload, _ = call_api(method, path, api_key_id="alice")
        assert status == 404, (path, payload)
        assert payload == {"detail": f"Job {bobs} not found"}  # the same answer as for no such job
    assert call_api("GET", f"/v1/jobs/{bobs}", api_key_id="bob")[1]["status"] == "pending"
    assert call_api("POST", f"/v1/jobs/{alices[0]}/cancel", api_key_id="alice")[1]["status"] == "cancelled"


def test_a_cognito_or_jwt_user_is_the_caller_when_an_authorizer_ran(aws: Aws) -> None:
    from forgesyte_core.jobs.access import caller_of

    context = {"identity": {"apiKeyId": "shared-browser-key"}, "authorizer": {"claims": {"sub": "user-123"}}}
    assert caller_of(context) == "user:user-123"
    assert caller_of({"identity": {"apiKeyId": "k1"}}) == "key:k1"
    assert caller_of({}) == "anonymous"
