"""Ingest function: S3 ObjectCreated notifications arrive through SQS, a batch at a time.

A record whose processing raises is reported as a partial failure and retried (then the DLQ);
test events, foreign keys and duplicates are dropped by the layer with a log line.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core import wiring
from forgesyte_core.intake.ingest import parse_s3_notification
from forgesyte_core.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> list[str]:
    return [wiring.ingest().handle(created) for created in parse_s3_notification(record.body)]


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
