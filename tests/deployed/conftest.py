"""The deployed suite runs against a real stack: `AWS_SAM_STACK_NAME=<stack> make test-deployed`.

Without AWS_SAM_STACK_NAME every test here is skipped, saying so (they are still collected, so
`make test` shows them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

STACK = os.environ.get("AWS_SAM_STACK_NAME", "")
SKIP_REASON = "no deployed stack: set AWS_SAM_STACK_NAME (and AWS credentials) to run the deployed suite"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if STACK:
        return
    for item in items:
        if "tests/deployed/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@dataclass
class Deployed:
    outputs: dict[str, str]
    api_key: str
    session: Any

    @property
    def api(self) -> str:
        return self.outputs["ApiUrl"]

    @property
    def bucket(self) -> str:
        return self.outputs["MediaBucketName"]


@pytest.fixture(scope="session")
def deployed() -> Deployed:
    import boto3

    session = boto3.session.Session()
    stack = session.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    key = session.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
    return Deployed(outputs, key, session)
