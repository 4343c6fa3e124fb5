"""`sam local invoke` and `sam local start-api` against the local stack, exactly as the README says.

SAM CLI runs on podman's Docker API; zip functions run on the Lambda Python stand-in image, the
runner function on the image `sam build` builds from the Dockerfile's runner-lambda target.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from forgesyte_dev import images, sam_events
from forgesyte_dev.client import ApiClient
from forgesyte_dev.local import sam_local
from forgesyte_dev.local.stack import LocalStack, StackConfig
from forgesyte_dev.synthetic import crossing_scene
from tests.helpers import EVENTS, ROOT

SAM = ROOT / ".venv-sam/bin/sam"


@pytest.fixture(scope="module")
def containers() -> Iterator[sam_local.SamLocal]:
    reason = images.unavailable_reason()
    if reason:
        pytest.skip(f"sam local needs podman here: {reason}")
    assert SAM.is_file(), "`make test` installs SAM CLI in .venv-sam"
    prepared = sam_local.prepare()
    try:
        subprocess.run([str(SAM), "build", *sam_local.SAM_FLAGS], cwd=ROOT, env=prepared.sam_env(), check=True)
        yield prepared
    finally:
        prepared.close()


@pytest.fixture(scope="module")
def stack(containers: sam_local.SamLocal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The stack `forgesyte dev --sam-local` runs: ingest and the runner are left to `sam local invoke`."""
    base = tmp_path_factory.mktemp("sam-stack")
    config = StackConfig(
        state_dir=base / "state",
        env_json=base / "env.json",
        sweep_interval_s=3600,
        prefix="sam",
        moto_host=containers.gateway,
        container_host=containers.gateway,
        functions_by_sam=True,
        extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING"},
    )
    running = LocalStack(config).start()
    try:
        yield running
    finally:
        running.stop()


def invoke(containers: sam_local.SamLocal, stack: LocalStack, function: str, event: Path) -> Any:
    env_json = stack.config.env_json
    assert env_json is not None
    done = subprocess.run(
        [str(SAM), "local", "invoke", function, "-e", str(event), "--env-vars", str(env_json), *sam_local.SAM_FLAGS]
        + ([] if function == "RunnerFunction" else ["--invoke-image", containers.invoke_image]),
        cwd=ROOT,
        env=containers.sam_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_zip_functions_run_under_sam_local_invoke_against_the_stack(
    containers: sam_local.SamLocal, stack: LocalStack
) -> None:
    health = invoke(containers, stack, "ApiFunction", EVENTS / "api-health.json")
    assert health["statusCode"] == 200
    created = invoke(containers, stack, "ApiFunction", EVENTS / "api-submit-video.json")
    assert created["statusCode"] == 201, created
    job_id = json.loads(created["body"])["job_id"]
    # Written to the stack's table from inside the container (it belongs to the event's API key, not ours).
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["moto_url"])
    item = dynamodb.get_item(TableName=stack.info["table"], Key={"job_id": {"S": job_id}})["Item"]
    assert item["status"]["S"] == "pending"
    swept = invoke(containers, stack, "ReconcileFunction", EVENTS / "schedule.json")
    assert swept["errors"] == {}  # it read the stack's table (our pending job is not due yet)
    assert job_id not in swept["swept"]["pending"]


@pytest.mark.slow
def test_the_readmes_sam_local_steps_run_a_job_end_to_end(
    containers: sam_local.SamLocal, stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`forgesyte sam-events --video`, ingest invoked on its event, `forgesyte sam-events`, the runner
    image invoked on that one: the job completes with results in the stack's bucket."""
    clip = tmp_path / "clip.mp4"
    crossing_scene(320, 180, seconds=2).write(clip)
    state = stack.config.state_dir
    assert sam_events.run(state, clip, "motion-tracker", "video_track", 10, sys.stdout) == 0
    job_id = capsys.readouterr().out.split("job ")[1].split()[0]
    ingest = state / "sam-events/ingest.json"
    assert stack.info["bucket"] in ingest.read_text()  # the stack's bucket and this upload's key
    assert invoke(containers, stack, "IngestFunction", ingest) == {"batchItemFailures": []}
    api = ApiClient(stack.info["api_url"], stack.info["api_key"])
    assert api.job(job_id)["status"] == "queued"
    assert sam_events.run(state, None, "", "", 10, sys.stdout) == 0
    runner = state / "sam-events/runner.json"
    assert job_id in runner.read_text()
    assert invoke(containers, stack, "RunnerFunction", runner) == {"batchItemFailures": []}
    job = api.job(job_id)
    assert job["status"] == "completed", (job.get("error_code"), job.get("error_message"))
    s3 = boto3.client("s3", endpoint_url=stack.info["moto_url"])
    results = json.loads(s3.get_object(Bucket=stack.info["bucket"], Key=f"results/{job_id}.json")["Body"].read())
    assert results["total_frames"] == 60
    assert sam_events.run(state, None, "", "", 0, sys.stdout) == 1  # nothing left waiting: it says what to do
    assert "no message waits" in capsys.readouterr().out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_sam_local_start_api_serves_the_api_function(containers: sam_local.SamLocal, stack: LocalStack) -> None:
    port = _free_port()
    env_json = stack.config.env_json
    assert env_json is not None
    command = [str(SAM), "local", "start-api", "--port", str(port), "--env-vars", str(env_json)]
    command += [*sam_local.SAM_FLAGS, "--invoke-image", containers.invoke_image]
    server = subprocess.Popen(
        command, cwd=ROOT, env=containers.sam_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"{url}/v1/plugins", timeout=60)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "sam local start-api did not listen"
                time.sleep(0.5)
        assert response.status_code == 200, response.text
        assert {p["id"] for p in response.json()["plugins"]} == {"motion-tracker", "rapidocr", "yolo-onnx"}
    finally:
        server.terminate()
        server.wait(timeout=30)
