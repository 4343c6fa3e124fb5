"""Reconcile function: Batch job failures, work-queue dead letters and the stuck-job schedule."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core import wiring
from forgesyte_core.observability import logger, metrics

if TYPE_CHECKING:
    from forgesyte_core.jobs.reconcile import Reconciler


def _dead_letter(reconciler: Reconciler, body: str) -> int:
    from forgesyte_core.intake.ingest import parse_s3_notification  # only dead letters need it: cold start

    try:
        payload = json.loads(body)
        if isinstance(payload, dict) and "job_id" in payload:
            segment = payload.get("segment")
            return int(reconciler.dead_letter(str(payload["job_id"]), int(segment) if segment is not None else None))
        arrivals = parse_s3_notification(payload)
    except (ValueError, AttributeError, TypeError):
        arrivals = []
    if not arrivals:
        logger.warning("dead letter names no job", extra={"body": body[:200]})
    return sum(reconciler.arrival_dead_letter(arrival.key, arrival.version) for arrival in arrivals)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reconciler = wiring.reconciler()
    if "Records" in event:  # the dead-letter queues: work messages ({"job_id"}) and S3 upload notifications
        failed = 0
        for record in event["Records"]:
            failed += _dead_letter(reconciler, str(record.get("body", "")))
        return {"dead_letters": len(event["Records"]), "failed": failed}
    if event.get("detail-type") == "Batch Job State Change":
        return {"failed": int(reconciler.batch_state_change(event.get("detail", {})))}
    report = reconciler.sweep()
    return {"swept": report.failed, "failed": report.total(), "retried": report.retried, "errors": report.errors}
