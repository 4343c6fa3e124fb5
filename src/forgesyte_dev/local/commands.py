"""``forgesyte dev``: the embedded local stack, until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stack's modules import boto3: only `forgesyte dev` pays for them
    from forgesyte_dev.local.sam_local import SamLocal
    from forgesyte_dev.local.stack import StackConfig


def dev(
    host: str,
    port: int,
    workers: int,
    moto_url: str | None,
    api_key: str,
    batch_image: str | None = None,
    sam_local: bool = False,
    expose_api_key: bool = False,
    api_workers: int = 4,
    lambda_image: str | None = None,
) -> int:
    from forgesyte_dev.local import sam_local as sam
    from forgesyte_dev.local.stack import StackConfig
    from forgesyte_dev.project import project_dir

    project = project_dir()
    extra_env = {"POWERTOOLS_LOG_LEVEL": "INFO"}
    if lambda_image:  # the API lists what the image runs, as after exporting its catalog for a deploy
        extra_env["PLUGIN_CATALOG_PATH"] = str(image_catalog(lambda_image, project / ".local-stack"))
    config = StackConfig(
        state_dir=project / ".local-stack",
        web_root=project / "web" / "dist",
        env_json=project / "env.json",
        host=host,
        api_port=port,
        moto_url=moto_url,
        api_key=api_key,
        runner_workers=workers,
        api_workers=api_workers,
        batch_image=batch_image,
        lambda_image=lambda_image,
        expose_api_key=expose_api_key,
        extra_env=extra_env,
    )
    containers = sam.prepare() if sam_local else None  # from here on, closed however the command ends
    if containers is not None:  # moto on the podman bridge, env.json pointing there
        config.moto_host = config.container_host = containers.gateway
        config.functions_by_sam = True  # ingest and the runner: `forgesyte sam-events`, then sam local invoke
    try:
        return _serve(config, containers)
    finally:
        if containers is not None:
            containers.close()


def _serve(config: StackConfig, containers: SamLocal | None) -> int:
    """Start the stack and serve until SIGTERM or Ctrl-C; whenever Ctrl-C comes, stop what started."""
    from forgesyte_core.observability import logger
    from forgesyte_dev.local.stack import LocalStack

    try:
        stack = LocalStack(config).start()
    except KeyboardInterrupt:  # start() has already stopped what it started
        logger.info("interrupted while starting; nothing is left running")
        return 130
    interrupted = False
    try:
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        extra = {"docs": f"{stack.info['api_url']}/docs", "env_json": "env.json"}
        if containers is not None:
            extra |= {
                "DOCKER_HOST": containers.docker_host,
                "invoke_image": containers.invoke_image,
                "ingest_and_runner": "invoked by you: `forgesyte sam-events` writes their events from the queues",
            }
        logger.info("serving until Ctrl-C", extra=extra)
        stopped.wait()
    except KeyboardInterrupt:  # the workers ignore Ctrl-C: what they run is cut short here (retried at the next start)
        interrupted = True
    finally:
        stack.stop(crash=interrupted)
    return 0


def image_catalog(image: str, state_dir: Path) -> Path:
    """The runner image's own plugin catalog, copied out of it into the stack's state folder."""
    from forgesyte_dev.images import copy_catalog

    return copy_catalog(image, state_dir / "lambda-image-catalog.json")
