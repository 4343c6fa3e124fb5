"""A 60-minute video on AWS, predicted from what bench/segments.py measured here, and the price of a
video-minute on each path. Nothing here calls AWS: the limits and prices are written down with their
source and date, and every figure says which measured number it comes from.
"""

from __future__ import annotations

import heapq
from typing import Any

VIDEO_SECONDS, FPS = 3600.0, 30.0
SEGMENT_COUNTS = (10, 60, 600)
LEAD_FRAMES = {"motion-tracker": 30 + 30 + 16, "yolo-onnx": 30 + 16}  # overlap + pre-roll + seek back-off

# AWS's documented limits (Lambda developer guide, "Configuring scaling behavior for SQS event source
# mappings" and "Lambda quotas", read 2026-12): an SQS event source starts 5 concurrent invocations
# and adds up to 300 a minute, up to its MaximumConcurrency (2-1,000); an account has 1,000 concurrent
# executions by default; one invocation runs at most 900 s; a Batch array job has up to 10,000 children.
SQS_START, SQS_RAMP_PER_S, ACCOUNT_CONCURRENCY, LAMBDA_LIMIT_S = 5, 300 / 60, 1000, 900
# Assumed, not measured here: a container-image Lambda's cold start beyond the plugin's own init
# (image pull from cache, runtime start), and the time S3 takes to hand a segment its bytes.
IMAGE_COLD_START_S, FETCH_S = 1.5, 0.5

# Public on-demand prices, us-east-1 (Lambda: aws.amazon.com/lambda/pricing, x86, first tier; EC2:
# the on-demand price list as published in June 2026). Spot prices move by the hour: the Spot
# figures assume a 60 % discount, a typical one, not a quote. Rekognition Video: its price page.
PRICES = {
    "date": "2026-06 (EC2 on-demand), 2026-12 (Lambda), as published for us-east-1",
    "lambda_gb_s": 0.0000166667,
    "lambda_request": 0.20 / 1_000_000,
    "c7i_large_hour": 0.08925,  # 2 vCPU, Batch CPU
    "g5_xlarge_hour": 1.006,  # 1 A10G GPU, Batch GPU
    "spot_discount": 0.60,
    "rekognition_video_minute": 0.10,
}
LAMBDA_MB = 1769  # the memory at which Lambda gives one full vCPU: what one worker process here measures
# yolo-onnx on a GPU: not measured in this session (no device lent); issue 16 reports 117 fps on an H200.
GPU_YOLO_FPS = 117.0


def simulate(segments: int, fps_one_core: float, init_s: float, lead: int, concurrency: int) -> dict[str, Any]:
    """Event-driven: each segment waits for a free concurrency slot (the event source's ramp and cap),
    then takes a cold start, its fetch and its frames at the measured one-core speed."""
    frames = VIDEO_SECONDS * FPS
    work = (frames / segments + (lead if segments > 1 else 0)) / fps_one_core
    duration = IMAGE_COLD_START_S + init_s + FETCH_S + work
    running: list[float] = []  # finish times of invocations in flight
    finish = 0.0
    clock = 0.0
    for _ in range(segments):
        while True:
            slots = min(concurrency, ACCOUNT_CONCURRENCY, SQS_START + int(SQS_RAMP_PER_S * clock))
            while running and running[0] <= clock:
                heapq.heappop(running)
            if len(running) < slots:
                break
            clock = min(running[0], clock + 1.0)  # a slot frees, or the ramp adds one
        heapq.heappush(running, clock + duration)
        finish = max(finish, clock + duration)
    return {
        "segments": segments,
        "concurrency": concurrency,
        "segment_s": round(duration, 1),
        "fits_lambda": duration <= LAMBDA_LIMIT_S,
        "wall_s": round(finish, 1),
    }


def cost_per_minute(plugin: str, measured: dict[str, Any]) -> dict[str, Any]:
    frames = 60 * FPS
    one_core = measured["segment_fps_one_core"]
    two_workers = measured["frames"] / measured["segmented"][1]["wall_s"]
    # Billed: each 60 s segment's frames and lead-in, and (cold every time, the worst case) its init.
    lambda_s = (frames + LEAD_FRAMES[plugin]) / one_core + measured["cold_start_s"] + IMAGE_COLD_START_S
    lambda_cost = lambda_s * LAMBDA_MB / 1024 * PRICES["lambda_gb_s"] + PRICES["lambda_request"]
    batch_cpu = frames / two_workers * PRICES["c7i_large_hour"] / 3600
    paths: dict[str, Any] = {
        f"lambda_{LAMBDA_MB}mb": round(lambda_cost, 6),
        "batch_cpu_c7i_large_on_demand": round(batch_cpu, 6),
        "batch_cpu_c7i_large_spot": round(batch_cpu * (1 - PRICES["spot_discount"]), 6),
    }
    if plugin == "yolo-onnx":
        gpu = frames / GPU_YOLO_FPS * PRICES["g5_xlarge_hour"] / 3600
        paths["batch_gpu_g5_xlarge_on_demand"] = round(gpu, 6)
        paths["batch_gpu_g5_xlarge_spot"] = round(gpu * (1 - PRICES["spot_discount"]), 6)
    paths["rekognition_video"] = PRICES["rekognition_video_minute"]
    return paths


def run(measured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    predictions: dict[str, Any] = {}
    costs: dict[str, Any] = {}
    for plugin, figures in measured.items():
        rows = []
        for segments in SEGMENT_COUNTS:
            for concurrency in sorted({10, segments}):
                rows.append(
                    simulate(
                        segments,
                        figures["segment_fps_one_core"],
                        figures["cold_start_s"],
                        LEAD_FRAMES[plugin],
                        concurrency,
                    )
                )
        predictions[plugin] = rows
        costs[plugin] = cost_per_minute(plugin, figures)
    at_60 = {
        p: next(r for r in rows if r["segments"] == 60 and r["concurrency"] == 60) for p, rows in predictions.items()
    }
    goals = {"motion-tracker": 60.0, "yolo-onnx": 180.0}
    cost_goals = {"motion-tracker": 0.001, "yolo-onnx": 0.01}
    met = all(at_60[p]["wall_s"] <= goals[p] for p in at_60) and all(
        costs[p][f"lambda_{LAMBDA_MB}mb"] <= cost_goals[p] for p in costs
    )
    return {
        "sixty_minute_video": {
            "what": "predicted wall time on the runner Lambda, from the measured one-core speed and plugin init, the"
            " assumed image cold start and fetch, and the SQS event source's documented ramp; concurrency is the"
            " event source's MaximumConcurrency (the template's WorkMaxConcurrency)",
            "assumed": {"image_cold_start_s": IMAGE_COLD_START_S, "fetch_s": FETCH_S},
            "limits": {
                "sqs_start": SQS_START,
                "sqs_ramp_per_minute": 300,
                "account_concurrency": ACCOUNT_CONCURRENCY,
                "lambda_limit_s": LAMBDA_LIMIT_S,
            },
            "predictions": predictions,
            "goal": "at 60 segments on Lambda: motion-tracker <= 60 s, yolo-onnx <= 180 s",
        },
        "cost_per_video_minute": {
            "what": "USD per minute of 30 fps video, from the measured throughput here (one worker = one Lambda vCPU;"
            " two workers = a 2-vCPU instance); GPU from issue 16's H200 figure, not measured here",
            "prices": PRICES,
            "paths": costs,
            "goal": "yolo-onnx <= $0.01, motion-tracker <= $0.001 (Lambda)",
        },
        "target_met": met,
    }
