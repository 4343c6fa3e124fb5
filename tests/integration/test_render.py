"""options.render: the runner draws the tracks into an annotated video and a contact sheet beside the results."""

from __future__ import annotations

import cv2
import numpy as np
import requests

from tests.helpers import Aws, call_api
from tests.integration.pipeline import results, run_video, submit
from tests.media_factory import MediaFiles


def test_render_puts_an_annotated_video_and_a_contact_sheet_beside_the_results(aws: Aws, media: MediaFiles) -> None:
    done = run_video(aws, media.mp4v.read_bytes(), options={"render": True, "label": "cube"})
    assert done["status"] == "completed", done
    assert set(done["artifact_urls"]) == {"annotated_video", "contact_sheet"}
    assert "render" not in results(aws, done["job_id"])["options_seen"]  # the runner's option, not the plugin's
    keys = {o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="results/")["Contents"]}
    job_id = done["job_id"]
    assert {f"results/{job_id}.annotated.mp4", f"results/{job_id}.contact-sheet.png"} <= keys

    sheet_bytes = requests.get(done["artifact_urls"]["contact_sheet"], timeout=10).content
    sheet = cv2.imdecode(np.frombuffer(sheet_bytes, np.uint8), cv2.IMREAD_COLOR)
    assert sheet.shape == (2 * 240, 3 * 320, 3)  # six frames of the 320x240 clip, three to a row
    video = aws.s3.get_object(Bucket=aws.bucket, Key=f"results/{job_id}.annotated.mp4")
    assert video["ContentType"] == "video/mp4"
    path = media.base / "annotated.mp4"
    path.write_bytes(video["Body"].read())
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 30


def test_without_render_there_are_no_pictures(aws: Aws, media: MediaFiles) -> None:
    done = run_video(aws, media.mp4v.read_bytes())
    assert done["artifact_urls"] is None


def test_render_is_refused_on_image_jobs_and_when_not_a_boolean(aws: Aws, media: MediaFiles) -> None:
    data = media.image("png").read_bytes()
    base = {"tool": "analyze", "content_type": "image/png", "content_length": len(data)}
    status, body, _ = call_api(
        "POST", "/v1/image/submit", {**base, "plugin_id": "text-reader", "options": {"render": True}}
    )
    assert status == 422
    assert "render" in body["detail"]
    video = {"plugin_id": "frame-counter", "tool": "count_frames", "content_type": "video/mp4", "content_length": 10}
    status, body, _ = call_api("POST", "/v1/video/submit", {**video, "options": {"render": "yes"}})
    assert status == 422
    assert "must be true or false" in body["detail"]
    assert submit("video", "frame-counter", "count_frames", b"x" * 10, "video/mp4", {"render": False})["job_id"]
