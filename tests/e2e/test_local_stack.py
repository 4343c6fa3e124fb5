"""End to end over real HTTP against the embedded local stack (moto server, gateway, worker processes)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from forgesyte_dev import cli
from forgesyte_dev.client import ApiClient, ApiError
from forgesyte_dev.local.stack import LocalStack
from forgesyte_dev.synthetic import crossing_scene
from tests.e2e.conftest import stack_config

pytestmark = pytest.mark.slow  # one of the files make test starts first

TERMINAL = {"completed", "failed", "cancelled"}


def client(stack: LocalStack) -> ApiClient:
    return ApiClient(stack.info["api_url"], stack.info["api_key"])


def wait_for(api: ApiClient, job_id: str, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.job(job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("videos") / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(path)
    return path


def test_gateway_checks_the_api_key_and_answers_cors_and_docs(stack: LocalStack) -> None:
    url = stack.info["api_url"]
    assert requests.get(f"{url}/v1/health", timeout=5).json()["status"] == "ok"
    denied = requests.get(f"{url}/v1/jobs", timeout=5)
    assert denied.status_code == 403
    assert denied.json() == {"message": "Forbidden"}
    assert requests.get(f"{url}/v1/jobs", headers={"X-API-Key": "wrong"}, timeout=5).status_code == 403
    assert requests.get(f"{url}/v1/nowhere", timeout=5).status_code == 403
    preflight = requests.options(f"{url}/v1/video/submit", headers={"Origin": "http://localhost:5173"}, timeout=5)
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]
    spec = requests.get(f"{url}/openapi.json", timeout=5).json()
    assert "/v1/jobs/{job_id}" in spec["paths"]
    assert "security" not in spec["paths"]["/v1/health"]["get"]
    assert "/v1/video/submit" in requests.get(f"{url}/docs", timeout=5).text


def test_upload_with_a_plain_http_post_and_get_results(stack: LocalStack, video: Path) -> None:
    api = client(stack)
    created = api.request(
        "POST",
        "/v1/video/submit",
        json={
            "plugin_id": "motion-tracker",
            "tool": "video_track",
            "content_type": "video/mp4",
            "content_length": video.stat().st_size,
        },
    )
    form = created["upload"]
    with video.open("rb") as handle:  # the browser's way: the form fields, then the file
        uploaded = requests.post(form["url"], data=form["fields"], files={"file": handle}, timeout=30)
    assert uploaded.status_code == 204
    done = wait_for(api, created["job_id"], TERMINAL)
    assert done["status"] == "completed", done
    assert done["compute"] == "lambda"
    assert done["media"]["frames"] == 90
    results = requests.get(done["result_url"], timeout=10).json()
    assert results["total_frames"] == 90
    assert len(results["frames"]) == 90
    redirect = requests.get(
        f"{stack.info['api_url']}/v1/jobs/{done['job_id']}/result",
        headers={"X-API-Key": stack.info["api_key"]},
        allow_redirects=False,
        timeout=5,
    )
    assert redirect.status_code == 302


def test_a_rejected_file_ends_failed_with_its_reason(stack: LocalStack, tmp_path: Path) -> None:
    api = client(stack)
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"%PDF-1.7 this is a document renamed to .mp4" * 20)
    created = api.submit(bad, "motion-tracker", "video_track", {})
    api.upload(created, bad, lambda done, total: None)
    failed = wait_for(api, created["job_id"], TERMINAL)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "invalid_media"
    assert failed["error_message"].startswith("a PDF document is not an image or a video; upload an MP4")


def test_two_jobs_at_once_both_complete(stack: LocalStack, video: Path) -> None:
    api = client(stack)
    ids: list[str] = []

    def one() -> None:
        created = api.submit(video, "frame-counter", "count_frames", {"delay_s": 0.01})
        api.upload(created, video, lambda done, total: None)
        ids.append(created["job_id"])

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = [wait_for(api, job_id, TERMINAL) for job_id in ids]
    assert [j["status"] for j in jobs] == ["completed", "completed"]
    assert all(j["summary"]["frame_count"] == 90 for j in jobs)


def test_gpu_tools_run_on_the_local_batch_stand_in(stack: LocalStack, video: Path) -> None:
    api = client(stack)
    created = api.submit(video, "crasher", "explode", {})  # its manifest asks for a GPU
    api.upload(created, video, lambda done, total: None)
    failed = wait_for(api, created["job_id"], TERMINAL)
    assert failed["compute"] == "batch"
    assert failed["compute_run_id"].startswith("local-")
    assert failed["error_message"] == "RuntimeError: model weights are corrupt at layer 7"


def test_cli_commands_against_the_stack(
    stack: LocalStack, video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deployed-API way: the address and key from the environment, no flags.
    monkeypatch.setenv("FORGESYTE_API_URL", stack.info["api_url"])
    monkeypatch.setenv("FORGESYTE_API_KEY", stack.info["api_key"])
    out = tmp_path / "results.json"
    submit = ["submit", str(video), "--plugin", "frame-counter", "--tool", "count_frames", "--option", "label=cube"]
    assert cli.main([*submit, "--wait", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out.strip().splitlines()[-1])
    assert printed["summary"]["classes"] == ["cube"]
    assert json.loads(out.read_text())["total_frames"] == 90
    # Not a terminal: progress is plain lines with rate and ETA, never carriage-return redraws.
    assert "\r" not in captured.err
    assert "upload scene.mp4: 100%" in captured.err
    assert f"job {printed['job_id'][:8]}: completed 100%" in captured.err
    assert cli.main(["job", printed["job_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    assert cli.main(["job", printed["job_id"]]) == 0
    shown = capsys.readouterr().out
    assert "status" in shown
    assert "completed" in shown
    assert "count_frames" in shown
    assert cli.main(["jobs", "--status", "completed"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["JOB", "STATUS", "%", "PLUGIN", "TOOL", "CREATED", "ERROR"]
    assert any(line.startswith(printed["job_id"]) and "completed" in line for line in listing[1:])
    assert cli.main(["cancel", printed["job_id"]]) == 1
    assert "is completed" in capsys.readouterr().err
    assert cli.main(["plugins", "--remote"]) == 0
    assert "motion-tracker" in capsys.readouterr().out
    assert cli.main(["jobs", "--api-key", "wrong"]) == 1
    assert "check the API key" in capsys.readouterr().err


def test_env_json_points_sam_local_invoke_at_the_moto_server(stack: LocalStack) -> None:
    env = json.loads(Path(stack.config.env_json or "").read_text())
    assert set(env) == {"ApiFunction", "IngestFunction", "RunnerFunction", "ReconcileFunction", "WebhookFunction"}
    port = stack.info["moto_url"].rsplit(":", 1)[1]
    assert env["IngestFunction"]["AWS_ENDPOINT_URL"] == f"http://host.docker.internal:{port}"
    assert env["IngestFunction"]["JOBS_TABLE"] == stack.info["table"]


def test_a_restart_retries_what_the_crash_interrupted_and_leaves_nothing_half_done(
    tmp_path: Path, combined_catalog: Path, video: Path
) -> None:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # the OS picks the port
    moto.start()
    _, port = moto.get_host_and_port()
    try:
        config = stack_config(tmp_path, combined_catalog, moto_url=f"http://127.0.0.1:{port}", runner_workers=1)
        first = LocalStack(config).start()
        api = client(first)
        created = api.submit(video, "frame-counter", "count_frames", {"delay_s": 0.2})
        api.upload(created, video, lambda done, total: None)
        running = wait_for(api, created["job_id"], {"running"})
        assert running["status"] == "running"
        first.stop(crash=True)  # the workers die mid-job

        second = LocalStack(stack_config(tmp_path, combined_catalog, moto_url=f"http://127.0.0.1:{port}")).start()
        try:
            api = client(second)
            # As in the cloud, the interrupted run is retried while the job has attempts left.
            retried = wait_for(api, created["job_id"], TERMINAL)
            assert retried["status"] == "completed", retried
            assert retried["attempt"] == 2
            again = api.submit(video, "frame-counter", "count_frames", {})
            api.upload(again, video, lambda done, total: None)
            assert wait_for(api, again["job_id"], TERMINAL)["status"] == "completed"
            for status in ("pending", "queued", "running"):
                assert api.request("GET", "/v1/jobs", params={"status": status})["jobs"] == []
        finally:
            second.stop()
    finally:
        moto.stop()


def test_an_unreachable_stack_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ApiError, match="no local stack is running"):
        ApiClient.from_stack(tmp_path / "missing.json")


def test_the_stack_shows_each_jobs_events_from_its_event_bus(stack: LocalStack, video: Path) -> None:
    api = client(stack)
    created = api.submit(video, "frame-counter", "count_frames", {})
    api.upload(created, video, lambda done, total: None)
    assert wait_for(api, created["job_id"], TERMINAL)["status"] == "completed"
    path = stack.config.state_dir / "events.jsonl"
    deadline = time.monotonic() + 10
    mine: list[str] = []
    while time.monotonic() < deadline and "completed" not in mine:
        lines = path.read_text().splitlines() if path.is_file() else []
        mine = [e["detail"]["status"] for e in map(json.loads, lines) if e["detail"]["job_id"] == created["job_id"]]
        time.sleep(0.2)
    assert mine == ["queued", "running", "completed"]
    assert {json.loads(line)["stack"] for line in lines} == {stack.label}  # which stack's bus carried each


def test_a_fresh_stack_sets_the_last_ones_events_aside(tmp_path: Path, combined_catalog: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "events.jsonl").write_text('{"detail": {"job_id": "gone"}, "stack": "old"}\n')
    fresh = LocalStack(stack_config(tmp_path, combined_catalog)).start()
    fresh.stop()
    assert not (state / "events.jsonl").exists() or "gone" not in (state / "events.jsonl").read_text()
    assert "gone" in (state / "events.previous.jsonl").read_text()


def test_a_job_with_a_callback_url_gets_its_signed_webhook(stack: LocalStack, video: Path) -> None:
    """The local stack runs the webhook function as the template's EventBridge rule would; it may
    call this machine's own receiver (WEBHOOK_ALLOW_LOCALHOST, which only the local stack sets)."""
    import hashlib
    import hmac
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[tuple[Any, bytes]] = []  # headers as received: names are case-insensitive

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.headers, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = client(stack)
        body = {
            "plugin_id": "frame-counter",
            "tool": "count_frames",
            "content_type": "video/mp4",
            "content_length": video.stat().st_size,
            "callback_url": f"http://127.0.0.1:{server.server_address[1]}/hooks/jobs",
        }
        created = api.request("POST", "/v1/video/submit", json=body)
        api.upload(created, video, lambda done, total: None)
        assert wait_for(api, created["job_id"], TERMINAL)["status"] == "completed"
        deadline = time.monotonic() + 15
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.shutdown()
    headers, payload = received[0]
    assert json.loads(payload)["job"]["job_id"] == created["job_id"]
    assert json.loads(payload)["job"]["status"] == "completed"
    timestamp, digest = (part.split("=", 1)[1] for part in headers["ForgeSyte-Signature"].split(","))
    expected = hmac.new(stack.config.webhook_secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    assert hmac.compare_digest(digest, expected.hexdigest())
