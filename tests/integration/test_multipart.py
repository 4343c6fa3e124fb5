"""Multipart uploads of large videos through the API (Uppy's S3 multipart contract), with moto's S3."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import requests

from forgesyte_core import wiring
from forgesyte_core.jobs.store import utcnow
from tests.helpers import Aws, LambdaContext, call_api, sqs_event
from tests.integration.pipeline import job, run_work, submit
from tests.media_factory import MediaFiles

MiB = 1024 * 1024


def padded_video(media: MediaFiles, size: int) -> bytes:
    """A real MP4 followed by a 'free' box: valid media, as large as the test needs."""
    from forgesyte_dev.mp4_tools import pad_mp4

    return pad_mp4(media.mp4v, media.base / f"padded-{size}.mp4", size).read_bytes()


def upload_parts(created: dict[str, Any], data: bytes, skip: set[int] = frozenset()) -> list[dict[str, Any]]:
    job_id, upload = created["job_id"], created["multipart"]
    parts = []
    for number in range(1, upload["parts"] + 1):
        if number in skip:
            continue
        status, signed, _ = call_api("GET", f"/v1/jobs/{job_id}/multipart/{upload['uploadId']}/{number}")
        assert status == 200, signed
        chunk = data[(number - 1) * upload["part_bytes"] : number * upload["part_bytes"]]
        response = requests.put(signed["url"], data=chunk, timeout=30)
        assert response.status_code == 200, response.text
        parts.append({"PartNumber": number, "ETag": response.headers["ETag"]})
    return parts


def records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for m in messages for r in json.loads(m["Body"]).get("Records", [])]


def start(data: bytes) -> dict[str, Any]:
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    status, upload, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/multipart")
    assert status == 201, upload
    return {**created, "multipart": upload}


def test_a_multipart_upload_is_one_object_validated_once_and_run(aws: Aws, media: MediaFiles) -> None:
    data = padded_video(media, 12 * MiB)
    created = start(data)
    upload = created["multipart"]
    assert upload["key"] == f"uploads/{created['job_id']}/input"
    assert (upload["part_bytes"], upload["parts"]) == (5 * MiB, 3)
    parts = upload_parts(created, data)
    status, body, _ = call_api(
        "POST", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}/complete", {"parts": parts}
    )
    assert status == 200, body
    events = aws.drain("UploadQueue")
    # No event per part: one object. (moto sends ObjectCreated:Put beside the CompleteMultipartUpload
    # AWS sends: a duplicate, which ingest must absorb like any other.)
    objects = {(r["s3"]["object"]["key"], r["s3"]["object"]["eTag"]) for r in records(events)}
    assert len(objects) == 1
    import ingest_app

    ingest_app.lambda_handler(sqs_event(events), LambdaContext())
    assert len(run_work(aws)["batchItemFailures"]) == 0
    done = job(created["job_id"])
    assert done["status"] == "completed", done
    assert (done["attempt"], done["media"]["bytes"]) == (1, len(data))
    assert aws.drain("WorkQueue") == []  # launched once


def test_listing_parts_lets_a_reloaded_page_send_only_the_rest(aws: Aws, media: MediaFiles) -> None:
    data = padded_video(media, 11 * MiB)
    created = start(data)
    upload = created["multipart"]
    first = upload_parts(created, data, skip={2, 3})
    status, listed, _ = call_api("GET", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}")
    assert status == 200
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["parts"]] == [(1, 5 * MiB, first[0]["ETag"])]
    rest = upload_parts(created, data, skip={1})
    status, body, _ = call_api(
        "POST", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}/complete", {"parts": first + rest}
    )
    assert status == 200, body


def test_parts_over_the_declared_size_are_refused_and_the_upload_aborted(aws: Aws, media: MediaFiles) -> None:
    data = padded_video(media, 11 * MiB)
    created = submit("video", "frame-counter", "count_frames", data[: 10 * MiB], "video/mp4")  # declares less
    status, upload, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/multipart")
    created["multipart"] = {**upload, "parts": 3}
    parts = upload_parts(created, data)
    status, body, _ = call_api(
        "POST", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}/complete", {"parts": parts}
    )
    assert status == 413
    assert "more than the 10485760 the job declared" in body["detail"]
    status, body, _ = call_api("GET", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}")
    assert status == 400  # aborted: S3 no longer knows it


def test_only_the_owner_of_a_pending_job_may_upload(aws: Aws, media: MediaFiles) -> None:
    data = padded_video(media, 6 * MiB)
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    status, _, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/multipart", api_key_id="someone-else")
    assert status == 404
    status, upload, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/multipart")
    assert status == 201
    status, body, _ = call_api("GET", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}/0")
    assert status == 400
    assert "part numbers run from 1 to 10000" in body["detail"]
    call_api("POST", f"/v1/jobs/{created['job_id']}/cancel")
    status, body, _ = call_api("GET", f"/v1/jobs/{created['job_id']}/multipart/{upload['uploadId']}/1")
    assert status == 409
    assert "its upload is closed" in body["detail"]


def test_starting_a_multipart_upload_extends_the_jobs_upload_window(aws: Aws, media: MediaFiles) -> None:
    created = submit("video", "frame-counter", "count_frames", padded_video(media, 6 * MiB), "video/mp4")
    before = wiring.job_store().get(created["job_id"]).upload_expires_at
    call_api("POST", f"/v1/jobs/{created['job_id']}/multipart")
    after = wiring.job_store().get(created["job_id"]).upload_expires_at
    assert after - before > timedelta(hours=5)
    assert after > utcnow() + timedelta(hours=5)
