"""What AWS refuses at deploy time that neither the SAM translator nor cfn-lint catches here.

Each check is evaluated for every value the template's conditions can take, so a parameter that
switches Batch to CPU cannot produce a stack that deploys but never runs a job.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from forgesyte_dev.lock import parse_constraints
from forgesyte_dev.template import load_template, resources_of
from tests.helpers import ROOT

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = resources_of(TEMPLATE, "AWS::Serverless::Function")
SQS_DEFAULT_VISIBILITY_S = 30
LAMBDA_DEFAULT_TIMEOUT_S = 3
# vCPUs and the memory (MiB) ECS can give containers on each instance type the parameters offer:
# the instance's memory less what the ECS agent and the OS keep (about 5%).
INSTANCE_CAPACITY = {
    "g4dn.xlarge": (4, 15_300, 1),
    "g5.xlarge": (4, 15_300, 1),
    "m6i.xlarge": (4, 15_300, 0),
    "m5.xlarge": (4, 15_300, 0),
}


def function_timeout(name: str) -> int:
    props = FUNCTIONS[name]["Properties"]
    timeout: int = props.get("Timeout", TEMPLATE["Globals"]["Function"].get("Timeout", LAMBDA_DEFAULT_TIMEOUT_S))
    return timeout


def queue_of(event: dict[str, Any]) -> str:
    queue: str = event["Properties"]["Queue"]["Fn::GetAtt"][0]
    return queue


SQS_SOURCES = [
    (name, event_name, queue_of(event))
    for name, function in FUNCTIONS.items()
    for event_name, event in function["Properties"].get("Events", {}).items()
    if event["Type"] == "SQS"
]


@pytest.mark.parametrize(("function", "event", "queue"), SQS_SOURCES)
def test_sqs_visibility_timeout_covers_the_function_timeout(function: str, event: str, queue: str) -> None:
    """AWS refuses the event source mapping when the queue's visibility is shorter than the function's timeout."""
    visibility = RESOURCES[queue]["Properties"].get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_S)
    assert visibility >= function_timeout(function), f"{queue} feeds {function}.{event}"


@pytest.mark.parametrize(("function", "event", "queue"), SQS_SOURCES)
def test_sqs_event_source_settings_are_in_range(function: str, event: str, queue: str) -> None:
    props = FUNCTIONS[function]["Properties"]["Events"][event]["Properties"]
    assert 1 <= props.get("BatchSize", 10) <= 10_000
    if props.get("BatchSize", 10) > 10:
        assert props.get("MaximumBatchingWindowInSeconds", 0) >= 1  # required above 10 for standard queues
    concurrency = props.get("ScalingConfig", {}).get("MaximumConcurrency")
    if isinstance(concurrency, dict):  # a parameter: its bounds are the event source's
        parameter = TEMPLATE["Parameters"][concurrency["Ref"]]
        assert parameter["MinValue"] >= 2
        assert parameter["MaxValue"] <= 1000
        concurrency = parameter["Default"]
    assert concurrency is None or 2 <= concurrency <= 1000


def test_lambda_limits() -> None:
    for name in FUNCTIONS:
        assert 1 <= function_timeout(name) <= 900, name
    runner = FUNCTIONS["RunnerFunction"]["Properties"]
    assert runner["EphemeralStorage"]["Size"] <= 10_240
    default_memory = TEMPLATE["Parameters"]["RunnerMemoryMB"]["Default"]
    assert 128 <= default_memory <= 10_240


def _resolve_if(value: Any, on_gpu: bool) -> Any:
    if isinstance(value, dict) and "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        assert condition == "BatchOnGpu", condition
        return _resolve_if(yes if on_gpu else no, on_gpu)
    if isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return None
    return value


@pytest.mark.parametrize("on_gpu", [True, False], ids=["gpu", "cpu"])
def test_batch_jobs_fit_every_instance_type_offered(on_gpu: bool) -> None:
    container = RESOURCES["BatchJobDefinition"]["Properties"]["ContainerProperties"]
    wants = {}
    for item in container["ResourceRequirements"]:
        resolved = _resolve_if(item, on_gpu)
        if resolved is not None:
            wants[resolved["Type"]] = int(resolved["Value"])
    environment = RESOURCES["BatchComputeEnvironment"]["Properties"]["ComputeResources"]
    types_param = _resolve_if(environment["InstanceTypes"], on_gpu)["Ref"]
    offered = TEMPLATE["Parameters"][types_param]["Default"].split(",")
    for instance in offered:
        vcpus, memory, gpus = INSTANCE_CAPACITY[instance]
        assert wants["VCPU"] <= vcpus, instance
        assert wants["MEMORY"] <= memory, instance
        assert wants.get("GPU", 0) <= gpus, instance
    assert ("GPU" in wants) == on_gpu
    image_type = _resolve_if(environment["Ec2Configuration"][0]["ImageType"], on_gpu)
    assert image_type == ("ECS_AL2023_NVIDIA" if on_gpu else "ECS_AL2023")  # AL2 AMIs are refused since mid-2026


def test_batch_job_definition_runs_the_stacks_own_images() -> None:
    container = RESOURCES["BatchJobDefinition"]["Properties"]["ContainerProperties"]
    image = container["Image"]["Fn::Sub"]
    assert image == "${BatchImageRepository.RepositoryUri}:${BatchImageTag}-${BatchCompute}"
    assert set(TEMPLATE["Parameters"]["BatchCompute"]["AllowedValues"]) == {"gpu", "cpu"}
    dockerfile = (ROOT / "functions/runner/Dockerfile").read_text()
    for variant in ("gpu", "cpu"):
        stage = re.search(rf"^FROM \S+ AS batch-{variant}\n(.*?)(?=^FROM |\Z)", dockerfile, re.MULTILINE | re.DOTALL)
        assert stage, variant
        assert 'ENTRYPOINT ["python", "-m", "forgesyte_core.batch"]' in stage.group(1)
    assert container["Command"] == ["Ref::job_id"]
    names = {entry["Name"] for entry in container["Environment"]}
    assert {"JOBS_TABLE", "MEDIA_BUCKET", "AWS_REGION", "FORGESYTE_COMPUTE"} <= names


def test_cfn_lint_is_the_pinned_one() -> None:
    from importlib.metadata import version

    assert version("cfn-lint") == parse_constraints()["cfn-lint"], "make install installs the pinned cfn-lint"
