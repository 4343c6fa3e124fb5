"""The local stack: start-up to the first healthy response, and what the pipeline adds to a job.

Overhead = (submit → completed, as a client polling every 50 ms sees it) − the plugin's own run
time recorded by the runner (``summary.run_seconds``: plugin plus streaming its results out).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from forgesyte_dev.client import ApiClient
from forgesyte_dev.local.stack import LocalStack, StackConfig
from forgesyte_dev.synthetic import crossing_scene

RUNS = 3


def config(base: Path) -> StackConfig:
    return StackConfig(
        state_dir=base / "state",
        env_json=None,
        runner_workers=1,
        sweep_interval_s=3600,
        prefix="bench",
        extra_env={"POWERTOOLS_LOG_LEVEL": "ERROR"},
    )


def startup(base: Path) -> float:
    began = time.perf_counter()
    stack = LocalStack(config(base)).start()
    try:
        while requests.get(f"{stack.info['api_url']}/v1/health", timeout=2).status_code != 200:
            time.sleep(0.01)
        return time.perf_counter() - began
    finally:
        stack.stop()


def job_overhead(api: ApiClient, video: Path) -> dict[str, float]:
    began = time.perf_counter()
    created = api.submit(video, "motion-tracker", "video_track", {})
    api.upload(created, video, lambda done, total: None)
    job = api.wait(created["job_id"], lambda job: None, interval=0.05)
    total = time.perf_counter() - began
    assert job["status"] == "completed", job
    plugin = float(job["summary"]["run_seconds"])
    return {"total_s": round(total, 3), "plugin_s": round(plugin, 3), "overhead_s": round(total - plugin, 3)}


def run() -> dict[str, Any]:
    from forgesyte_core.observability import logger

    logger.setLevel("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        starts = [startup(base / f"start{i}") for i in range(RUNS)]
        video = base / "scene.mp4"
        crossing_scene(640, 360, seconds=10).write(video)
        stack = LocalStack(config(base / "jobs")).start()
        try:
            for pool in stack.pools.values():
                pool.warm()
            api = ApiClient(stack.info["api_url"], stack.info["api_key"])
            jobs = [job_overhead(api, video) for _ in range(RUNS)]
        finally:
            stack.stop()
    startup_s = statistics.median(starts)
    overhead_s = statistics.median(j["overhead_s"] for j in jobs)
    return {
        "startup_to_first_healthy_s": round(startup_s, 3),
        "startup_runs_s": [round(s, 3) for s in starts],
        "job": {
            "what": "motion-tracker, 10 s 640x360 mp4v, warm workers, median of runs",
            "runs": jobs,
            "median_overhead_s": round(overhead_s, 3),
        },
        "target": "start-up < 3 s; overhead < 1.5 s",
        "target_met": startup_s < 3 and overhead_s < 1.5,
    }
