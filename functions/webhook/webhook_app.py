"""Webhook function: an EventBridge rule on the job event bus invokes it for every job that ended
with a callback_url; it POSTs the job's event, signed. A failure raises, so EventBridge retries it
with backoff and finally dead-letters it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core import wiring
from forgesyte_core.observability import logger


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event["detail"]
    status = wiring.webhooks().deliver(detail)
    logger.info("webhook delivered", extra={"job_id": detail.get("job_id"), "http_status": status})
    return {"job_id": detail.get("job_id"), "http_status": status}
