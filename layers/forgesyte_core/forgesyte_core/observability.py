"""One Logger, Tracer and Metrics per process, shared by every function.

The job id is the correlation id: :func:`bind_job` adds it to every log line that follows.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "forgesyte"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="ForgeSyte", service=SERVICE)


def bind_job(job_id: str) -> None:
    logger.append_keys(job_id=job_id)
    logger.set_correlation_id(job_id)


def unbind_job() -> None:
    logger.remove_keys(["job_id"])
    logger.set_correlation_id(None)
