"""Cold-start proxy: import time of each zip function's handler against ``import boto3, pynamodb.models``."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
# Each handler module plus the layer modules its first request imports through wiring (lazily),
# so deferring an import cannot hide its cost from this benchmark.
HANDLERS = {
    "api": "api_app, forgesyte_core.intake.admission, forgesyte_core.jobs.store, forgesyte_core.jobs.views,"
    " forgesyte_core.storage",
    "ingest": "ingest_app, forgesyte_core.intake.ingest, forgesyte_core.jobs.store, forgesyte_core.compute.dispatch,"
    " forgesyte_core.storage",
    "reconcile": "reconcile_app, forgesyte_core.jobs.reconcile, forgesyte_core.jobs.store",
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
    """One fresh interpreter: seconds to import ``modules``, and which heavy modules came along."""
    env = {**os.environ, "PYTHONPATH": ":".join(path), "AWS_DEFAULT_REGION": "us-east-1"}
    code = PROBE.format(modules=modules)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    return float(out[0]), out[1].split(",") if len(out) > 1 else []


def run() -> dict[str, Any]:
    # Round-robin: every round times the baseline and each handler back to back, so a noisy
    # neighbour slows them alike instead of skewing one side of the ratio.
    targets = {"baseline": (BASELINE, [])} | {
        name: (modules, [str(ROOT / "functions" / name)]) for name, modules in HANDLERS.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in targets}
    heavy: dict[str, list[str]] = {}
    for _ in range(RUNS):
        for name, (modules, path) in targets.items():
            seconds, heavy[name] = time_import(modules, path)
            samples[name].append(seconds)
    baseline = statistics.median(samples.pop("baseline"))
    handlers = {
        name: {
            "modules": HANDLERS[name],
            "median_ms": round(statistics.median(values) * 1000, 1),
            "ratio": round(statistics.median(values) / baseline, 3),
            "heavy_modules": heavy[name],
        }
        for name, values in samples.items()
    }
    return {
        "what": f"median of {RUNS} rounds of fresh interpreters: each handler module plus the layer modules its"
        f" first request imports; baseline = import {BASELINE}",
        "baseline_ms": round(baseline * 1000, 1),
        "handlers": handlers,
        "target": "ratio <= 1.5 and no numpy/cv2",
        "target_met": all(h["ratio"] <= 1.5 and not h["heavy_modules"] for h in handlers.values()),
    }
