"""Where a valid job runs: the routing policy and the launchers that start it.

``auto`` sends long videos and tools whose manifest asks for a GPU to AWS Batch, everything else
to the runner Lambda through the work queue (bounded concurrency, a DLQ, nothing lost).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from forgesyte_core.compute.segments import SegmentPolicy
from forgesyte_core.errors import ForgeSyteError, InvalidMedia
from forgesyte_core.jobs.model import Backend, Job, JobType, Segment
from forgesyte_core.media.samples import SampleTable
from forgesyte_core.media.source import ReadError
from forgesyte_core.plugins.catalog import PluginCatalog, tool_needs_gpu

log = logging.getLogger(__name__)

LAMBDA = Backend.LAMBDA
BATCH = Backend.BATCH


class TooLongForLambda(ForgeSyteError):
    code = "too_long_for_lambda"


@dataclass(frozen=True)
class RoutingPolicy:
    mode: str  # auto | lambda | batch
    batch_min_video_seconds: float
    batch_available: bool
    # The longest video sent to the runner Lambda (it stops at 900 s whatever the plugin's speed).
    lambda_max_video_seconds: float = 600.0

    def route(self, job: Job, tool: dict[str, Any], seconds: float | None = None) -> tuple[str, str]:
        """The backend for ``job`` and why; TooLongForLambda when only Lambda could take a long video.

        ``seconds``: the video one run sees, when that is a segment rather than the whole video.
        """
        duration = job.media_seconds if seconds is None else seconds
        backend, why = self._choose(job, tool, duration)
        if backend == LAMBDA and job.job_type == JobType.VIDEO and duration > self.lambda_max_video_seconds:
            raise TooLongForLambda(
                f"the video is {duration:.0f} s; the runner Lambda takes videos up to "
                f"{self.lambda_max_video_seconds:.0f} s (LAMBDA_MAX_VIDEO_SECONDS, under its 900 s limit) and "
                f"{why}: deploy with AWS Batch (BatchSubnetIds) or send a shorter clip"
            )
        return backend, why

    def _choose(self, job: Job, tool: dict[str, Any], duration: float) -> tuple[str, str]:
        if self.mode in (LAMBDA, BATCH):
            if self.mode == BATCH and not self.batch_available:
                return LAMBDA, "DISPATCH_MODE=batch but no Batch queue is configured"
            return self.mode, f"DISPATCH_MODE={self.mode}"
        wants_batch = ""
        if tool_needs_gpu(tool):
            wants_batch = "tool asks for a GPU"
        elif job.job_type == JobType.VIDEO and duration >= self.batch_min_video_seconds:
            wants_batch = f"video of {duration:.0f} s ≥ {self.batch_min_video_seconds:.0f} s"
        if not wants_batch:
            return LAMBDA, "short job, CPU tool"
        if not self.batch_available:
            return LAMBDA, f"{wants_batch}, but Batch is not configured"
        return BATCH, wants_batch


class Dispatcher:
    """Route a queued job and start it: ingest on arrival, reconcile when it retries a dead run."""

    def __init__(
        self,
        catalog: PluginCatalog,
        policy: RoutingPolicy,
        launchers: dict[str, Launcher],
        segmenting: SegmentPolicy | None = None,
    ) -> None:
        self.catalog, self.policy, self.launchers = catalog, policy, launchers
        self.segmenting = segmenting

    def segments_for(self, job: Job, sample_table: Callable[[], SampleTable]) -> list[Segment] | None:
        """The cuts for a validated video job, or None when it runs whole (short, or a tool that says
        nothing about segments, or a file without sample tables to cut by)."""
        try:
            tool = self.catalog.tool(job.plugin_id, job.tool)
        except ForgeSyteError:  # gone from the catalog: launch() fails the job with the reason
            return None
        if self.segmenting is None or (job.options or {}).get("render") is True or not self.segmenting.wants(job, tool):
            return None
        media = job.media
        if media is None or not media.frames or not media.fps:
            return None
        try:
            table = sample_table()
        except (InvalidMedia, ReadError) as exc:
            log.info("job %s runs whole: %s", job.job_id, exc)
            return None
        segments = self.segmenting.plan(table.keyframes, min(media.frames, table.frames), media.fps, tool)
        return segments if len(segments) > 1 else None

    def launch(self, job: Job) -> tuple[str, str]:
        """(backend, run id). Raises what routing or the launch raised; the caller fails the job.

        A segmented job starts every segment at once: one work message each, or one Batch array job."""
        # The catalog can change between submit and launch (a deploy): that fails the job, not the event.
        tool = self.catalog.tool(job.plugin_id, job.tool)
        if job.segments:
            fps = float(job.media.fps or 30.0) if job.media else 30.0
            longest = max(s.end_frame - s.decode_from for s in job.segments) / fps
            backend, why = self.policy.route(job, tool, longest)
            log.info("dispatching job %s as %d segments to %s (%s)", job.job_id, len(job.segments), backend, why)
            return backend, self.launchers[backend].launch_segments(job, [s.index for s in job.segments])
        backend, why = self.policy.route(job, tool)
        log.info("dispatching job %s to %s (%s)", job.job_id, backend, why)
        return backend, self.launchers[backend].launch(job)

    def launch_segment(self, job: Job, index: int) -> str:
        """Start one segment again (its retry) where the job's segments run."""
        tool = self.catalog.tool(job.plugin_id, job.tool)
        backend = job.compute if job.compute in self.launchers else self.policy.route(job, tool, 0.0)[0]
        return self.launchers[str(backend)].launch_segments(job, [index])

    def launch_merge(self, job: Job) -> str:
        """Merge a job whose segments are all done, again (the sweep, when the first merge died)."""
        tool = self.catalog.tool(job.plugin_id, job.tool)
        backend = job.compute if job.compute in self.launchers else self.policy.route(job, tool, 0.0)[0]
        return self.launchers[str(backend)].launch_merge(job)


