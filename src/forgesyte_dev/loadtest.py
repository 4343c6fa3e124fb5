"""A burst against a running local stack: many clients submit and upload at once, S3 events are
delivered twice, and every job is accounted for. ``make bench`` runs it big (bench/load.py);
``make test`` runs it small and checks only that nothing is lost or run twice.

Lost: a submitted job that does not complete, or that listing ``/v1/jobs`` does not return exactly
once. Run twice: a job whose event bus carried more than one ``running`` change, or that ended on
a second attempt. Stage times come from the job's own status changes (the bus's events):
upload = submit → upload done (the client's clock), validate = upload done → queued,
queue wait = queued → running, run = running → completed.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from forgesyte_dev.client import ApiClient


@dataclass
class Burst:
    jobs: int
    clients: int
    duplicate_events: int
    plugin_id: str = "motion-tracker"
    tool: str = "video_track"
    deadline_s: float = 900.0


@dataclass
class Submitted:
    job_id: str
    key: str
    began: float
    uploaded: float = 0.0


@dataclass
class Report:
    submitted: int
    completed: int
    lost: list[str] = field(default_factory=list)
    run_twice: list[str] = field(default_factory=list)
    listed_twice: list[str] = field(default_factory=list)
    duplicate_events_sent: int = 0
    took_s: float = 0.0
    stages_s: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def jobs_per_minute(self) -> float:
        return round(self.completed / self.took_s * 60, 1) if self.took_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "completed": self.completed,
            "lost": len(self.lost),
            "run_twice": len(self.run_twice),
            "listed_twice": len(self.listed_twice),
            "duplicate_events_sent": self.duplicate_events_sent,
            "took_s": round(self.took_s, 1),
            "jobs_per_minute": self.jobs_per_minute,
            "stages_s": self.stages_s,
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
    }


def _duplicate_event(bucket: str, key: str, head: dict[str, Any]) -> str:
    """An S3 notification for an object already written, as SQS's at-least-once delivery repeats one."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Post",
        "eventTime": head["LastModified"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "s3": {
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": head["ContentLength"], "eTag": head["ETag"].strip('"')},
        },
    }
    return json.dumps({"Records": [record]})


def _events_by_job(events_file: Path, stack_label: str) -> dict[str, list[dict[str, Any]]]:
    by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not events_file.is_file():
        return by_job
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        if event.get("stack") == stack_label:
            detail = event["detail"]
            by_job[detail["job_id"]].append(detail)
    return by_job


def _at(detail: dict[str, Any]) -> float:
    return datetime.fromisoformat(detail["updated_at"]).timestamp()


def run_burst(info: dict[str, Any], stack_label: str, events_file: Path, video: Path, burst: Burst) -> Report:
    """Drive the stack whose ``info`` (stack.json's fields) is given; wait until every job ended."""
    api = ApiClient(info["api_url"], info["api_key"])
    aws = {"endpoint_url": info["moto_url"], "region_name": info["region"]}
    s3: Any = boto3.client("s3", **aws)
    sqs: Any = boto3.client("sqs", **aws)
    submitted: list[Submitted] = []
    lock = threading.Lock()
    started = time.time()

    def one(_: int) -> None:
        began = time.time()
        created = api.submit(video, burst.plugin_id, burst.tool, {})
        api.upload(created, video, lambda done, total: None)
        with lock:
            submitted.append(Submitted(created["job_id"], created["upload"]["fields"]["key"], began, time.time()))

    with ThreadPoolExecutor(burst.clients) as clients:
        list(clients.map(one, range(burst.jobs)))

    duplicates = random.Random(7).sample(submitted, min(burst.duplicate_events, len(submitted)))
    for job in duplicates:
        head = s3.head_object(Bucket=info["bucket"], Key=job.key)
        sqs.send_message(
            QueueUrl=info["queues"]["UploadQueue"], MessageBody=_duplicate_event(info["bucket"], job.key, head)
        )

    ids = {job.job_id for job in submitted}
    deadline = time.monotonic() + burst.deadline_s
    ended: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        by_job = _events_by_job(events_file, stack_label)
        ended = {i: d for i in ids for d in by_job.get(i, []) if d["status"] in ("completed", "failed", "cancelled")}
        if len(ended) == len(ids):
            break
        time.sleep(0.5)
    took = max((_at(d) for d in ended.values()), default=time.time()) - started
    time.sleep(2)  # a duplicate still in flight would show as a second run now
    by_job = _events_by_job(events_file, stack_label)

    listed: Counter[str] = Counter()
    token: str | None = None
    while True:
        page = api.request("GET", "/v1/jobs", params={"limit": 100, **({"cursor": token} if token else {})})
        listed.update(job["job_id"] for job in page["jobs"])
        token = page.get("next_cursor")
        if not token:
            break

    report = Report(submitted=len(submitted), completed=0, duplicate_events_sent=len(duplicates), took_s=took)
    stages: dict[str, list[float]] = defaultdict(list)
    for job in submitted:
        changes = by_job.get(job.job_id, [])
        final = [c for c in changes if c["status"] in ("completed", "failed", "cancelled")]
        runs = [c for c in changes if c["status"] == "running"]
        if not final or final[-1]["status"] != "completed" or listed[job.job_id] != 1:
            report.lost.append(job.job_id)
        else:
            report.completed += 1
        if len(runs) > 1 or any(c.get("attempt", 1) > 1 for c in final):
            report.run_twice.append(job.job_id)
        if listed[job.job_id] > 1:
            report.listed_twice.append(job.job_id)
        queued = next((c for c in changes if c["status"] == "queued"), None)
        if final and queued and runs:
            stages["upload"].append(job.uploaded - job.began)
            stages["validate"].append(_at(queued) - job.uploaded)
            stages["queue_wait"].append(_at(runs[0]) - _at(queued))
            stages["run"].append(_at(final[-1]) - _at(runs[0]))
            stages["submit_to_completed"].append(_at(final[-1]) - job.began)
    report.stages_s = {name: _percentiles(values) for name, values in stages.items()}
    return report
