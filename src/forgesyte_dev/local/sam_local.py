"""What `sam local invoke` and `sam local start-api` need on a machine with podman and no Docker.

- podman's Docker-compatible API (``podman system service``) on a socket: SAM's ``DOCKER_HOST``;
- the Debian base tagged as the registry base the Dockerfile names, so ``sam build`` builds the
  runner image offline, and a stand-in for AWS's Lambda Python image (``--invoke-image``) to run
  zip functions on;
- the podman bridge up (a small keeper container), so the local stack's moto server can listen on
  the bridge's gateway address, on this machine only. Containers are given that address itself:
  moto reads a dotted host name such as ``host.containers.internal`` as a virtual-hosted bucket.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from forgesyte_dev import images

SOCKET = Path("/run/forgesyte/podman.sock")
KEEPER = "forgesyte-bridge"
# The registry base the Dockerfile names by default; locally, the Debian base stands in for it.
REGISTRY_BASE = "public.ecr.aws/docker/library/python:3.11-slim-bookworm"
SAM_FLAGS = ("--skip-pull-image",)


@dataclass
class SamLocal:
    docker_host: str  # DOCKER_HOST for sam
    gateway: str  # the bridge address moto listens on
    invoke_image: str  # --invoke-image for zip functions
    service: subprocess.Popen[bytes] | None = None  # set when prepare() started it
    started_keeper: bool = False

    def sam_env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.docker_host, "SAM_CLI_TELEMETRY": "0"}

    def close(self) -> None:
        """Stop what prepare() started; what was already running stays."""
        if self.started_keeper:
            images.podman("rm", "--force", "--time", "0", KEEPER, check=False, capture=True)
        if self.service is not None:
            self.service.terminate()
            self.service.wait(timeout=30)


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def podman_service(path: Path = SOCKET) -> subprocess.Popen[bytes] | None:
    """Start podman's Docker API on ``path`` unless it already answers; the process, if started here."""
    service = None
    if not _answers(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{path}"],
            env=images.podman_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # outlives this process, as a daemon would
        )
        deadline = time.monotonic() + 30
        while not _answers(path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not answer on {path}")
            time.sleep(0.2)
    return service


def bridge_gateway(image: str) -> tuple[str, bool]:
    """Keep one container on podman's default network so its bridge exists.

    Returns the gateway address, and whether the keeper container was started here.
    """
    running = images.podman("ps", "--quiet", "--filter", f"name=^{KEEPER}$", capture=True).stdout.strip()
    if not running:
        images.podman("rm", "--force", KEEPER, check=False, capture=True)
        images.podman(
            "run", "--detach", "--rm", "--name", KEEPER, "--entrypoint", "sleep", image, "infinity", capture=True
        )
    network = json.loads(images.podman("network", "inspect", "podman", capture=True).stdout)[0]
    gateway: str = network["subnets"][0]["gateway"]
    return gateway, not running


def prepare() -> SamLocal:
    """Everything above, made or started once and reused."""
    base = images.ensure_base()
    images.podman("tag", base, REGISTRY_BASE)
    if not images.image_exists(images.LAMBDA_PYTHON):
        images.build_lambda_python(base)
    service = podman_service()
    gateway, started_keeper = bridge_gateway(images.LAMBDA_PYTHON)
    return SamLocal(f"unix://{SOCKET}", gateway, images.LAMBDA_PYTHON, service, started_keeper)
