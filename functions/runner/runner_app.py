"""Runner Lambda (container image): one job per work-queue message.

The same image's Batch entrypoint is ``python -m forgesyte_core.batch JOB_ID``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core import wiring
from forgesyte_core.jobs.model import Backend
from forgesyte_core.observability import get_tracer, logger, metrics
from forgesyte_core.settings import get_settings

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    """``{"job_id"}`` runs a whole job; ``{"job_id", "segment": i}`` one segment of a segmented job;
    ``{"job_id", "merge": true}`` merges its segments again (the sweep sends it when a merge died)."""
    message = json.loads(record.body)
    stop_at = _stop_at(lambda_context)
    if message.get("merge"):
        job = wiring.segment_runner().merge_job(message["job_id"])
    elif message.get("segment") is not None:
        runner = wiring.segment_runner()
        job = runner.run(message["job_id"], int(message["segment"]), Backend.LAMBDA, record.message_id, stop_at)
    else:
        job = wiring.runner().run(message["job_id"], Backend.LAMBDA, record.message_id, stop_at=stop_at)
    return str(job.status) if job else "skipped"


def _stop_at(context: LambdaContext | None) -> float | None:
    """When to stop the plugin: the invocation's deadline less a margin, so the failure gets written."""
    if context is None:
        return None
    remaining = context.get_remaining_time_in_millis() / 1000
    return time.monotonic() + remaining - get_settings().lambda_deadline_margin_s


@logger.inject_lambda_context
@get_tracer().capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
