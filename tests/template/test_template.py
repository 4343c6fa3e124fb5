"""template.yaml against the code: handlers, settings, IAM, bucket safety, and cfn-lint."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from forgesyte_core.jobs.table import OWNER_INDEX, STATUS_INDEX, JobItem
from forgesyte_dev.template import load_template, resources_of
from tests.helpers import ROOT

TEMPLATE = load_template()
FUNCTIONS = resources_of(TEMPLATE, "AWS::Serverless::Function")


def statements(policies: list[Any]) -> list[dict[str, Any]]:
    found = []
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
        elif isinstance(policy, dict) and "Fn::If" in policy:
            found.extend(statements([policy["Fn::If"][1]]))
    return found


@pytest.mark.parametrize("name", [n for n, f in FUNCTIONS.items() if "Handler" in f["Properties"]])
def test_zip_function_handlers_exist_and_use_the_layer(name: str) -> None:
    props = FUNCTIONS[name]["Properties"]
    module_name, attribute = props["Handler"].rsplit(".", 1)
    assert (ROOT / props["CodeUri"] / f"{module_name}.py").is_file()
    assert callable(getattr(importlib.import_module(module_name), attribute))
    assert props["Layers"] == [{"Ref": "CoreLayer"}]
    assert props["Runtime"] == "python3.11"


def test_runner_function_builds_a_stage_of_the_dockerfile() -> None:
    """What the images run is tested by running them (tests/images); here, that SAM builds the right stage."""
    metadata = FUNCTIONS["RunnerFunction"]["Metadata"]
    stages = re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / metadata["Dockerfile"]).read_text(), re.MULTILINE)
    assert metadata["DockerBuildTarget"] == "runner-lambda"
    assert {"runner-lambda", "batch-cpu", "batch-gpu"} <= set(stages)
    assert metadata["DockerContext"] == "."
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") if "*" in ignored else -1] == "*", "the build context must be an allowlist"


def test_every_environment_variable_is_a_setting() -> None:
    settings_source = (ROOT / "layers/forgesyte_core/forgesyte_core/settings.py").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', settings_source))
    names = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]) - {
        "AWS_ENDPOINT_URL",  # boto3's own
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert names <= read, names - read


def test_table_matches_the_model() -> None:
    table = TEMPLATE["Resources"]["JobsTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {STATUS_INDEX, OWNER_INDEX}
    assert [k["AttributeName"] for k in indexes[STATUS_INDEX]["KeySchema"]] == ["status", "created_at"]
    assert [k["AttributeName"] for k in indexes[OWNER_INDEX]["KeySchema"]] == ["owner", "created_at"]
    assert table["TimeToLiveSpecification"]["AttributeName"] == JobItem.expires_at.attr_name


def test_bucket_is_private_encrypted_tls_only_and_notifies_the_upload_queue() -> None:
    resources = TEMPLATE["Resources"]
    bucket = resources["MediaBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (deny,) = resources["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    notifications = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert all(n["Queue"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]} for n in notifications)
    prefixes_watched = [n["Filter"]["S3Key"]["Rules"] for n in notifications]
    drops = {"Name": "prefix", "Value": {"Ref": "DropPrefix"}}
    assert prefixes_watched == [[{"Name": "prefix", "Value": "uploads/"}], [drops]]
    prefixes = {rule.get("Prefix") for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"uploads/", "results/"} <= prefixes


def test_queues_feeding_functions_have_dead_letter_queues() -> None:
    queues = resources_of(TEMPLATE, "AWS::SQS::Queue")
    for name in ("UploadQueue", "WorkQueue"):
        assert "RedrivePolicy" in queues[name]["Properties"], name


def test_iam_is_least_privilege() -> None:
    for name, function in FUNCTIONS.items():
        for statement in statements(function["Properties"].get("Policies", [])):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions, name
            assert not any(a.endswith(":*") for a in actions), name
            assert statement["Resource"] != "*", name
    api_actions = {a for s in statements(FUNCTIONS["ApiFunction"]["Properties"]["Policies"]) for a in s["Action"]}
    assert "s3:DeleteObject" not in api_actions


def test_api_requires_keys_except_health() -> None:
    api = TEMPLATE["Resources"]["Api"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] is True
    assert api["Auth"]["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    events = FUNCTIONS["ApiFunction"]["Properties"]["Events"]
    assert events["Health"]["Properties"]["Auth"] == {"ApiKeyRequired": False}
    paths = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert ("POST", "/v1/video/submit") in paths
    assert ("GET", "/v1/jobs/{job_id}/result") in paths


def test_samconfig_has_default_and_prod() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["default"]["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"
    assert "Stage=prod" in config["prod"]["deploy"]["parameters"]["parameter_overrides"]


def test_cfn_lint_finds_no_errors() -> None:
    lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert lint is not None, "cfn-lint is a test dependency: `make install` installs the pinned version"
    result = subprocess.run(
        [lint, "--format", "parseable", str(ROOT / "template.yaml")], capture_output=True, text=True, check=False
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line or ":error:" in line.lower()]
    assert not errors, result.stdout
    assert result.returncode in (0, 4, 8, 12), result.stdout + result.stderr  # warnings/info only


def test_zip_handlers_never_import_numpy_or_cv2() -> None:
    from bench.imports import HANDLERS

    for function, modules in HANDLERS.items():
        code = f"import sys\nimport {modules}\nprint(','.join(m for m in ('numpy', 'cv2') if m in sys.modules))"
        env = {"PYTHONPATH": str(ROOT / "functions" / function), "PATH": "/usr/bin:/bin"}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert result.stdout.strip() == "", function


def test_the_drop_prefix_must_be_a_folder_and_reaches_the_functions() -> None:
    pattern = re.compile(TEMPLATE["Parameters"]["DropPrefix"]["AllowedPattern"])
    accepted = ["incoming/", "cameras/feeds/", "site_2.cams/"]
    refused = ["", "incoming", "/incoming/", "a//b/", "in coming/", "../x/"]
    assert all(pattern.fullmatch(p) for p in accepted)
    assert not any(pattern.fullmatch(p) for p in refused)
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DROP_PREFIX"] == {"Ref": "DropPrefix"}
