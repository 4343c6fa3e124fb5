"""Each runner image run the way AWS runs it, against the local stack's moto server.

The Lambda image starts with its own entrypoint and command and takes its work event through the
Lambda Runtime API; the Batch image runs exactly the job definition's command from template.yaml.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import cv2
import numpy as np
import pytest

from forgesyte_core.plugins.catalog import PACKAGED_CATALOG
from forgesyte_dev import images
from forgesyte_dev.client import ApiClient
from forgesyte_dev.local.stack import LocalStack
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.images.conftest import start_stack
from tests.media_factory import looped

TERMINAL = {"completed", "failed", "cancelled"}

PLUGIN_CHECK = """
import json, onnxruntime
from forgesyte_core.plugins.registry import PluginRegistry
records = PluginRegistry().load_all()
print(json.dumps({"plugins": {r.plugin_id: r.error or "loaded" for r in records},
                  "providers": onnxruntime.get_available_providers()}))
"""


def in_image(tag: str, code: str) -> dict[str, Any]:
    done = images.podman("run", "--rm", "--network", "none", "--entrypoint", "python", tag, "-c", code, capture=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def submit_and_wait(stack: LocalStack, path: Path, plugin_id: str, tool: str, timeout: float = 120) -> dict[str, Any]:
    api = ApiClient(stack.info["api_url"], stack.info["api_key"])
    created = api.submit(path, plugin_id, tool, {})
    api.upload(created, path, lambda *_: None)
    return wait_for(api, created["job_id"], TERMINAL, timeout)


def wait_for(api: ApiClient, job_id: str, statuses: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job = api.job(job_id)
    while job["status"] not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s: {job}")
        time.sleep(0.1)
        job = api.job(job_id)
    return job


def result_of(stack: LocalStack, job: dict[str, Any]) -> dict[str, Any]:
    s3 = boto3.client("s3", endpoint_url=stack.info["moto_url"])
    body = s3.get_object(Bucket=stack.info["bucket"], Key=f"results/{job['job_id']}.json")["Body"].read()
    data: dict[str, Any] = json.loads(body)
    return data


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("tag", [images.LAMBDA.tag, images.BATCH_CPU.tag])
def test_every_plugin_loads_in_the_image(built: dict[str, float], tag: str) -> None:
    report = in_image(tag, PLUGIN_CHECK)
    assert report["plugins"] == {"motion-tracker": "loaded", "rapidocr": "loaded", "yolo-onnx": "loaded"}
    assert "CPUExecutionProvider" in report["providers"]


@pytest.mark.slow
def test_the_catalog_made_in_the_image_is_the_one_the_api_ships(built: dict[str, float]) -> None:
    made = json.loads(images.read_file(images.LAMBDA.tag, images.CATALOG_IN_IMAGE))
    assert made == json.loads(PACKAGED_CATALOG.read_text()), "run `make catalog`"
    yolo = {tool["id"]: tool for tool in next(p for p in made["plugins"] if p["id"] == "yolo-onnx")["tools"]}
    assert yolo["detect"]["available"] is False
    assert yolo["detect"]["unless_options"] == ["model"]


@pytest.mark.slow
def test_lambda_image_completes_a_job_through_the_runtime_api(
    built: dict[str, float], clip: Path, tmp_path: Path
) -> None:
    stack = start_stack(tmp_path, lambda_image=images.LAMBDA.tag, extra_env={"DISPATCH_MODE": "lambda"})
    try:
        stack.pools["runner"].warm()
        job = submit_and_wait(stack, clip, "motion-tracker", "video_track")
        assert job["status"] == "completed", job
        assert job["compute"] == "lambda"
        results = result_of(stack, job)
        assert results["total_frames"] == 90
        assert sum(len(f["detections"]["tracked_objects"]) for f in results["frames"]) > 0
        text, _, picture = next(rendered_lines())
        image = tmp_path / "line.png"
        cv2.imwrite(str(image), picture)
        read = submit_and_wait(stack, image, "rapidocr", "analyze")
        assert read["status"] == "completed", read
        assert result_of(stack, read)["results"]["text"] == text
    finally:
        stack.stop()


@pytest.mark.slow
def test_batch_image_runs_the_job_definitions_command(built: dict[str, float], clip: Path, tmp_path: Path) -> None:
    stack = start_stack(tmp_path, batch_image=images.BATCH_CPU.tag, extra_env={"DISPATCH_MODE": "batch"})
    try:
        job = submit_and_wait(stack, clip, "motion-tracker", "video_track")
        assert job["status"] == "completed", job
        assert job["compute"] == "batch"
        assert job["compute_run_id"].startswith("local-")
        assert result_of(stack, job)["total_frames"] == 90
    finally:
        stack.stop()


@pytest.mark.slow
def test_a_batch_container_killed_mid_job_ends_batch_failed(built: dict[str, float], tmp_path: Path) -> None:
    """With no attempts left (MAX_ATTEMPTS=1); with attempts left reconcile retries it (tests/integration)."""
    crossing_scene(640, 360, seconds=4).write(tmp_path / "4s.mp4")
    long_clip = looped(tmp_path / "4s.mp4", tmp_path / "long.mp4", 30)
    stack = start_stack(
        tmp_path,
        batch_image=images.BATCH_CPU.tag,
        # one whole run to kill: a 120 s video would otherwise be cut into segments
        extra_env={"DISPATCH_MODE": "batch", "MAX_ATTEMPTS": "1", "SEGMENT_MIN_VIDEO_SECONDS": "0"},
    )
    try:
        api = ApiClient(stack.info["api_url"], stack.info["api_key"])
        created = api.submit(long_clip, "motion-tracker", "video_track", {})
        api.upload(created, long_clip, lambda *_: None)
        wait_for(api, created["job_id"], {"running"} | TERMINAL, 60)
        images.podman("kill", f"forgesyte-batch-{created['job_id']}")  # as an out-of-memory kill would
        job = wait_for(api, created["job_id"], TERMINAL, 60)
        assert job["status"] == "failed", job
        assert job["error_code"] == "batch_failed"
        assert "137" in job["error_message"] or "signal" in job["error_message"], job["error_message"]
    finally:
        stack.stop()


@pytest.mark.slow
def test_a_third_party_plugin_installed_in_the_image_is_offered_and_runs(
    third_party_image: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(images.read_file(third_party_image, images.CATALOG_IN_IMAGE))
    assert "image-stats" in {p["id"] for p in json.loads(catalog.read_text())["plugins"]}
    stack = start_stack(tmp_path, lambda_image=third_party_image, extra_env={"PLUGIN_CATALOG_PATH": str(catalog)})
    try:
        api = ApiClient(stack.info["api_url"], stack.info["api_key"])
        offered = {p["id"]: p for p in api.request("GET", "/v1/plugins")["plugins"]}
        assert offered["image-stats"]["tools"] == ["brightness"]
        image = tmp_path / "grey.png"
        cv2.imwrite(str(image), np.full((64, 48, 3), 100, np.uint8))
        stack.pools["runner"].warm()
        job = submit_and_wait(stack, image, "image-stats", "brightness")
        assert job["status"] == "completed", job
        assert result_of(stack, job)["results"] == {"mean": 100.0, "percent": 39.2, "width": 48, "height": 64}
    finally:
        stack.stop()


@pytest.mark.slow
def test_a_public_shaped_plugin_is_added_unchanged(third_party_image: str) -> None:
    """Its wheel has no manifest.json (copied from the source) and its Debian package (bc) came with it."""
    catalog = json.loads(images.read_file(third_party_image, images.CATALOG_IN_IMAGE))
    stats = next(p for p in catalog["plugins"] if p["id"] == "image-stats")
    assert stats["tools"][0]["available"] is True
    where = images.podman(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        third_party_image,
        "-c",
        "command -v bc; python -c 'import forgesyte_image_stats as m, os; print(os.path.dirname(m.__file__))'",
        capture=True,
    ).stdout.split()
    assert where[0] == "/usr/bin/bc"
    assert "/site-packages/" in where[1]  # installed, not editable: the manifest was placed beside it


@pytest.mark.slow
def test_a_plugin_taking_a_shipped_id_needs_an_explicit_replace_and_a_missing_program_is_said(
    built: dict[str, float],
) -> None:
    plugin, tag = images.ROOT / "tests/fixtures/clashing_plugin", "localhost/forgesyte-runner:lambda-clashing"
    with pytest.raises(subprocess.CalledProcessError) as refused:
        images.add_plugin(images.LAMBDA.tag, plugin, tag)
    assert "plugin id 'rapidocr' is already forgesyte-plugin-ocr's in this image" in refused.value.output
    assert "--build-arg REPLACE=rapidocr" in refused.value.output
    output = images.add_plugin(images.LAMBDA.tag, plugin, tag, {"REPLACE": "rapidocr"})
    assert "replaced ['forgesyte-plugin-ocr']" in output
    try:
        catalog = json.loads(images.read_file(tag, images.CATALOG_IN_IMAGE))
        reader = next(p for p in catalog["plugins"] if p["id"] == "rapidocr")
        assert reader["distribution"] == "forgesyte-plugin-clashing"
        (tool,) = reader["tools"]
        assert tool["available"] is False
        assert "needs the program `forgesyte-no-such-program`" in tool["unavailable_reason"]
    finally:
        images.podman("rmi", "--force", tag, check=False)


GPU_CHECK = """
import json, logging, onnxruntime
from importlib.metadata import distributions
from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_yolo.model import YoloModel
logging.basicConfig(level=logging.WARNING)
records = PluginRegistry().load_all()
model = YoloModel("/tmp/model.onnx", device="cuda")
print(json.dumps({"plugins": {r.plugin_id: r.error or "loaded" for r in records},
                  "providers": onnxruntime.get_available_providers(), "session": model.provider,
                  "distributions": sorted(d.metadata["Name"] for d in distributions()
                                          if d.metadata["Name"].startswith("onnxruntime"))}))
