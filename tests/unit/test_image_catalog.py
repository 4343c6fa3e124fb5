"""An image with plugins added: its catalog reaches the API without touching the tracked one, and
``forgesyte dev --lambda-image`` runs the runner in that image and lists what it runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from forgesyte_core.plugins import catalog as catalog_module
from forgesyte_dev import cli, images
from forgesyte_dev.local import commands, stack

ADDED = {"plugins": [{"id": "my-plugin", "name": "Mine", "version": "1.0", "tools": []}]}
SHIPPED = {"plugins": [{"id": "motion-tracker", "name": "Motion", "version": "0.1", "tools": []}]}


@pytest.fixture
def layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The layer's catalogs in a scratch folder, and an image whose catalog is ADDED (or SHIPPED)."""
    packaged = tmp_path / "plugin_catalog.json"
    packaged.write_text(json.dumps(SHIPPED))
    monkeypatch.setattr(catalog_module, "PACKAGED_CATALOG", packaged)
    monkeypatch.setattr(catalog_module, "IMAGE_CATALOG", packaged.with_name("plugin_catalog.image.json"))
    by_tag = {images.LAMBDA.tag: SHIPPED, "my-runner:lambda": ADDED}
    monkeypatch.setattr(images, "read_file", lambda tag, path: json.dumps(by_tag[tag]))
    return tmp_path


def test_an_added_images_catalog_goes_beside_the_shipped_one_and_the_api_lists_it(layer: Path) -> None:
    shipped_before = (layer / "plugin_catalog.json").read_text()
    written = images.write_catalog("my-runner:lambda")
    assert written == layer / "plugin_catalog.image.json"
    assert (layer / "plugin_catalog.json").read_text() == shipped_before  # the tracked file is untouched
    assert json.loads(written.read_text())["image"] == "my-runner:lambda"  # says where it came from
    assert list(catalog_module.load_catalog().manifests) == ["my-plugin"]
    assert images.remove_image_catalog() == written
    assert list(catalog_module.load_catalog().manifests) == ["motion-tracker"]
    assert images.remove_image_catalog() is None


def test_the_shipped_images_catalog_is_the_tracked_one(layer: Path) -> None:
    assert images.write_catalog() == layer / "plugin_catalog.json"
    assert not (layer / "plugin_catalog.image.json").exists()


def test_git_ignores_the_exported_image_catalog() -> None:
    """So exporting one never leaves the tree dirty, and `forgesyte catalog --check` stays true."""
    real = Path(catalog_module.__file__).parent.parent / "plugin_catalog.image.json"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(real)], cwd=real.parent, check=False)
    assert ignored.returncode == 0


def test_catalog_check_says_when_the_api_lists_an_image_catalog(
    layer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images.write_catalog("my-runner:lambda")
    cli.main(["catalog", "--check"])
    assert "the API lists plugin_catalog.image.json" in capsys.readouterr().err


class FakeStack:
    """Records the config, then stops at once as SIGTERM would."""

    started: ClassVar[list[stack.StackConfig]] = []
    stopped_as_crash: ClassVar[list[bool]] = []
    on_term: ClassVar[Any] = None

    def __init__(self, config: stack.StackConfig) -> None:
        self.config = config

    def start(self) -> FakeStack:
        FakeStack.started.append(self.config)
        return self

    @property
    def info(self) -> dict[str, str]:
        FakeStack.on_term()  # the stack is up: now Ctrl-C
        return {"api_url": "http://127.0.0.1:1"}

    def stop(self, crash: bool = False) -> None:
        FakeStack.stopped_as_crash.append(crash)


def test_dev_lambda_image_serves_the_work_queue_with_the_image_and_lists_its_plugins(
    layer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setattr("forgesyte_dev.project.project_dir", lambda: project)
    monkeypatch.setattr(stack, "LocalStack", FakeStack)
    recorder = SimpleNamespace(SIGTERM=15, signal=lambda number, handler: setattr(FakeStack, "on_term", handler))
    monkeypatch.setattr(commands, "signal", recorder)
    assert cli.main(["dev", "--lambda-image", "my-runner:lambda", "--port", "0"]) == 0
    config = FakeStack.started[-1]
    assert config.lambda_image == "my-runner:lambda"
    assert FakeStack.stopped_as_crash[-1] is False  # SIGTERM stops it cleanly; only Ctrl-C is a crash-stop
    listed = Path(config.extra_env["PLUGIN_CATALOG_PATH"])
    assert listed.parent == project / ".local-stack"
    assert json.loads(listed.read_text()) == ADDED
