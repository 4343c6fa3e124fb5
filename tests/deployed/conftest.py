"""The deployed suite runs against a real stack: `AWS_SAM_STACK_NAME=<stack> make test-deployed`.

Without AWS_SAM_STACK_NAME every test here is skipped, saying so (they are still collected, so
`make test` shows them). The local stack publishes itself as a stack too, so the same suite runs
against it with ``AWS_ENDPOINT_URL`` set to its moto server (tests/e2e/test_deployed_suite.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from forgesyte_dev.client import ApiClient

STACK = os.environ.get("AWS_SAM_STACK_NAME", "")
SKIP_REASON = "no deployed stack: set AWS_SAM_STACK_NAME (and AWS credentials) to run the deployed suite"

Detail = dict[str, Any]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if STACK:
        return
    for item in items:
        if "tests/deployed/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(autouse=True)
def _environment() -> None:
    """Replaces the root fixture, which swaps in moto's fake credentials: this suite uses the caller's."""


@dataclass
class Deployed:
    outputs: dict[str, str]
    api_key: str
    session: Any
    created_jobs: list[str] = field(default_factory=list)

    @property
    def api(self) -> ApiClient:
        """The client the `forgesyte` command uses, pointed at the stack's API with its key."""
        return ApiClient(self.outputs["ApiUrl"], self.api_key, timeout=60)

    @property
    def bucket(self) -> str:
        return self.outputs["MediaBucketName"]


@pytest.fixture(scope="session")
def deployed() -> Iterator[Deployed]:
    import boto3

    session = boto3.session.Session()
    stack = session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    key = session.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
    stack_under_test = Deployed(outputs, key, session)
    yield stack_under_test
    _remove_jobs(stack_under_test)


def _remove_jobs(deployed: Deployed) -> None:
    """What the suite's jobs left: their uploads, results and records (TTL would take them later)."""
    s3, dynamodb = deployed.session.client("s3"), deployed.session.client("dynamodb")
    for job_id in deployed.created_jobs:
        for prefix in (f"uploads/{job_id}/", f"results/{job_id}"):
            listed = s3.list_objects_v2(Bucket=deployed.bucket, Prefix=prefix).get("Contents", [])
            for item in listed:
                s3.delete_object(Bucket=deployed.bucket, Key=item["Key"])
        dynamodb.delete_item(TableName=deployed.outputs["JobsTableName"], Key={"job_id": {"S": job_id}})


class JobEventLog:
    """Every job event a rule on the stack's bus delivers to a queue of this suite's own, kept in
    arrival order. Messages are deleted once read, so no event is seen twice or hidden from a
    later test by the queue's visibility timeout."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs, self.queue_url = sqs, queue_url
        self.details: list[Detail] = []

    def _drain(self) -> None:
        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        for message in received.get("Messages", []):
            self.details.append(json.loads(message["Body"])["detail"])
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def first(self, matches: Callable[[Detail], bool], timeout: float = 120) -> Detail:
        deadline = time.monotonic() + timeout
        while True:
            found = next((d for d in self.details if matches(d)), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching job event in {timeout} s; saw {len(self.details)}")
            self._drain()

    def statuses(self, job_id: str) -> list[str]:
        """The job's statuses in the order they happened (EventBridge does not promise delivery order)."""
        mine = sorted((d for d in self.details if d["job_id"] == job_id), key=lambda d: d["updated_at"])
        return [d["status"] for d in mine]


@pytest.fixture(scope="session")
def job_events(deployed: Deployed) -> Iterator[JobEventLog]:
    """A temporary rule on the job bus into a temporary queue: what a user's rule would receive."""
    sqs, events = deployed.session.client("sqs"), deployed.session.client("events")
    bus = deployed.outputs["JobEventBusName"]
    name = f"forgesyte-deployed-test-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = json.dumps({"source": ["forgesyte"], "detail-type": ["ForgeSyte Job Status Change"]})
    rule_arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern)["RuleArn"]
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ]
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    try:
        yield JobEventLog(sqs, url)
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)
