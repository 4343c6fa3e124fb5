"""The whole job path through the real handlers against moto resources built from template.yaml."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests

from tests.helpers import Aws, call_api, upload
from tests.integration.pipeline import ingest, job, results, run_video, run_work, submit
from tests.media_factory import MediaFiles, needs_ffmpeg


def test_a_video_whose_frames_do_not_decode_fails_saying_so(aws: Aws, media: MediaFiles) -> None:
    """Its boxes are sound, so ingest takes it; its frame data is zeros (damaged), so nothing decodes."""
    data = bytearray(media.mp4v.read_bytes())
    mdat = data.index(b"mdat")
    size = int.from_bytes(data[mdat - 4 : mdat], "big")
    data[mdat + 4 : mdat - 4 + size] = bytes(size - 8)
    done = run_video(aws, bytes(data))
    assert done["status"] == "failed", done
    assert done["error_code"] == "invalid_media"
    assert done["error_message"].startswith("no frame of the video could be decoded (its sample tables list 30)")


def test_video_job_runs_end_to_end(aws: Aws, media: MediaFiles) -> None:
    done = run_video(aws, media.mp4v.read_bytes(), options={"label": "square"})
    assert done["status"] == "completed", done
    assert done["progress"] == 100
    assert done["compute"] == "lambda"
    assert done["attempt"] == 1
    assert done["media"]["codec"] == "mpeg4"
    assert done["media"]["frames"] == 30
    assert done["summary"]["frame_count"] == 30
    assert done["summary"]["detection_count"] == 30
    assert done["summary"]["classes"] == ["square"]
    document = results(aws, done["job_id"])
    assert document["job_id"] == done["job_id"]
    assert document["status"] == "completed"
    assert document["total_frames"] == 30
    assert len(document["frames"]) == 30
    assert document["frames_decoded"] == 30
    assert done["summary"]["frames_decoded"] == 30
    first = document["frames"][0]["detections"]["tracked_objects"][0]
    assert first["track_id"] == 1
    assert len(first["xyxy"]) == 4
    # result_url is a presigned GET that serves the same document over plain HTTP.
    fetched = requests.get(done["result_url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.json()["total_frames"] == 30
    status, _, headers = call_api("GET", f"/v1/jobs/{done['job_id']}/result")
    assert status == 302
    assert f"results/{done['job_id']}.json" in headers["Location"]


@needs_ffmpeg
def test_a_fragmented_mp4_as_browsers_record_it_runs(aws: Aws, media: MediaFiles) -> None:
    """Safari and Chrome's MediaRecorder write fragmented MP4 with no duration box: it is accepted and runs."""
    path = media.fragmented_as("recorded", "+empty_moov+default_base_moof+skip_trailer", seconds=2, fragment_s=0.2)
    done = run_video(aws, path.read_bytes())
    assert done["status"] == "completed", done
    assert (done["media"]["fragmented"], done["media"]["frames"], done["media"]["duration"]) == (True, 50, 2.0)
    assert done["summary"]["frame_count"] == 50
    assert len(results(aws, done["job_id"])["frames"]) == 50


def test_image_job_with_a_pydantic_result(aws: Aws, media: MediaFiles) -> None:
    data = media.image("png").read_bytes()
    created = submit("image", "text-reader", "analyze", data, "image/png")
    upload(created, data)
    ingest(aws)
    run_work(aws)
    done = job(created["job_id"])
    assert done["status"] == "completed", done
    document = results(aws, created["job_id"])
    assert document["plugin_id"] == "text-reader"
    assert document["tool"] == "analyze"
    assert document["results"]["text"] == "HELLO"
    assert document["results"]["image_size"] == {"bytes": len(data)}
    assert done["summary"] == {
        "frame_count": 1,
        "detection_count": 1,
        "classes": [],
        "run_seconds": done["summary"]["run_seconds"],
    }


def test_an_error_the_plugin_reports_in_its_result_fails_the_job_with_that_error(aws: Aws, media: MediaFiles) -> None:
    """The public Tesseract plugin returns {"error": "...traineddata..."} and empty text for an unknown
    language; that is a failed job, not a completed one with nothing in it."""
    data = media.image("png").read_bytes()
    created = submit("image", "text-reader", "analyze", data, "image/png", {"language": "xx"})
    upload(created, data)
    ingest(aws)
    run_work(aws)
    failed = job(created["job_id"])
    assert failed["status"] == "failed", failed
    assert failed["error_code"] == "plugin_error"
    assert failed["error_message"] == (
        "the plugin reported an error: Failed loading language 'xx': xx.traineddata not found"
    )
    assert failed["result_url"] is None


