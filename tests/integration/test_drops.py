"""Jobs from plain S3 drops under incoming/{plugin_id}/{tool}/: created on arrival, validated like any
upload, run; one job per object however often its event comes; bad drops fail with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forgesyte_core import wiring
from forgesyte_core.intake.drops import DROP_OWNER, drop_job_id
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, LambdaContext, sqs_event
from tests.integration.pipeline import listen, received, results, run_work
from tests.media_factory import MediaFiles, write_mp4v


def drop(aws: Aws, key: str, data: bytes, content_type: str = "video/mp4", options: str | None = None) -> list[dict]:
    metadata = {"forgesyte-options": options} if options is not None else {}
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data, ContentType=content_type, Metadata=metadata)
    return aws.drain("UploadQueue")


def deliver(messages: list[dict]) -> None:
    import ingest_app

    if messages:
        ingest_app.lambda_handler(sqs_event(messages), LambdaContext())


def sequencer(messages: list[dict]) -> str:
    """What ingest tells writes apart by (S3 sends a sequencer; moto, only the ETag)."""
    from ingest_app import parse_s3_notification

    return next(c.version for m in messages for c in parse_s3_notification(m["Body"]))


def test_a_dropped_video_becomes_a_job_that_runs(aws: Aws, media: MediaFiles) -> None:
    key = "incoming/frame-counter/count_frames/cameras/gate-2/clip 01.mp4"
    events = drop(aws, key, media.mp4v.read_bytes(), options='{"label": "car"}')
    deliver(events)
    run_work(aws)
    job = wiring.job_store().get(drop_job_id(key, sequencer(events)))
    assert (job.status, job.owner, job.input_key) == ("completed", DROP_OWNER, key)
    assert job.options == {"label": "car"}
    assert results(aws, job.job_id)["frames"][0]["detections"]["tracked_objects"][0]["class"] == "car"
    assert aws.s3.head_object(Bucket=aws.bucket, Key=key)  # the drop stays where it was put


def test_the_same_drop_delivered_twice_makes_one_job(aws: Aws, media: MediaFiles) -> None:
    key = "incoming/frame-counter/count_frames/a.mp4"
    events = drop(aws, key, media.mp4v.read_bytes())
    deliver(events + events)  # two copies of the event in one batch
    deliver(events)  # and SQS redelivering it later
    assert len(aws.drain("WorkQueue")) == 1
    assert wiring.job_store().get(drop_job_id(key, sequencer(events))).status == "queued"


def test_writing_the_key_again_is_a_new_job(aws: Aws, media: MediaFiles) -> None:
    key = "incoming/frame-counter/count_frames/again.mp4"
    other = write_mp4v(media.base / "other.mp4", frames=12)
    first = drop(aws, key, media.mp4v.read_bytes())
    second = drop(aws, key, other.read_bytes())  # another write of the key: another job
    deliver(first + second)
    assert sequencer(first) != sequencer(second)
    assert len(aws.drain("WorkQueue")) == 2


def test_bad_drops_fail_with_a_reason_instead_of_vanishing(aws: Aws, media: MediaFiles) -> None:
    cases = {
        "incoming/no-such-plugin/x/a.mp4": (None, "Unknown plugin_id 'no-such-plugin'"),
        "incoming/frame-counter/nope/a.mp4": (None, "has no tool 'nope'"),
        "incoming/frame-counter/count_frames/opts.mp4": ("{not json", "is not JSON"),
        "incoming/text-reader/analyze/a.mp4": (None, "does not take video input"),
    }
    for key, (options, reason) in cases.items():
        events = drop(aws, key, media.mp4v.read_bytes(), options=options)
        deliver(events)
        job = wiring.job_store().get(drop_job_id(key, sequencer(events)))
        assert (job.status, job.error_code) == ("failed", "bad_drop"), key
        assert reason in (job.error_message or ""), (key, job.error_message)
    not_media = drop(aws, "incoming/frame-counter/count_frames/notes.mp4", b"meeting notes")
    deliver(not_media)
    job = wiring.job_store().get(drop_job_id("incoming/frame-counter/count_frames/notes.mp4", sequencer(not_media)))
    assert (job.status, job.error_code) == ("failed", "invalid_media")
    assert aws.s3.head_object(Bucket=aws.bucket, Key="incoming/frame-counter/count_frames/notes.mp4")


def test_keys_that_are_not_drops_are_ignored(aws: Aws) -> None:
    for key in ("incoming/frame-counter/", "incoming/frame-counter/count_frames/", "elsewhere/x.mp4"):
        deliver(drop(aws, key, b"x"))
    assert aws.drain("WorkQueue") == []


@pytest.mark.template_parameters(DropPrefix="cameras/feeds/")
def test_the_drop_prefix_is_the_stacks_parameter(aws: Aws, media: MediaFiles) -> None:
    key = "cameras/feeds/frame-counter/count_frames/gate.mp4"
    events = drop(aws, key, media.mp4v.read_bytes())  # the bucket notifies for the configured prefix
    deliver(events)
    run_work(aws)
    assert wiring.job_store().get(drop_job_id(key, sequencer(events))).status == "completed"
    assert drop(aws, "incoming/frame-counter/count_frames/old.mp4", media.mp4v.read_bytes()) == []
    bad = drop(aws, "cameras/feeds/nope/count_frames/x.mp4", media.mp4v.read_bytes())
    deliver(bad)
    job = wiring.job_store().get(drop_job_id("cameras/feeds/nope/count_frames/x.mp4", sequencer(bad)))
    assert "drop files under cameras/feeds/PLUGIN_ID/TOOL/" in (job.error_message or "")


def test_a_drop_is_read_once_for_its_job_and_its_validation(aws: Aws, media: MediaFiles) -> None:
    from forgesyte_core import clients

    calls: list[str] = []
    for service in ("s3", "dynamodb"):
        clients.client(service).meta.events.register(
            f"before-call.{service}", lambda model, **_: calls.append(model.name)
        )
    deliver(drop(aws, "incoming/frame-counter/count_frames/once.mp4", media.mp4v.read_bytes()))
    assert calls.count("HeadObject") == 1
    assert calls.count("GetItem") == 1  # is it a duplicate? then PutItem makes the job
    assert "PutItem" in calls


def test_a_rule_can_follow_one_folder_of_drops_by_its_input_key(aws: Aws, media: MediaFiles) -> None:
    folder = "incoming/frame-counter/count_frames/gate-2/"
    pattern = {"source": ["forgesyte"], "detail": {"status": ["completed"], "input": {"key": [{"prefix": folder}]}}}
    url = listen(aws, pattern, name="gate-2-done")
    for key in (f"{folder}a.mp4", "incoming/frame-counter/count_frames/gate-3/b.mp4"):
        deliver(drop(aws, key, media.mp4v.read_bytes()))
    run_work(aws)
    assert [e["detail"]["input"]["key"] for e in received(aws, url)] == [f"{folder}a.mp4"]


def test_a_drop_without_a_content_type_is_judged_by_its_name_then_its_tool(aws: Aws, media: MediaFiles) -> None:
    """boto3's upload_file without ContentType stores binary/octet-stream: still the right job type."""
    cases = {
        "incoming/frame-counter/count_frames/clip.mp4": (media.mp4v, "video"),
        "incoming/text-reader/analyze/scan.png": (media.image("png"), "image"),
        "incoming/text-reader/analyze/scan-without-extension": (media.image("png"), "image"),  # the tool's kind
    }
    job_ids = {}
    for key, (path, kind) in cases.items():
        events = drop(aws, key, path.read_bytes(), content_type="binary/octet-stream")
        deliver(events)
        job_ids[key] = drop_job_id(key, sequencer(events))
        assert wiring.job_store().get(job_ids[key]).job_type == kind, key
    run_work(aws)
    assert {key: wiring.job_store().get(job_id).status for key, job_id in job_ids.items()} == dict.fromkeys(
        cases, "completed"
    )


