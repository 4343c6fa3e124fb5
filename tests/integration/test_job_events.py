"""Job events on EventBridge (moto, a rule sending them to a queue as a user's rule would): one per
status change, in order, with the documented shape; a failing bus never fails the job."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from forgesyte_core import wiring
from forgesyte_core.jobs.events import DETAIL_TYPE, SOURCE
from tests.helpers import Aws, call_api, upload
from tests.integration.pipeline import ingest, job, listen, received, run_video, run_work, submit
from tests.media_factory import MediaFiles


def test_a_jobs_life_is_its_events_in_order(aws: Aws, media: MediaFiles) -> None:
    url = listen(aws)
    done = run_video(aws, media.mp4v.read_bytes(), options={"label": "cube"})
    events = received(aws, url)
    assert [e["detail"]["status"] for e in events] == ["queued", "running", "completed"]
    last = events[-1]
    assert (last["source"], last["detail-type"]) == (SOURCE, DETAIL_TYPE)
    assert last["resources"] == [done["job_id"]]
    assert set(last["detail"]) == {
        "job_id", "status", "plugin_id", "tool", "job_type", "owner", "attempt", "compute",
        "error_code", "error_message", "input", "result", "artifacts", "callback_url", "updated_at",
    }  # fmt: skip
    assert last["detail"]["input"] == {"bucket": aws.bucket, "key": f"uploads/{done['job_id']}/input"}
    assert last["detail"]["result"] == {"bucket": aws.bucket, "key": f"results/{done['job_id']}.json"}
    assert (last["detail"]["plugin_id"], last["detail"]["tool"]) == ("frame-counter", "count_frames")


def test_failures_and_cancels_are_events_with_their_reason(aws: Aws, media: MediaFiles) -> None:
    url = listen(aws)
    bad = submit("video", "frame-counter", "count_frames", b"not a video at all", "video/mp4")
    upload(bad, b"not a video at all")
    ingest(aws)
    cancelled = submit("video", "frame-counter", "count_frames", b"x" * 10, "video/mp4")
    call_api("POST", f"/v1/jobs/{cancelled['job_id']}/cancel")
    by_job: dict[str, list[dict[str, Any]]] = {}
    for event in received(aws, url):
        by_job.setdefault(event["detail"]["job_id"], []).append(event["detail"])
    assert [(d["status"], d["error_code"]) for d in by_job[bad["job_id"]]] == [("failed", "invalid_media")]
    assert "unrecognised file format" in by_job[bad["job_id"]][0]["error_message"]
    assert [d["status"] for d in by_job[cancelled["job_id"]]] == ["cancelled"]


class RefusingBus:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls, self.error = 0, error

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.error:
            raise self.error
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}]}


def test_a_bus_that_refuses_is_retried_logged_and_never_fails_the_job(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from forgesyte_core.jobs import events as job_events
    from tests.conftest import _reset

    real_client = wiring.client
    monkeypatch.setattr(job_events.time, "sleep", lambda _: None)
    for bus in (RefusingBus(), RefusingBus(ClientError({"Error": {"Code": "ThrottlingException"}}, "PutEvents"))):
        monkeypatch.setattr(wiring, "client", lambda name, bus=bus: bus if name == "events" else real_client(name))
        _reset()
        created = submit("video", "frame-counter", "count_frames", media.mp4v.read_bytes(), "video/mp4")
        upload(created, media.mp4v.read_bytes())
        ingest(aws)
        run_work(aws)
        assert job(created["job_id"])["status"] == "completed"
        assert bus.calls == 3 * 3  # queued, running, completed: each tried 3 times
    assert "job event not published after 3 attempts" in caplog.text
