"""The `forgesyte` command installed on its own, as a user would, in a fresh virtualenv: its declared
dependencies are enough for what it does without the local stack, and what needs the stack says so."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.media_factory import MediaFiles

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def forgesyte(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("cli-venv")
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    constraints = ["-c", str(ROOT / "requirements/constraints.txt")]
    # Not editable and no extras: the wheel's own declared dependencies only.
    subprocess.run([*pip, *constraints, str(ROOT / "layers/forgesyte_core"), str(ROOT)], check=True)
    return env_dir / "bin/forgesyte"


def run(forgesyte: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORGESYTE_")}
    return subprocess.run(
        [str(forgesyte), *args], capture_output=True, text=True, cwd=cwd, env={**clean, **env}, timeout=120
    )


def test_installed_alone_it_helps_probes_and_talks_to_apis(forgesyte: Path, media: MediaFiles, tmp_path: Path) -> None:
    assert run(forgesyte, cwd=tmp_path).stdout.startswith("usage: forgesyte")
    assert run(forgesyte, "--version", cwd=tmp_path).stdout.strip() == "forgesyte 0.1.0"
    probed = run(forgesyte, "probe", str(media.mp4v), cwd=tmp_path)
    assert probed.returncode == 0, probed.stderr
    assert '"ok": true' in probed.stdout
    listed = run(forgesyte, "plugins", cwd=tmp_path)
    assert listed.returncode == 0
    assert "no ForgeSyte plugins installed here" in listed.stdout
    unreachable = run(forgesyte, "jobs", cwd=tmp_path, FORGESYTE_API_URL="http://127.0.0.1:9", FORGESYTE_API_KEY="k")
    assert unreachable.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in unreachable.stderr
    no_stack = run(forgesyte, "jobs", cwd=tmp_path)
    assert "no template.yaml here or above" in no_stack.stderr


def test_the_local_stack_asks_for_its_extra(forgesyte: Path, tmp_path: Path) -> None:
    dev = run(forgesyte, "dev", cwd=ROOT / "functions")  # found by looking upward for template.yaml
    assert dev.returncode == 1
    assert "pip install 'forgesyte-dev[local]'" in dev.stderr
