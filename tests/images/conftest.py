"""The runner images, built once per session with podman (cached layers make a rebuild seconds).

Where podman cannot run (not root, not Linux, tools missing) every test here skips and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from forgesyte_dev import images
from forgesyte_dev.local.stack import LocalStack, StackConfig
from tests.helpers import ROOT

THIRD_PARTY_PLUGIN = ROOT / "tests/fixtures/third_party_plugin"
THIRD_PARTY_IMAGE = "localhost/forgesyte-runner:lambda-third-party"


@pytest.fixture(autouse=True)
def _environment() -> Iterator[None]:
    """Replaces the root fixture: the local stacks here own the environment."""
    return


@pytest.fixture(scope="session")
def built() -> dict[str, float]:
    """Build seconds per image tag: the Lambda and Batch CPU images from this working tree."""
    reason = images.unavailable_reason()
    if reason:
        pytest.skip(f"runner images cannot be built here: {reason}")
    base = images.ensure_base()
    return {target.tag: images.build(target, base) for target in (images.LAMBDA, images.BATCH_CPU)}


@pytest.fixture(scope="session")
def third_party_image(built: dict[str, float]) -> str:
    images.add_plugin(images.LAMBDA.tag, THIRD_PARTY_PLUGIN, THIRD_PARTY_IMAGE)
    return THIRD_PARTY_IMAGE


def start_stack(base: Path, **config: object) -> LocalStack:
    stack_config = StackConfig(
        state_dir=base / "state",
        env_json=None,
        sweep_interval_s=3600,
        prefix="images",
        extra_env={"POWERTOOLS_LOG_LEVEL": "WARNING", "PROGRESS_INTERVAL_S": "0.2"},
    )
    for name, value in config.items():
        if name == "extra_env":
            stack_config.extra_env.update(value)  # type: ignore[arg-type]
        else:
            setattr(stack_config, name, value)
    return LocalStack(stack_config).start()