def probe_raises(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Ingest dies while validating, on every try (a hostile file, out of memory, a timeout)."""
    import forgesyte_core.intake.ingest

    def failing(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(forgesyte_core.intake.ingest, "probe_media", failing)


def failed_items(messages: list[dict]) -> list[object]:
    import ingest_app

    response = ingest_app.lambda_handler(sqs_event(messages), LambdaContext())
    return list(response["batchItemFailures"])


def dead_letter(messages: list[dict]) -> dict[str, object]:
    """The upload queue gave up on these drop events: what reconcile makes of them."""
    import reconcile_app

    event = {"Records": [{"messageId": str(i), "body": m["Body"]} for i, m in enumerate(messages)]}
    result: dict[str, object] = reconcile_app.lambda_handler(event, LambdaContext())
    return result


def test_a_drop_ingest_died_on_before_making_its_job_still_ends_failed(aws: Aws, media: MediaFiles) -> None:
    key = "incoming/frame-counter/count_frames/never-made.mp4"
    events = drop(aws, key, media.mp4v.read_bytes())  # ingest never got as far as the job
    assert dead_letter(events)["failed"] == 1
    job = wiring.job_store().get(drop_job_id(key, sequencer(events)))
    assert (job.status, job.error_code, job.owner, job.input_key) == ("failed", "ingest_failed", DROP_OWNER, key)
    assert "write it again" in (job.error_message or "")


def test_a_drop_ingest_died_on_while_validating_ends_failed(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe_raises(monkeypatch, MemoryError())
    key = "incoming/frame-counter/count_frames/poison.mp4"
    events = drop(aws, key, media.mp4v.read_bytes())
    assert failed_items(events), "the batch reports the message failed: SQS retries, then dead-letters it"
    job_id = drop_job_id(key, sequencer(events))
    assert wiring.job_store().get(job_id).status == "pending"
    assert dead_letter(events)["failed"] == 1
    assert wiring.job_store().get(job_id).error_code == "ingest_failed"


def test_the_sweep_says_a_pending_drop_was_never_validated_not_that_no_upload_came(
    aws: Aws, media: MediaFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe_raises(monkeypatch, TimeoutError())
    key = "incoming/frame-counter/count_frames/slow.mp4"
    events = drop(aws, key, media.mp4v.read_bytes())
    assert failed_items(events)
    report = wiring.reconciler().sweep(now=utcnow() + timedelta(hours=1))
    job = wiring.job_store().get(drop_job_id(key, sequencer(events)))
    assert report.failed["pending"] == [job.job_id]
    assert (job.status, job.error_code) == ("failed", "ingest_failed")
