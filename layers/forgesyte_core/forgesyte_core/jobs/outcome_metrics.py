"""CloudWatch metrics of how jobs end, for the stack's alarms and dashboard (template.yaml).

Each ended job counts once under ``JobsEnded`` by ``Outcome``; a failed one also under
``JobsFailed`` by ``ErrorCode``; a completed one records its plugin run time by ``Plugin`` and
``Tool`` and its compute time by ``Compute`` (Lambda GB-seconds and Batch vCPU-hours follow from
it). Written as embedded metric format lines, which Lambda turns into metrics with no API call.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from forgesyte_core.jobs.model import Job, JobStatus

NAMESPACE = "ForgeSyte"
ENDED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def _count(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for dimension, dimension_value in dimensions.items():
            metric.add_dimension(name=dimension, value=dimension_value)


def record_outcome(job: Job) -> None:
    """Called on every status change; records only the change that ends a job."""
    # single_metric does not read powertools' switch itself (the local stack turns metrics off).
    if job.status not in ENDED or is_metrics_disabled():
        return
    _count("JobsEnded", 1, MetricUnit.Count, Outcome=str(job.status))
    if job.status == JobStatus.FAILED:
        _count("JobsFailed", 1, MetricUnit.Count, ErrorCode=job.error_code or "unknown")
    run_seconds = (job.summary or {}).get("run_seconds")
    if job.status == JobStatus.COMPLETED and isinstance(run_seconds, int | float):
        _count("RunSeconds", float(run_seconds), MetricUnit.Seconds, Plugin=job.plugin_id, Tool=job.tool)
        _count("ComputeSeconds", float(run_seconds), MetricUnit.Seconds, Compute=job.compute or "lambda")
