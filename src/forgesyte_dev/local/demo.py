"""``forgesyte demo``: the main job, end to end, on an in-process stack.

A synthetic video with moving objects (or ``--video FILE``) goes through the full path — presigned
upload over HTTP, S3 event, ingest, dispatch, runner, results — and comes back as the results JSON,
an annotated MP4 with the tracked boxes and ids, and a PNG contact sheet, which the runner itself
draws (``options.render``), as it would for any job in the cloud.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

from forgesyte_dev.client import ApiClient
from forgesyte_dev.local.stack import LocalStack, StackConfig
from forgesyte_dev.progress import JobProgress, progress
from forgesyte_dev.synthetic import crossing_scene


def run_demo(
    video: Path | None,
    out_dir: Path,
    plugin: str = "motion-tracker",
    tool: str = "video_track",
    out: TextIO = sys.stdout,
) -> int:
    from forgesyte_core.observability import logger

    logger.setLevel("WARNING")  # the demo prints its own story; `forgesyte dev` shows the logs
    out_dir.mkdir(parents=True, exist_ok=True)
    config = StackConfig(
        state_dir=out_dir / "stack",
        env_json=None,
        runner_workers=1,
        sweep_interval_s=30,
        extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    with LocalStack(config) as stack:
        out.write(f"local stack up in {stack.started_s:.2f} s: API {stack.info['api_url']} (docs at /docs)\n")
        if video is None:
            video = out_dir / "synthetic.mp4"
            crossing_scene().write(video)
            out.write(f"made a 10 s 640x360 test video with 4 moving objects: {video}\n")
        client = ApiClient(stack.info["api_url"], stack.info["api_key"])
        began = time.perf_counter()
        created = client.submit(video, plugin, tool, {"render": True})
        client.upload(created, video, progress(f"upload {video.name}", stream=out))
        job = client.wait(created["job_id"], JobProgress(created["job_id"], out))
        elapsed = time.perf_counter() - began
        if job["status"] != "completed":
            out.write(f"the job ended {job['status']}: {job.get('error_message')}\n")
            return 1
        results = client.results(job)
        annotated, sheet = out_dir / "annotated.mp4", out_dir / "contact-sheet.png"
        for name, path in (("annotated_video", annotated), ("contact_sheet", sheet)):
            path.write_bytes(client.download(job["artifact_urls"][name]))
    results_path = out_dir / "results.json"
    results_path.write_text(json.dumps(results))
    summary = job["summary"]
    tracks = {o["track_id"] for f in results["frames"] for o in f["detections"]["tracked_objects"]}
    out.write(
        f"completed in {elapsed:.2f} s ({summary['run_seconds']:.2f} s in the plugin) on {job['compute']}: "
        f"{summary['frame_count']} frames, {summary['detection_count']} tracked boxes, {len(tracks)} tracks\n"
        f"results:        {results_path}\nannotated video: {annotated}\ncontact sheet:  {sheet}\n"
    )
    return 0