def test_duplicate_s3_event_runs_the_job_once(aws: Aws, media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    messages = aws.drain("UploadQueue")
    upload_records = [m for m in messages if "ObjectCreated" in m["Body"]]
    assert len(upload_records) == 1
    from tests.helpers import LambdaContext, sqs_event

    import ingest_app

    twice = sqs_event(upload_records * 2)
    twice["Records"][1]["messageId"] = "second-delivery"
    assert ingest_app.lambda_handler(twice, LambdaContext()) == {"batchItemFailures": []}
    assert ingest_app.lambda_handler(sqs_event(upload_records), LambdaContext()) == {"batchItemFailures": []}
    work = aws.drain("WorkQueue")
    assert len(work) == 1, "one dispatch however often the event arrives"
    import runner_app

    runner_app.lambda_handler(sqs_event(work * 2), LambdaContext())
    done = job(created["job_id"])
    assert done["status"] == "completed"
    assert done["attempt"] == 1


def test_rejected_upload_fails_the_job_and_deletes_the_object(aws: Aws) -> None:
    data = b"this is not a video at all, just some text" * 10
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    failed = job(created["job_id"])
    assert failed["status"] == "failed"
    assert failed["error_code"] == "invalid_media"
    assert "unrecognised file format" in failed["error_message"]
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="uploads/")
    assert aws.drain("WorkQueue") == []


def test_an_image_uploaded_for_a_video_job_is_rejected(aws: Aws, media: MediaFiles) -> None:
    data = media.image("png").read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    failed = job(created["job_id"])
    assert failed["error_message"].startswith("this job expects a video but the file is a PNG image; upload an MP4")


