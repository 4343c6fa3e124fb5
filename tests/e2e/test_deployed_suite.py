"""The deployed suite itself, run for real: against the local stack, which publishes itself as a
CloudFormation stack with template.yaml's outputs and an API Gateway key on its moto server. A suite
that only ever runs in someone's AWS account would otherwise break unseen."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import boto3
import pytest

from forgesyte_dev.local.outputs import FAKE_CREDENTIALS
from forgesyte_dev.local.stack import LocalStack
from forgesyte_dev.template import load_template
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # one of the files make test starts first


def test_the_local_stack_reads_as_a_deployed_one(stack: LocalStack) -> None:
    session = boto3.session.Session()
    described = session.client("cloudformation").describe_stacks(StackName=stack.info["stack_name"])["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    assert outputs["ApiUrl"] == stack.info["api_url"]
    assert outputs["MediaBucketName"] == stack.info["bucket"]
    assert outputs["JobsTableName"] == stack.info["table"]
    assert outputs["DropPrefix"] == "incoming/"
    assert set(outputs) <= set(load_template()["Outputs"]), "the local stack uses template.yaml's output names"
    key = session.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)
    assert key["value"] == stack.info["api_key"]


def test_the_deployed_suite_passes_against_the_local_stack(stack: LocalStack) -> None:
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "AWS_SAM_STACK_NAME": stack.info["stack_name"],
        "AWS_ENDPOINT_URL": stack.info["moto_url"],
        "AWS_DEFAULT_REGION": stack.config.region,
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/deployed", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed", run.stdout), run.stdout[-2000:]
    assert "skipped" not in run.stdout, run.stdout[-2000:]
