"""The conditional writes under real races, and every threshold at its edge.

Threads meet at a barrier just before the write that decides the race, so the race is really run
(one after another, a conditional write is never contested). Each test here fails if its guard is
loosened: a transition that ignores the caller's expected statuses, ingest's queued write taking
an already-queued job, the runner's claim taking a running job, a threshold off by a factor.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from forgesyte_core import wiring
from forgesyte_core.compute.runner import JobRunner
from forgesyte_core.errors import TransitionConflict
from forgesyte_core.intake.ingest import Ingest
from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, upload
from tests.integration.pipeline import ingest, job, submit
from tests.media_factory import MediaFiles

ROUNDS = 3


pytestmark = pytest.mark.usefixtures("atomic_writes")  # tests/conftest.py: DynamoDB's per-item atomicity


def together(count: int, action: Callable[[], Any]) -> list[Any]:
    """Run ``action`` in ``count`` threads at once; their results (or exceptions) in a list."""
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            outcome = action()
        except Exception as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def uploaded_job(aws: Aws, media: MediaFiles, drain: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """A submitted and uploaded job, and its upload events (taken off the queue unless ``drain`` is off)."""
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    return str(created["job_id"]), aws.drain("UploadQueue") if drain else []


def test_expected_statuses_narrower_than_the_state_machine_are_honoured(aws: Aws, media: MediaFiles) -> None:
    store = wiring.job_store()
    job_id, _ = uploaded_job(aws, media)
    with pytest.raises(TransitionConflict):  # the state machine allows pending → cancelled; the caller does not
        store.transition(job_id, JobStatus.CANCELLED, expected=(JobStatus.QUEUED,))
    store.transition(job_id, JobStatus.QUEUED)
    with pytest.raises(TransitionConflict):  # queued → failed is legal, but the sweep's heartbeat check says running
        store.transition(job_id, JobStatus.FAILED, expected=(JobStatus.RUNNING,))
    assert store.get(job_id).status == JobStatus.QUEUED


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_duplicate_events_validated_at_once_launch_once(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch, round_: int
) -> None:
    job_id, messages = uploaded_job(aws, media)
    barrier = threading.Barrier(4)
    real_validate = Ingest._validate

    def validate_then_wait(self: Ingest, *args: Any) -> dict[str, Any]:
        media_info = real_validate(self, *args)
        barrier.wait(timeout=30)  # every copy of the event reaches the queued write together
        return media_info

    monkeypatch.setattr(Ingest, "_validate", validate_then_wait)
    service = wiring.ingest()
    from forgesyte_core.intake.ingest import parse_s3_notification

    (event,) = [e for m in messages for e in parse_s3_notification(m["Body"]) if job_id in e.key]
    outcomes = together(4, lambda: service.handle(event))
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "queued"], outcomes
    assert len(aws.drain("WorkQueue")) == 1
    assert job(job_id)["status"] == "queued"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_runners_claiming_at_once_run_the_plugin_once(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch, round_: int
) -> None:
    job_id, _ = uploaded_job(aws, media, drain=False)
    ingest(aws)
    barrier = threading.Barrier(3)
    runs: list[str] = []
    real_claim, real_execute = JobRunner._claim, JobRunner._execute

    def claim_together(self: JobRunner, *args: Any) -> Any:
        barrier.wait(timeout=30)
        return real_claim(self, *args)

    def counting_execute(self: JobRunner, job_: Any, *args: Any) -> Any:
        runs.append(job_.job_id)
        return real_execute(self, job_, *args)

    monkeypatch.setattr(JobRunner, "_claim", claim_together)
    monkeypatch.setattr(JobRunner, "_execute", counting_execute)
    runner = wiring.runner()
    outcomes = together(3, lambda: runner.run(job_id, "lambda"))
    assert runs == [job_id]
    errors = ["".join(traceback.format_exception(o)) for o in outcomes if isinstance(o, Exception)]
    assert not errors, "\n".join(errors)
    assert sum(outcome is None for outcome in outcomes) == 2, outcomes
    assert job(job_id)["status"] == "completed"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_sweep_racing_ingest_ends_in_one_consistent_state(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch, round_: int
) -> None:
    """The sweep thinks the upload window has just closed while ingest queues the job: one of them wins."""
    from forgesyte_core.intake.ingest import parse_s3_notification

    job_id, messages = uploaded_job(aws, media)
    (event,) = [e for m in messages for e in parse_s3_notification(m["Body"]) if job_id in e.key]
    barrier = threading.Barrier(2)
    real_validate = Ingest._validate

    def validate_then_wait(self: Ingest, *args: Any) -> dict[str, Any]:
        media_info = real_validate(self, *args)
        barrier.wait(timeout=30)
        return media_info

    monkeypatch.setattr(Ingest, "_validate", validate_then_wait)
    settings = wiring.reconciler().settings
    # Just past the upload window and its grace, well short of the queued timeout.
    later = utcnow() + timedelta(seconds=settings.upload_url_expiry_s + settings.upload_grace_s + 5)

    def sweep() -> Any:
        barrier.wait(timeout=30)
        return wiring.reconciler().sweep(now=later)

    outcomes: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda: outcomes.__setitem__("ingest", wiring.ingest().handle(event))),
        threading.Thread(target=lambda: outcomes.__setitem__("sweep", sweep())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    final = job(job_id)
    launched = len(aws.drain("WorkQueue"))
    if final["status"] == "queued":
        assert outcomes["ingest"] == "queued"
        assert outcomes["sweep"].failed["pending"] == []
        assert launched == 1
    else:
        assert final["error_code"] == "upload_expired"
        assert outcomes["ingest"] == "duplicate"
        assert outcomes["sweep"].failed["pending"] == [job_id]
        assert launched == 0


def _set_times(job_id: str, **values: Any) -> None:
    store = wiring.job_store()
    store._item_cls(job_id).update(actions=[getattr(store._item_cls, k).set(v) for k, v in values.items()])


@pytest.mark.parametrize(("past_s", "fails"), [(-1, False), (1, True)])
def test_heartbeat_timeout_at_its_edge(aws: Aws, media: MediaFiles, past_s: int, fails: bool) -> None:
    job_id, _ = uploaded_job(aws, media)
    store, settings = wiring.job_store(), wiring.reconciler().settings
    store.transition(job_id, JobStatus.QUEUED)
    beat = utcnow()
    store.transition(job_id, JobStatus.RUNNING, heartbeat_at=beat)
    report = wiring.reconciler().sweep(now=beat + timedelta(seconds=settings.heartbeat_timeout_s + past_s))
    assert (job_id in report.failed["running"] + report.retried) is fails  # a dead run is retried or failed


@pytest.mark.parametrize(("past_s", "fails"), [(-1, False), (1, True)])
def test_queued_timeout_at_its_edge(aws: Aws, media: MediaFiles, past_s: int, fails: bool) -> None:
    job_id, _ = uploaded_job(aws, media)
    store, settings = wiring.job_store(), wiring.reconciler().settings
    queued = store.transition(job_id, JobStatus.QUEUED)
    _set_times(job_id, created_at=queued.updated_at)
    report = wiring.reconciler().sweep(now=queued.updated_at + timedelta(seconds=settings.queued_timeout_s + past_s))
    assert (report.failed["queued"] == [job_id]) is fails


@pytest.mark.parametrize(("past_s", "fails"), [(-1, False), (1, True)])
def test_upload_expiry_and_grace_at_their_edge(aws: Aws, past_s: int, fails: bool) -> None:
    created = submit("image", "text-reader", "analyze", b"x", "image/png")
    pending = wiring.job_store().get(created["job_id"])
    settings = wiring.reconciler().settings
    now = pending.upload_expires_at + timedelta(seconds=settings.upload_grace_s + past_s)
    report = wiring.reconciler().sweep(now=now)
    assert (report.failed["pending"] == [created["job_id"]]) is fails