def test_type_and_size_are_enforced_again_on_arrival(aws: Aws, media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    wrong_type = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(wrong_type, data, content_type="video/quicktime")  # moto does not enforce the POST policy
    too_big = submit("video", "frame-counter", "count_frames", data[:1000], "video/mp4")
    upload(too_big, data)
    ingest(aws)
    assert (
        "uploaded as 'video/quicktime' but the job declared 'video/mp4'" in job(wrong_type["job_id"])["error_message"]
    )
    assert f"the upload is {len(data)} bytes, more than the 1000 declared" in job(too_big["job_id"])["error_message"]


def test_plugin_exception_ends_failed_with_its_message(aws: Aws, media: MediaFiles) -> None:
    failed = run_video(aws, media.mp4v.read_bytes(), plugin_id="crasher", tool="explode")
    assert failed["status"] == "failed"
    assert failed["error_code"] == "plugin_error"
    assert failed["error_message"] == "RuntimeError: model weights are corrupt at layer 7"
    assert failed["compute"] == "lambda"  # asks for a GPU, but no Batch queue is configured here


def test_image_tool_refuses_a_video_at_submit(aws: Aws) -> None:
    status, body, _ = call_api(
        "POST",
        "/v1/video/submit",
        {"plugin_id": "text-reader", "tool": "analyze", "content_type": "video/mp4", "content_length": 100},
    )
    assert status == 422
    assert body == {"detail": "tool 'analyze' of plugin 'text-reader' does not take video input (it takes image)"}


def test_ocr_style_plugin_raises_value_error_for_a_video_tool_at_run_time(aws: Aws, media: MediaFiles) -> None:
    """A stale catalog can admit a tool the plugin lacks: the runner records the plugin's ValueError."""
    from forgesyte_core import wiring
    from forgesyte_core.jobs.model import JobStatus

    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    ingest(aws)
    store = wiring.job_store()
    item = store._item_cls.get(created["job_id"])
    item.update(actions=[store._item_cls.plugin_id.set("text-reader"), store._item_cls.tool.set("video_track")])
    run_work(aws)
    failed = job(created["job_id"])
    assert failed["status"] == str(JobStatus.FAILED)
    assert failed["error_message"] == "ValueError: Unknown tool: video_track"


def test_submit_errors_use_forgesyte_detail_shape(aws: Aws) -> None:
    cases = [
        (
            {"plugin_id": "nope", "tool": "x", "content_type": "video/mp4", "content_length": 1},
            400,
            "Unknown plugin_id 'nope'",
        ),
        (
            {"plugin_id": "frame-counter", "tool": "x", "content_type": "video/mp4", "content_length": 1},
            400,
            "has no tool 'x'",
        ),
        (
            {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4"},
            400,
            "missing field(s): content_length",
        ),
        (
            {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/webm", "content_length": 5},
            422,
            "'video/webm' is not accepted",
        ),
        (
            {
                "plugin_id": "frame-counter",
                "tool": "count_frames",
                "content_type": "video/mp4",
                "content_length": 10**12,
            },
            413,
            "limited to 2147483648 bytes",
        ),
        (
            {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": -1},
            400,
            "positive integer",
        ),
    ]
    for body, expected_status, expected_text in cases:
        status, payload, _ = call_api("POST", "/v1/video/submit", body)
        assert status == expected_status, (body, payload)
        assert expected_text in payload["detail"]
    status, payload, _ = call_api("POST", "/v1/video/submit", "{not json")
    assert status == 400
    assert payload["detail"].startswith("the request body is not valid JSON")
    status, payload, _ = call_api("GET", "/v1/jobs/00000000-0000-4000-8000-000000000000")
    assert status == 404
    assert payload == {"detail": "Job 00000000-0000-4000-8000-000000000000 not found"}
    status, payload, _ = call_api("GET", "/v1/nowhere")
    assert status == 404
    assert "no route" in payload["detail"]


def test_presigned_post_policy_limits_key_type_and_size(aws: Aws) -> None:
    created = submit("video", "frame-counter", "count_frames", b"x" * 5000, "video/mp4")
    fields = created["upload"]["fields"]
    assert fields["key"] == f"uploads/{created['job_id']}/input"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "video/mp4"} in conditions
    assert ["content-length-range", 1, 5000] in conditions
    assert {"key": fields["key"]} in conditions
    assert {"bucket": aws.bucket} in conditions
    assert policy["expiration"].startswith(created["upload"]["expires_at"][:16])


def test_listing_filters_by_status_and_pages_with_a_cursor(aws: Aws, media: MediaFiles) -> None:
    ids = [submit("image", "text-reader", "analyze", b"x" * 10, "image/png")["job_id"] for _ in range(3)]
    status, page, _ = call_api("GET", "/v1/jobs", query={"status": "pending", "limit": "2"})
    assert status == 200
    assert len(page["jobs"]) == 2
    assert page["next_cursor"]
    status, rest, _ = call_api(
        "GET", "/v1/jobs", query={"status": "pending", "limit": "2", "cursor": page["next_cursor"]}
    )
    assert status == 200
    seen = [j["job_id"] for j in page["jobs"] + rest["jobs"]]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 3
    assert seen[0] == ids[-1], "newest first"
    assert call_api("GET", "/v1/jobs", query={"status": "running"})[1]["jobs"] == []
    assert call_api("GET", "/v1/jobs", query={"status": "bogus"})[0] == 400
    assert call_api("GET", "/v1/jobs", query={"cursor": "!!!"})[0] == 400


def test_cancel_and_its_conflict(aws: Aws) -> None:
    created = submit("image", "text-reader", "analyze", b"x" * 10, "image/png")
    status, body, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/cancel")
    assert status == 200
    assert body["status"] == "cancelled"
    status, body, _ = call_api("POST", f"/v1/jobs/{created['job_id']}/cancel")
    assert status == 409
    assert "is cancelled" in body["detail"]
    assert call_api("GET", f"/v1/jobs/{created['job_id']}/result")[0] == 409


def test_plugins_manifest_and_health(aws: Aws) -> None:
    status, body, _ = call_api("GET", "/v1/plugins")
    assert status == 200
    assert "frame-counter" in [p["id"] for p in body["plugins"]]
    status, manifest, _ = call_api("GET", "/v1/plugins/frame-counter/manifest")
    assert status == 200
    assert [t["id"] for t in manifest["tools"]] == ["count_frames", "count_segment", "image_size"]
    assert call_api("GET", "/v1/plugins/nope/manifest")[0] == 404
    assert call_api("GET", "/v1/health")[1] == {"status": "ok", "plugins": 4}


def test_cors_is_limited_to_the_configured_origins(aws: Aws) -> None:
    _, _, headers = call_api("GET", "/v1/health", headers={"Origin": "http://localhost:5173"})
    assert headers.get("Access-Control-Allow-Origin") == "http://localhost:5173"
    _, _, headers = call_api("GET", "/v1/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_test_events_and_foreign_keys_are_dropped(aws: Aws) -> None:
    from tests.helpers import LambdaContext, load_event

    import ingest_app

    assert ingest_app.lambda_handler(load_event("s3-test-event-sqs.json"), LambdaContext()) == {"batchItemFailures": []}
    aws.s3.put_object(Bucket=aws.bucket, Key="uploads/not-a-job/input", Body=b"x")
    aws.s3.put_object(Bucket=aws.bucket, Key="uploads/00000000-0000-4000-8000-000000000000/input", Body=b"x")
    assert ingest(aws) == {"batchItemFailures": []}
    assert aws.drain("WorkQueue") == []


def test_upload_after_the_job_ended_is_deleted(aws: Aws, media: MediaFiles) -> None:
    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    assert call_api("POST", f"/v1/jobs/{created['job_id']}/cancel")[0] == 200
    upload(created, data)
    ingest(aws)
    assert job(created["job_id"])["status"] == "cancelled"
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="uploads/")
    assert aws.drain("WorkQueue") == []


def test_a_tool_gone_from_the_catalog_fails_the_job_not_the_event(
    aws: Aws, media: MediaFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy between submit and upload can drop a tool: the job ends failed at once, nothing retries."""
    from forgesyte_core.plugins.catalog import build_catalog
    from tests.conftest import _reset

    data = media.mp4v.read_bytes()
    created = submit("video", "frame-counter", "count_frames", data, "video/mp4")
    upload(created, data)
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps(build_catalog([])))
    monkeypatch.setenv("PLUGIN_CATALOG_PATH", str(smaller))
    _reset()
    assert ingest(aws) == {"batchItemFailures": []}
    failed = job(created["job_id"])
    assert failed["status"] == "failed"
    assert failed["error_code"] == "dispatch_failed"
    assert "Unknown plugin_id 'frame-counter'" in failed["error_message"]
