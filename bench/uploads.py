"""Browser uploads into the local stack (the page in Debian's chromium): a 1 GiB video by one
presigned POST against a multipart upload with 4 parts in flight, and submit → first progress event.

The stack's S3 is moto in this process's memory, so the MB/s say what the page and the protocol
cost on this machine, not what S3 over a network gives.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from forgesyte_dev.local.stack import LocalStack, StackConfig
from forgesyte_dev.mp4_tools import pad_mp4
from forgesyte_dev.synthetic import crossing_scene

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
GiB = 1024**3
RUNS = 3


def run() -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if chromium is None or not (WEB / "dist/index.html").is_file():
        return {"skipped": "needs Debian's chromium and web/dist (make install)"}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        clip = base / "clip.mp4"
        crossing_scene(320, 180, seconds=2).write(clip)
        video = pad_mp4(clip, base / "one-gib.mp4", GiB)
        config = StackConfig(
            state_dir=base / "state", env_json=None, web_root=WEB / "dist", runner_workers=1, prefix="bench-upload"
        )
        with LocalStack(config) as stack:
            env = {
                **os.environ,
                "BASE_URL": stack.info["api_url"],
                "FILE": str(video),
                "RUNS": str(RUNS),
                "CHROMIUM": chromium,
            }
            done = subprocess.run(
                ["node", "e2e/bench.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=3600, check=True
            )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    section: dict[str, Any] = {
        "what": f"1 GiB file, page in headless chromium, local stack (moto S3), median of {RUNS} interleaved"
    }
    for name, label in (("post", "single_post"), ("multipart", "multipart_4_in_flight")):
        upload_s = statistics.median(r["uploadMs"] for r in results[name]) / 1000
        section[label] = {
            "mb_per_s": round(GiB / 1e6 / upload_s, 1),
            "upload_s": round(upload_s, 2),
            "first_progress_ms": round(statistics.median(r["firstProgressMs"] for r in results[name]), 1),
            "runs_ms": [round(r["uploadMs"]) for r in results[name]],
        }
    section["multipart_over_post"] = round(
        section["multipart_4_in_flight"]["mb_per_s"] / section["single_post"]["mb_per_s"], 3
    )
    return section