"""


@pytest.mark.gpu_image
def test_gpu_image_offers_cuda_and_falls_back_to_cpu_without_a_gpu(tmp_path: Path) -> None:
    if images.unavailable_reason() or not images.image_exists(images.BATCH_GPU.tag):
        pytest.skip(f"{images.BATCH_GPU.tag} is not built here: `make image-gpu` builds it")
    from tests.plugins.tiny_yolo import candidate, write_tiny_yolo

    model = write_tiny_yolo(tmp_path / "model.onnx", [candidate(32, 32, 10, 10, 0, 0.9, 1)], {0: "thing"})
    done = images.podman(
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        f"{model}:/tmp/model.onnx:ro",
        "--entrypoint",
        "python",
        images.BATCH_GPU.tag,
        "-c",
        GPU_CHECK,
        capture=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["plugins"] == {"motion-tracker": "loaded", "rapidocr": "loaded", "yolo-onnx": "loaded"}
    assert "CUDAExecutionProvider" in report["providers"]
    assert report["distributions"] == ["onnxruntime-gpu"]  # never beside the CPU build
    assert report["session"] == "CPUExecutionProvider"  # no GPU on this machine
    assert "runs on CPUExecutionProvider" in done.stderr


BAKED_MODEL_CHECK = """
import json, os
import cv2, numpy as np
from forgesyte_yolo.plugin import Plugin
image = cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes()
result = Plugin().run_tool("detect", {"image_bytes": image, "options": {}})
catalog = json.load(open(os.environ["PLUGIN_CATALOG_PATH"]))
yolo = next(p for p in catalog["plugins"] if p["id"] == "yolo-onnx")
print(json.dumps({"classes": [d["class"] for d in result["detections"]],
                  "available": {t["id"]: t["available"] for t in yolo["tools"]}}))
"""


@pytest.mark.slow
def test_a_model_baked_into_the_image_serves_yolo_without_options(built: dict[str, float]) -> None:
    from tests.plugins.tiny_yolo import candidate, write_tiny_yolo

    models = images.ROOT / "functions/runner/models"
    model = write_tiny_yolo(models / "test-baked.onnx", [candidate(32, 32, 20, 10, 0, 0.9, 1)], {0: "widget"})
    tag = images.Target(images.LAMBDA.name, "localhost/forgesyte-runner:lambda-baked-model")
    try:
        images.build(tag, images.ensure_base(), {"YOLO_MODEL_FILE": model.name})
    finally:
        model.unlink()
    report = in_image(tag.tag, BAKED_MODEL_CHECK)
    assert report == {"classes": ["widget"], "available": {"detect": True, "video_track": True}}
