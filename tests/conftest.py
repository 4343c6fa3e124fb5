"""Fixtures: a moto AWS built from template.yaml, media files made here, handler modules on the path."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media_factory
from tests.helpers import ROOT, Aws

# The fixture plugins (frame-counter, text-reader, crasher, broken) are hidden from users; the tests,
# and the local stacks and workers they start, see them.
os.environ["FORGESYTE_TEST_PLUGINS"] = "1"

for function_dir in sorted((ROOT / "functions").iterdir()):
    if function_dir.is_dir() and str(function_dir) not in sys.path:
        sys.path.insert(0, str(function_dir))


# The longest files in make test's durations (2 workers), longest first.
LONGEST_FILES = (
    "tests/images/test_images.py",
    "tests/images/test_sam_local.py",
    "tests/e2e/test_browser.py",
    "tests/e2e/test_local_stack.py",
    "tests/plugins/test_motion_tracker.py",
    "tests/e2e/test_cli_install.py",
    "tests/e2e/test_worker_crash.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, then the other files with slow tests: with `--no-loadscope-reorder`
    xdist hands files out in this order, so the long ones start at once and the short ones fill in
    around them, rather than one long file starting last and running alone."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        if path in LONGEST_FILES:
            return LONGEST_FILES.index(path)
        return len(LONGEST_FILES) if path in slow else len(LONGEST_FILES) + 1

    items.sort(key=rank)


def _reset() -> None:
    from forgesyte_core import clients, settings, wiring
    from forgesyte_core.plugins import catalog

    settings.reset_settings()
    clients.reset_clients()
    wiring.reset()
    catalog._load.cache_clear()
    if "api_app" in sys.modules:
        sys.modules["api_app"].build_app.cache_clear()


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _reset()
    yield
    _reset()


@pytest.fixture
def test_catalog(tmp_path: Path) -> Path:
    """A catalog of the test plugins' manifests (the packaged one lists the shipped plugins)."""
    from forgesyte_core.plugins.catalog import build_catalog

    base = ROOT / "tests/fixtures/test_plugins/forgesyte_test_plugins"
    manifests = [json.loads(p.read_text()) for p in sorted(base.glob("*/manifest.json"))]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(build_catalog(manifests)))
    return path


@pytest.fixture
def aws(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, test_catalog: Path
) -> Iterator[Aws]:
    """``@pytest.mark.template_parameters(Name="value")`` deploys with those parameter values."""
    import boto3
    from moto import mock_aws

    from forgesyte_dev.template import provision

    marker = request.node.get_closest_marker("template_parameters")
    overrides = dict(marker.kwargs) if marker else {}
    with mock_aws():
        s3, sqs, dynamodb = (boto3.client(name, region_name="us-east-1") for name in ("s3", "sqs", "dynamodb"))
        stack = provision(s3, dynamodb, sqs, prefix="test", overrides=overrides)
        for name, value in stack.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PLUGIN_CATALOG_PATH", str(test_catalog))
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.setenv("WORK_DIR", str(work))
        # A progress write at most every 0.25 s, as the stack writes one every 2 s: a write a frame
        # made each segmented test take 15 s of moto calls. Tests about every write use every_progress.
        monkeypatch.setenv("PROGRESS_INTERVAL_S", "0.25")
        _reset()
        yield Aws(s3=s3, sqs=sqs, dynamodb=dynamodb, stack=stack)


@pytest.fixture
def every_progress(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every progress callback writes (and so sees a cancel at once)."""
    monkeypatch.setenv("PROGRESS_INTERVAL_S", "0")
    _reset()


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> media_factory.MediaFiles:
    return media_factory.MediaFiles(tmp_path_factory.mktemp("media"))


@pytest.fixture
def atomic_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's per-item atomicity for moto in-process (the local stack's server has it always), so
    tests of concurrent writes test our conditions, not moto's missing lock."""
    from forgesyte_dev.local.moto_patches import make_dynamodb_atomic

    make_dynamodb_atomic(monkeypatch.setattr)
