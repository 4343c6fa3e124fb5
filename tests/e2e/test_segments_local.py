"""Segmented runs on the local stack: the same fan-out across its runner worker pool (the work queue)
and across its Batch stand-in (one process per segment), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from forgesyte_dev.client import ApiClient
from forgesyte_dev.local.stack import LocalStack
from tests.e2e.conftest import stack_config
from tests.media_factory import write_mp4v

pytestmark = pytest.mark.slow  # one of the files make test starts first

SEGMENTING = {"SEGMENT_MIN_VIDEO_SECONDS": "4", "SEGMENT_SECONDS": "2"}


@pytest.fixture(scope="module", params=["lambda", "batch"])
def segmenting_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, combined_catalog: Path
) -> Iterator[LocalStack]:
    base = tmp_path_factory.mktemp(f"segments-{request.param}")
    config = stack_config(base, combined_catalog, prefix=f"e2e-seg-{request.param}")
    config.extra_env.update({**SEGMENTING, "DISPATCH_MODE": request.param})
    running = LocalStack(config).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4v(tmp_path_factory.mktemp("long") / "long.mp4", frames=300, fps=25.0)


def mode(stack: LocalStack) -> str:
    return str(stack.info["stack_name"]).rsplit("-", 1)[-1]


def test_a_long_video_fans_out_and_merges_on_the_local_stack(segmenting_stack: LocalStack, long_video: Path) -> None:
    api = ApiClient(segmenting_stack.info["api_url"], segmenting_stack.info["api_key"])
    created = api.submit(long_video, "frame-counter", "count_segment", {})
    api.upload(created, long_video, lambda done, total: None)
    done = api.wait(created["job_id"], lambda job: None, interval=0.2, timeout=120)
    assert done["status"] == "completed", done
    assert done["segments"] == {"total": 5, "queued": 0, "running": 0, "done": 5}
    assert done["compute"] == mode(segmenting_stack)
    results = api.results(done)
    assert [f["frame_index"] for f in results["frames"]] == list(range(300))
    assert len(results["segments"]) == 5
    assert all(segment["attempts"] == 1 for segment in results["segments"])
    assert {obj["track_id"] for f in results["frames"] for obj in f["detections"]["tracked_objects"]} == {1}
