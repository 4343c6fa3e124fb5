"""Runner peak memory for a 10-minute video against a 1-minute one: results stream, memory stays flat.

The real runner (wiring.runner().run) runs in a child process against a moto server in another
process, so neither moto's in-memory objects nor this script's count towards the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

from forgesyte_core.jobs.model import JobStatus
from forgesyte_core.jobs.store import JobStore
from forgesyte_core.media import Limits, probe_media
from forgesyte_core.storage import S3Source, input_key
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.template import provision

# Peak RSS from VmHWM: ru_maxrss survives execve, so a child would report its parent's peak.
CHILD = """
import json, sys, time
from forgesyte_core import wiring
started = time.perf_counter()
job = wiring.runner().run(sys.argv[1], "local")
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": str(job.status), "error": job.error_message, "summary": job.summary,
                  "seconds": round(time.perf_counter() - started, 2), "peak_rss_mb": round(hwm_kb / 1024, 1)}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not start on port {port}")


def run_job(store: JobStore, s3: Any, bucket: str, video: Path, env: dict[str, str]) -> dict[str, Any]:
    job = store.create(
        plugin_id="motion-tracker",
        tool="video_track",
        job_type="video",
        content_type="video/mp4",
        declared_bytes=video.stat().st_size,
        options={},
        upload_expiry_s=900,
        ttl_days=1,
        input_key_for=input_key,
    )
    s3.upload_file(str(video), bucket, job.input_key)
    info, _ = probe_media(S3Source(s3, bucket, job.input_key, video.stat().st_size), Limits(2**34, 7200, 10**8, 10**8))
    store.transition(job.job_id, JobStatus.QUEUED, media=info.to_dict())
    out = subprocess.run(
        [sys.executable, "-c", CHILD, job.job_id], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"the runner child failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["video_frames"] = info.frames
    return result


def run() -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = dict(os.environ)
    try:
        wait_for(port)
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto takes any credentials
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
        )
        s3, sqs, dynamodb = (boto3.client(name) for name in ("s3", "sqs", "dynamodb"))
        stack = provision(s3, dynamodb, sqs, prefix="bench")
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, **stack.environment(), "WORK_DIR": tmp, "PROGRESS_INTERVAL_S": "2"}
            store = JobStore(env["JOBS_TABLE"], "us-east-1")
            runs = {}
            for minutes in (1, 10):
                video = Path(tmp) / f"scene-{minutes}min.mp4"
                crossing_scene(320, 180, seconds=60 * minutes, fps=10).write(video)
                runs[f"{minutes}_min"] = run_job(store, s3, env["MEDIA_BUCKET"], video, env)
                video.unlink()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.terminate()
        server.wait(timeout=10)
    ratio = runs["10_min"]["peak_rss_mb"] / runs["1_min"]["peak_rss_mb"]
    return {
        "what": "motion-tracker job through the real runner (S3 download, plugin, streamed results upload, job"
        " updates) in a child process; 320x180 at 10 fps; peak RSS of the child",
        **runs,
        "ratio_10_over_1": round(ratio, 3),
        "target": "ratio <= 1.2",
        "target_met": ratio <= 1.2 and all(r["status"] == "completed" for r in runs.values()),
    }
