"""Where a valid job runs: the routing policy and the launchers that start it.

``auto`` sends long videos and tools whose manifest asks for a GPU to AWS Batch, everything else
to the runner Lambda through the work queue (bounded concurrency, a DLQ, nothing lost).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from forgesyte_core.errors import ForgeSyteError
from forgesyte_core.jobs.model import Backend, Job, JobType
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

    def route(self, job: Job, tool: dict[str, Any]) -> tuple[str, str]:
        """The backend for ``job`` and why; TooLongForLambda when only Lambda could take a long video."""
        backend, why = self._choose(job, tool)
        duration = job.media_seconds
        if backend == LAMBDA and job.job_type == JobType.VIDEO and duration > self.lambda_max_video_seconds:
            raise TooLongForLambda(
                f"the video is {duration:.0f} s; the runner Lambda takes videos up to "
                f"{self.lambda_max_video_seconds:.0f} s (LAMBDA_MAX_VIDEO_SECONDS, under its 900 s limit) and "
                f"{why}: deploy with AWS Batch (BatchSubnetIds) or send a shorter clip"
            )
        return backend, why

    def _choose(self, job: Job, tool: dict[str, Any]) -> tuple[str, str]:
        if self.mode in (LAMBDA, BATCH):
            if self.mode == BATCH and not self.batch_available:
                return LAMBDA, "DISPATCH_MODE=batch but no Batch queue is configured"
            return self.mode, f"DISPATCH_MODE={self.mode}"
        duration = job.media_seconds
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

    def __init__(self, catalog: PluginCatalog, policy: RoutingPolicy, launchers: dict[str, Launcher]) -> None:
        self.catalog, self.policy, self.launchers = catalog, policy, launchers

    def launch(self, job: Job) -> tuple[str, str]:
        """(backend, run id). Raises what routing or the launch raised; the caller fails the job."""
        # The catalog can change between submit and launch (a deploy): that fails the job, not the event.
        tool = self.catalog.tool(job.plugin_id, job.tool)
        backend, why = self.policy.route(job, tool)
        log.info("dispatching job %s to %s (%s)", job.job_id, backend, why)
        return backend, self.launchers[backend].launch(job)


class Launcher(Protocol):
    def launch(self, job: Job) -> str:
        """Start ``job`` on this backend; return the backend's run id."""
        ...


class WorkQueueLauncher:
    """Runner Lambda: one message on the work queue, consumed with bounded concurrency."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url

    def launch(self, job: Job) -> str:
        response = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"job_id": job.job_id}))
        return str(response["MessageId"])


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


class ProcessLauncher:
    """Runs ``command + [job_id]`` as a detached process: the local stack's stand-in for AWS Batch."""

    def __init__(self, command: list[str]) -> None:
        self._command = command

    def launch(self, job: Job) -> str:
        import subprocess

        process = subprocess.Popen([*self._command, job.job_id])
        return f"local-{process.pid}"


def batch_job_name(job_id: str) -> str:
    return f"forgesyte-{job_id}"


def job_id_from_batch_name(name: str) -> str | None:
    prefix = "forgesyte-"
    return name[len(prefix) :] if name.startswith(prefix) else None
