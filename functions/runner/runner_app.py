"""Runner Lambda (container image): one job per work-queue message.

The same image's Batch entrypoint is ``python -m forgesyte_core.runner JOB_ID``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core.observability import get_tracer, logger, metrics
from forgesyte_core.runner import JobRunner, build_runner

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def runner() -> JobRunner:
    # Plugins stay loaded for the life of the warm container.
    return build_runner()


def record_handler(record: SQSRecord) -> str:
    job_id = json.loads(record.body)["job_id"]
    job = runner().run(job_id, "lambda", record.message_id)
    return str(job.status) if job else "skipped"


@logger.inject_lambda_context
@get_tracer().capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
