"""A deployed stack, end to end, as its users drive it: the API with its key, presigned uploads to
the real bucket, jobs that complete or fail with a reason, their EventBridge events, and jobs from S3
drops. Everything it creates is removed at the end (the session fixtures in conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.deployed.conftest import Deployed, JobEventLog

TERMINAL = {"completed", "failed", "cancelled"}
POLL_S = 2.0


def submit_and_upload(deployed: Deployed, path: Path, plugin: str, tool: str) -> str:
    """As `forgesyte submit` does it: the API's submit, then the presigned POST straight to S3."""
    created = deployed.api.submit(path, plugin, tool, {})
    deployed.created_jobs.append(created["job_id"])
    deployed.api.upload(created, path, lambda sent, total: None)
    return str(created["job_id"])


def wait(deployed: Deployed, job_id: str, timeout: float = 900) -> dict[str, Any]:
    job = deployed.api.wait(job_id, lambda _: None, interval=POLL_S, timeout=timeout)
    assert job["status"] in TERMINAL, f"job {job_id} still {job['status']} after {timeout} s"
    return job


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deployed") / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(path)
    return path


@pytest.fixture
def drops(deployed: Deployed) -> Iterator[list[str]]:
    """Keys this test drops under incoming/; deleted afterwards with their jobs' results."""
    keys: list[str] = []
    yield keys
    s3 = deployed.session.client("s3")
    for key in keys:
        s3.delete_object(Bucket=deployed.bucket, Key=key)


def test_a_video_runs_through_the_api_and_its_events_are_its_transitions(
    deployed: Deployed, job_events: JobEventLog, scene: Path
) -> None:
    job_id = submit_and_upload(deployed, scene, "motion-tracker", "video_track")
    done = wait(deployed, job_id)
    assert done["status"] == "completed", done
    assert done["media"]["frames"] == 90
    results = deployed.api.results(done)
    assert results["total_frames"] == len(results["frames"]) == 90
    assert any(f["detections"]["tracked_objects"] for f in results["frames"]), "the scene's objects move"

    ended = job_events.first(lambda d: d["job_id"] == job_id and d["status"] == "completed")
    assert ended["result"] == {"bucket": deployed.bucket, "key": f"results/{job_id}.json"}
    assert (ended["plugin_id"], ended["tool"], ended["error_code"]) == ("motion-tracker", "video_track", None)
    assert job_events.statuses(job_id) == ["queued", "running", "completed"]


def test_an_image_is_read_by_ocr(deployed: Deployed, tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "line.png"
    text, _, picture = next(rendered_lines())
    cv2.imwrite(str(image), picture)
    done = wait(deployed, submit_and_upload(deployed, image, "rapidocr", "analyze"))
    assert done["status"] == "completed", done
    assert deployed.api.results(done)["results"]["text"].split() == text.split()


def test_a_file_that_is_not_a_video_fails_with_its_reason(
    deployed: Deployed, job_events: JobEventLog, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"these are meeting notes, not a video\n" * 200)
    job_id = submit_and_upload(deployed, fake, "motion-tracker", "video_track")
    done = wait(deployed, job_id)
    assert (done["status"], done["error_code"]) == ("failed", "invalid_media"), done
    assert done["error_message"]
    failed = job_events.first(lambda d: d["job_id"] == job_id and d["status"] == "failed")
    assert (failed["error_code"], failed["result"]) == ("invalid_media", None)


def test_a_drop_under_the_drop_prefix_becomes_a_job_with_results(
    deployed: Deployed, job_events: JobEventLog, scene: Path, drops: list[str]
) -> None:
    s3 = deployed.session.client("s3")
    key = f"{deployed.outputs['DropPrefix']}motion-tracker/video_track/deployed-test/{uuid.uuid4().hex}.mp4"
    drops.append(key)
    options = json.dumps({"lost_buffer_frames": 20})
    s3.upload_file(
        str(scene),
        deployed.bucket,
        key,
        ExtraArgs={"ContentType": "video/mp4", "Metadata": {"forgesyte-options": options}},
    )
    ended = job_events.first(lambda d: d["input"]["key"] == key and d["status"] in TERMINAL, timeout=600)
    deployed.created_jobs.append(ended["job_id"])
    assert ended["status"] == "completed", ended
    assert (ended["owner"], ended["input"]) == ("s3-drop", {"bucket": deployed.bucket, "key": key})
    stored = s3.get_object(Bucket=ended["result"]["bucket"], Key=ended["result"]["key"])["Body"].read()
    assert json.loads(stored)["total_frames"] == 90


def test_a_drop_for_an_unknown_plugin_fails_instead_of_vanishing(
    deployed: Deployed, job_events: JobEventLog, scene: Path, drops: list[str]
) -> None:
    key = f"{deployed.outputs['DropPrefix']}no-such-plugin/video_track/deployed-test/{uuid.uuid4().hex}.mp4"
    drops.append(key)
    deployed.session.client("s3").upload_file(str(scene), deployed.bucket, key, ExtraArgs={"ContentType": "video/mp4"})
    failed = job_events.first(lambda d: d["input"]["key"] == key and d["status"] in TERMINAL, timeout=300)
    deployed.created_jobs.append(failed["job_id"])
    assert (failed["status"], failed["error_code"]) == ("failed", "bad_drop"), failed
    assert "no-such-plugin" in failed["error_message"]
