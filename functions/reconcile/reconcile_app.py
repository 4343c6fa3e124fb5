"""Reconcile function: Batch job failures, work-queue dead letters and the stuck-job schedule."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core import wiring
from forgesyte_core.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reconciler = wiring.reconciler()
    if "Records" in event:  # the work queue's DLQ
        failed = 0
        for record in event["Records"]:
            try:
                job_id = str(json.loads(record["body"])["job_id"])
            except (ValueError, KeyError, TypeError):
                logger.warning("dead letter without a job id", extra={"body": str(record.get("body"))[:200]})
                continue
            failed += reconciler.dead_letter(job_id)
        return {"dead_letters": len(event["Records"]), "failed": failed}
    if event.get("detail-type") == "Batch Job State Change":
        return {"failed": int(reconciler.batch_state_change(event.get("detail", {})))}
    report = reconciler.sweep()
    return {"swept": report.failed, "failed": report.total(), "errors": report.errors}
