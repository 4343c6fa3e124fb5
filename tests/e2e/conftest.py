"""A real local stack per module: moto server, gateway on a free port, worker processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from forgesyte_core.plugins.catalog import build_catalog
from forgesyte_dev.local.stack import LocalStack, StackConfig
from tests.helpers import ROOT


@pytest.fixture(autouse=True)
def _environment() -> Iterator[None]:
    """Replaces the root fixture: the stack owns the environment (endpoint, names) for its module."""
    return


@pytest.fixture(scope="module")
def combined_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped plugins plus the test plugins (for slow and crashing jobs)."""
    manifests = [json.loads(p.read_text()) for p in sorted((ROOT / "plugins").glob("*/*/manifest.json"))]
    manifests += [
        json.loads(p.read_text()) for p in sorted((ROOT / "tests/fixtures/test_plugins").glob("*/*/manifest.json"))
    ]
    path = tmp_path_factory.mktemp("catalog") / "catalog.json"
    path.write_text(json.dumps(build_catalog(manifests)))
    return path


def stack_config(base: Path, catalog: Path, **overrides: object) -> StackConfig:
    config = StackConfig(
        state_dir=base / "state",
        env_json=base / "env.json",
        runner_workers=2,
        sweep_interval_s=3600,
        prefix="e2e",
        extra_env={
            "PLUGIN_CATALOG_PATH": str(catalog),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PROGRESS_INTERVAL_S": "0.2",
        },
    )
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, combined_catalog: Path) -> Iterator[LocalStack]:
    base = tmp_path_factory.mktemp("stack")
    running = LocalStack(stack_config(base, combined_catalog)).start()
    for pool in running.pools.values():
        pool.warm()
    try:
        yield running
    finally:
        running.stop()