class Launcher(Protocol):
    def launch(self, job: Job) -> str:
        """Start ``job`` on this backend; return the backend's run id."""
        ...

    def launch_segments(self, job: Job, indices: list[int]) -> str:
        """Start these segments of ``job``; return the backend's run id (of the first, or the array)."""
        ...

    def launch_merge(self, job: Job) -> str:
        """Start the merge of a segmented job whose segments are all done."""
        ...


SEGMENT_VARIABLE = "FORGESYTE_SEGMENT"  # a Batch job (or array child) running a segment: which one
ARRAY_VARIABLE = "FORGESYTE_SEGMENT_ARRAY"  # "1": the child's AWS_BATCH_JOB_ARRAY_INDEX is its segment
MERGE_VARIABLE = "FORGESYTE_MERGE"  # "1": merge the job's done segments


class WorkQueueLauncher:
    """Runner Lambda: one message on the work queue, consumed with bounded concurrency."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url

    def launch(self, job: Job) -> str:
        response = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"job_id": job.job_id}))
        return str(response["MessageId"])

    def launch_segments(self, job: Job, indices: list[int]) -> str:
        first = ""
        for start in range(0, len(indices), 10):  # SendMessageBatch takes 10 at a time
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"job_id": job.job_id, "segment": i})}
                for i in indices[start : start + 10]
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            if response.get("Failed"):
                failed = ", ".join(f"{f['Id']}: {f.get('Message', f.get('Code'))}" for f in response["Failed"])
                raise RuntimeError(f"the work queue refused segment messages ({failed})")
            first = first or str(response["Successful"][0]["MessageId"])
        return first

    def launch_merge(self, job: Job) -> str:
        body = json.dumps({"job_id": job.job_id, "merge": True})
        return str(self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)["MessageId"])


class BatchLauncher:
    """AWS Batch: the job definition runs ``python -m forgesyte_core.batch Ref::job_id``."""

    def __init__(self, batch: Any, job_queue: str, job_definition: str) -> None:
        self._batch, self._queue, self._definition = batch, job_queue, job_definition

    def launch(self, job: Job) -> str:
        response = self._batch.submit_job(
            jobName=batch_job_name(job.job_id),
            jobQueue=self._queue,
            jobDefinition=self._definition,
            parameters={"job_id": job.job_id},
            tags={"forgesyte:job_id": job.job_id},
            propagateTags=True,
        )
        return str(response["jobId"])

    def launch_segments(self, job: Job, indices: list[int]) -> str:
        """All segments as one array job (child i runs segment i); a single segment as a job of its own."""
        if len(indices) > 1 and indices == list(range(len(indices))):
            return self._submit(job, "", {ARRAY_VARIABLE: "1"}, arrayProperties={"size": len(indices)})
        return self._submit(job, f"-s{indices[0]}", {SEGMENT_VARIABLE: str(indices[0])})

    def launch_merge(self, job: Job) -> str:
        return self._submit(job, "-merge", {MERGE_VARIABLE: "1"})

    def _submit(self, job: Job, suffix: str, environment: dict[str, str], **extra: Any) -> str:
        response = self._batch.submit_job(
            jobName=batch_job_name(job.job_id) + suffix,
            jobQueue=self._queue,
            jobDefinition=self._definition,
            parameters={"job_id": job.job_id},
            containerOverrides={"environment": [{"name": k, "value": v} for k, v in environment.items()]},
            tags={"forgesyte:job_id": job.job_id},
            propagateTags=True,
            **extra,
        )
        return str(response["jobId"])


class ProcessLauncher:
    """Runs ``command + [job_id]`` as a detached process: the local stack's stand-in for AWS Batch."""

    def __init__(self, command: list[str]) -> None:
        self._command = command

    def launch(self, job: Job) -> str:
        import subprocess

        process = subprocess.Popen([*self._command, job.job_id])
        return f"local-{process.pid}"

    def launch_segments(self, job: Job, indices: list[int]) -> str:
        """One process per segment, as Batch runs one container per array child."""
        import os
        import subprocess

        pids = []
        for index in indices:
            env = {**os.environ, SEGMENT_VARIABLE: str(index)}
            pids.append(subprocess.Popen([*self._command, job.job_id], env=env).pid)
        return f"local-{pids[0]}"

    def launch_merge(self, job: Job) -> str:
        import os
        import subprocess

        process = subprocess.Popen([*self._command, job.job_id], env={**os.environ, MERGE_VARIABLE: "1"})
        return f"local-{process.pid}"


def batch_job_name(job_id: str) -> str:
    return f"forgesyte-{job_id}"


def job_id_from_batch_name(name: str) -> str | None:
    prefix = "forgesyte-"
    return name[len(prefix) :] if name.startswith(prefix) else None
