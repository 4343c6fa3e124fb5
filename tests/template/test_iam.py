"""Least privilege, checked on what CloudFormation receives: the roles SAM generates from template.yaml.

The template goes through the real SAM translator (.venv-sam, offline) with Batch on, and every
inline statement of every role is held to: no wildcard action or resource where a scoped one
exists, DynamoDB without Delete/Scan/Batch*, S3 only on the prefixes each function needs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.template.sam import resources

# Actions AWS offers no resource-level permission for: "*" is the only resource they take.
UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ecr:GetAuthorizationToken"}
# SAM's own policy templates use these prefixes (SendMessage and SendMessageBatch).
ALLOWED_ACTION_PREFIXES = {"sqs:SendMessage*"}
DYNAMODB = {
    "ApiFunctionRole": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"},
    "IngestFunctionRole": {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"},
    "RunnerFunctionRole": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
    "ReconcileFunctionRole": {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:PutItem"},
    "BatchJobRole": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
}
S3_PREFIXES = {
    "ApiFunctionRole": {
        ("s3:PutObject", "uploads/*"),
        ("s3:ListMultipartUploadParts", "uploads/*"),
        ("s3:AbortMultipartUpload", "uploads/*"),
        ("s3:GetObject", "results/*"),
    },
    "IngestFunctionRole": {
        ("s3:GetObject", "uploads/*"),
        ("s3:DeleteObject", "uploads/*"),
        ("s3:GetObject", "${DropPrefix}*"),
    },
    "RunnerFunctionRole": {
        ("s3:GetObject", "uploads/*"),
        ("s3:GetObject", "${DropPrefix}*"),
        ("s3:GetObject", "models/*"),
        ("s3:PutObject", "results/*"),
        ("s3:AbortMultipartUpload", "results/*"),
        ("s3:GetObject", "results/*/segments/*"),  # the merge reads its segments' results
    },
    "BatchJobRole": {
        ("s3:GetObject", "uploads/*"),
        ("s3:GetObject", "${DropPrefix}*"),
        ("s3:GetObject", "models/*"),
        ("s3:PutObject", "results/*"),
        ("s3:AbortMultipartUpload", "results/*"),
        ("s3:GetObject", "results/*/segments/*"),  # the merge reads its segments' results
    },
}


def roles() -> dict[str, dict[str, Any]]:
    found = resources(BatchSubnetIds="subnet-1")
    return {name: r["Properties"] for name, r in found.items() if r["Type"] == "AWS::IAM::Role"}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in role.get("Policies", []):
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        for branch in branches:
            if isinstance(branch, dict) and "PolicyDocument" in branch:
                found += branch["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def s3_suffix(resource: Any) -> str:
    text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else str(resource)
    text = text[0] if isinstance(text, list) else text
    return str(text).split("${MediaBucket}/", 1)[-1]


def test_every_role_is_generated() -> None:
    assert set(DYNAMODB) <= set(roles())


@pytest.mark.parametrize("role_name", [*sorted(DYNAMODB), "BatchExecutionRole", "BatchInstanceRole"])
def test_no_wildcards_where_a_scoped_resource_exists(role_name: str) -> None:
    for statement in statements(roles()[role_name]):
        for action in as_list(statement["Action"]):
            assert action != "*", role_name
            assert not action.endswith("*") or action in ALLOWED_ACTION_PREFIXES, (role_name, action)
            if action not in UNSCOPABLE:
                assert "*" not in as_list(statement["Resource"]), (role_name, action)


@pytest.mark.parametrize("role_name", sorted(DYNAMODB))
def test_dynamodb_actions_are_exactly_what_each_function_does(role_name: str) -> None:
    actions = {a for s in statements(roles()[role_name]) for a in as_list(s["Action"]) if a.startswith("dynamodb:")}
    assert actions == DYNAMODB[role_name]


@pytest.mark.parametrize("role_name", sorted(S3_PREFIXES))
def test_s3_access_is_limited_to_the_prefixes_each_function_uses(role_name: str) -> None:
    granted = {
        (action, s3_suffix(resource))
        for statement in statements(roles()[role_name])
        for action in as_list(statement["Action"])
        if action.startswith("s3:")
        for resource in as_list(statement["Resource"])
    }
    assert granted == S3_PREFIXES[role_name]


def test_managed_policies_are_aws_service_roles_only() -> None:
    allowed = {
        "AWSLambdaBasicExecutionRole",
        "AWSXrayWriteOnlyAccess",
        "AWSLambdaSQSQueueExecutionRole",
        "AmazonEC2ContainerServiceforEC2Role",
        "AmazonECSTaskExecutionRolePolicy",
    }
    for name, role in roles().items():
        for arn in role.get("ManagedPolicyArns", []):
            text = json.dumps(arn)
            assert any(policy in text for policy in allowed), (name, arn)
