"""The local stack as a CloudFormation stack: its outputs under template.yaml's output names, and its
API key as an API Gateway key, both in the moto server.

Whatever reads a deployed stack's outputs (the deployed suite, a user's own scripts) then works against
the local stack unchanged, given ``AWS_ENDPOINT_URL`` and the stack's name.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from forgesyte_dev.project import state_dir

# template.yaml's output name → the local resource's logical id (physical name or URL).
RESOURCE_OUTPUTS = {
    "MediaBucketName": "MediaBucket",
    "JobsTableName": "JobsTable",
    "JobEventBusName": "JobEventBus",
    "UploadQueueUrl": "UploadQueue",
    "WorkQueueUrl": "WorkQueue",
}
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
API_KEY_LENGTH = (20, 128)  # what API Gateway accepts for a key's value


def api_key_problem(value: str) -> str | None:
    low, high = API_KEY_LENGTH
    if not low <= len(value) <= high:
        return f"an API key is {low} to {high} characters, as API Gateway requires (this one has {len(value)})"
    return None


def publish_outputs(
    session: Any, stack_name: str, api_url: str, api_key: str, physical: dict[str, str], parameters: dict[str, str]
) -> dict[str, str]:
    """Create (or replace) the stack ``stack_name`` whose outputs describe this local stack."""
    problem = api_key_problem(api_key)
    if problem:
        raise ValueError(problem)
    gateway = session.client("apigateway")
    # A restart on the same moto server, or another local stack in this process (moto's state is
    # per process): API Gateway keeps a key's value unique, and this stack's key is now this one.
    for old in gateway.get_api_keys(includeValues=True).get("items", []):
        if old["name"] == stack_name or old.get("value") == api_key:
            gateway.delete_api_key(apiKey=old["id"])
    key_id = gateway.create_api_key(name=stack_name, value=api_key, enabled=True)["id"]

    outputs = {"ApiUrl": api_url, "ApiKeyId": key_id, "DropPrefix": parameters["DropPrefix"]}
    outputs |= {output: physical[logical] for output, logical in RESOURCE_OUTPUTS.items()}
    template = {
        # A stack needs one resource; this one is inert and moto only warns that it does not model it.
        "Resources": {"LocalStack": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    cloudformation = session.client("cloudformation")
    live = [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    if any(s["StackName"] == stack_name for s in live):
        cloudformation.delete_stack(StackName=stack_name)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tried to parse AWS::CloudFormation::WaitConditionHandle")
        cloudformation.create_stack(StackName=stack_name, TemplateBody=json.dumps(template))
    return outputs


def environment_for_running_stack() -> dict[str, str]:
    """What points AWS tools at the local stack `forgesyte dev` is running for this project."""
    state_file = state_dir() / "stack.json"
    if not state_file.exists():
        raise SystemExit("no local stack is running: start one with `make dev` (or `forgesyte dev`) first")
    state = json.loads(state_file.read_text())
    return {
        "AWS_SAM_STACK_NAME": state["stack_name"],
        "AWS_ENDPOINT_URL": state["moto_url"],
        "AWS_DEFAULT_REGION": state["region"],
        **FAKE_CREDENTIALS,
    }


if __name__ == "__main__":  # `env $(python -m forgesyte_dev.local.outputs) pytest tests/deployed`
    sys.stdout.write(" ".join(f"{name}={value}" for name, value in environment_for_running_stack().items()) + "\n")
