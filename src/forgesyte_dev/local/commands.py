"""The ``forgesyte`` commands that talk to a stack: dev, submit, jobs, job, cancel, remote plugins."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from forgesyte_dev.local.client import ApiClient, ApiError, progress_bar


def client_for(api: str | None, api_key: str | None) -> ApiClient:
    return ApiClient(api, api_key) if api else ApiClient.from_stack()


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values that parse as JSON (numbers, true, lists) keep their type."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ApiError(0, f"--option takes key=value, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def dev(
    host: str,
    port: int,
    workers: int,
    moto_url: str | None,
    api_key: str,
    batch_image: str | None = None,
    sam_local: bool = False,
) -> int:
    from forgesyte_core.observability import logger
    from forgesyte_dev.local import sam_local as sam
    from forgesyte_dev.local.stack import LocalStack, StackConfig

    containers = sam.prepare() if sam_local else None

    config = StackConfig(
        host=host,
        api_port=port,
        moto_url=moto_url,
        api_key=api_key,
        runner_workers=workers,
        batch_image=batch_image,
        extra_env={"POWERTOOLS_LOG_LEVEL": "INFO"},
    )
    if containers is not None:  # moto on the podman bridge, env.json pointing there
        config.moto_host = config.container_host = containers.gateway
    stack = LocalStack(config).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    extra = {"docs": f"{stack.info['api_url']}/docs", "env_json": "env.json"}
    if containers is not None:
        extra |= {"DOCKER_HOST": containers.docker_host, "invoke_image": containers.invoke_image}
    logger.info("serving until Ctrl-C", extra=extra)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        if containers is not None:
            containers.close()
    return 0


def submit(
    client: ApiClient,
    path: Path,
    plugin: str,
    tool: str,
    options: dict[str, Any],
    wait: bool,
    out_file: Path | None,
    out: TextIO,
) -> int:
    created = client.submit(path, plugin, tool, options)
    out.write(f"job {created['job_id']} created\n")
    client.upload(created, path, progress_bar(f"upload {path.name}", sys.stderr))
    if not wait:
        out.write(f"uploaded; follow it with `forgesyte job {created['job_id']}`\n")
        return 0

    def show(job: dict[str, Any]) -> None:
        sys.stderr.write(f"\r{job['status']:<10} {job['progress']:3d}%")
        sys.stderr.flush()

    job = client.wait(created["job_id"], show)
    sys.stderr.write("\n")
    if job["status"] != "completed":
        out.write(f"job {job['job_id']} {job['status']}: {job.get('error_code')}: {job.get('error_message')}\n")
        return 1
    target = out_file or path.with_name(f"{path.stem}.{job['job_id'][:8]}.results.json")
    target.write_text(json.dumps(client.results(job)))
    out.write(json.dumps({"job_id": job["job_id"], "summary": job["summary"], "results": str(target)}) + "\n")
    return 0


def show(data: Any, out: TextIO) -> int:
    out.write(json.dumps(data, indent=2) + "\n")
    return 0
