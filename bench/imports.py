"""Cold-start proxy: import time of each zip function's handler against ``import boto3, pynamodb.models``."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9
# Each handler module plus the layer modules its first request imports through wiring (lazily),
# so deferring an import cannot hide its cost from this benchmark.
HANDLERS = {
    "api": "api_app, forgesyte_core.admission, forgesyte_core.jobs.store, forgesyte_core.views, forgesyte_core.storage",
    "ingest": "ingest_app, forgesyte_core.ingest, forgesyte_core.jobs.store, forgesyte_core.dispatch,"
    " forgesyte_core.storage",
    "reconcile": "reconcile_app, forgesyte_core.reconcile, forgesyte_core.jobs.store",
}
BASELINE = "boto3, pynamodb.models"

PROBE = """
import sys, time
started = time.perf_counter()
import {modules}
elapsed = time.perf_counter() - started
heavy = [m for m in ("numpy", "cv2") if m in sys.modules]
print(elapsed, ",".join(heavy))
"""


def time_import(modules: str, path: list[str]) -> tuple[float, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": ":".join(path),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    samples, heavy = [], []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(modules=modules)], capture_output=True, text=True, env=env, check=True
        ).stdout.split()
        samples.append(float(out[0]))
        heavy = out[1].split(",") if len(out) > 1 else []
    return statistics.median(samples), heavy


def run() -> dict[str, Any]:
    baseline, _ = time_import(BASELINE, [])
    handlers = {}
    for name, module in HANDLERS.items():
        seconds, heavy = time_import(module, [str(ROOT / "functions" / name)])
        handlers[name] = {
            "modules": module,
            "median_ms": round(seconds * 1000, 1),
            "ratio": round(seconds / baseline, 3),
            "heavy_modules": heavy,
        }
    return {
        "what": f"median of {RUNS} fresh interpreters: each handler module plus the layer modules its"
        f" first request imports; baseline = import {BASELINE}",
        "baseline_ms": round(baseline * 1000, 1),
        "handlers": handlers,
        "target": "ratio <= 1.5 and no numpy/cv2",
        "target_met": all(h["ratio"] <= 1.5 and not h["heavy_modules"] for h in handlers.values()),
    }
