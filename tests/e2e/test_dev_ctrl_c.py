"""Ctrl-C on `forgesyte dev`, as a terminal sends it: SIGINT to the whole process group, the stack's
children (moto, the function workers) included. Whether it comes while the stack starts or while it
serves, the command ends at once, prints no traceback, and leaves no process of its own running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

FORGESYTE = Path(sys.executable).with_name("forgesyte")


def _alive_in_session(session: int) -> list[str]:
    """The processes of a session that have not exited (zombies waiting to be reaped have)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            stat = (entry / "stat").read_text()
        except (OSError, ProcessLookupError):
            continue  # gone while we looked
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.append(stat[:80])
    return alive


def _children_started(session: int) -> bool:
    return len(_alive_in_session(session)) >= 3  # the command, multiprocessing's tracker, one child


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`forgesyte dev` in a project of its own (its state folder apart from the checkout's), in a
    session of its own, so its process group is what a terminal's Ctrl-C would reach."""
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FORGESYTE_", "AWS_"))}
    process = subprocess.Popen(
        [str(FORGESYTE), "dev", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean, "FORGESYTE_PROJECT_DIR": str(tmp_path)},
        start_new_session=True,
    )
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _ctrl_c(process: subprocess.Popen[str]) -> tuple[str, float]:
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output, time.monotonic() - sent


def test_ctrl_c_while_the_stack_starts_stops_what_it_started(dev: subprocess.Popen[str]) -> None:
    assert _wait_until(lambda: _children_started(dev.pid), 60), "no child process started"
    output, took_s = _ctrl_c(dev)
    assert dev.returncode == 130, output
    assert "Traceback" not in output, output
    assert "KeyboardInterrupt" not in output, output
    assert took_s < 10, f"it took {took_s:.1f} s to stop"
    assert _wait_until(lambda: not _alive_in_session(dev.pid), 5), _alive_in_session(dev.pid)


def test_ctrl_c_while_serving_stops_the_stack_and_its_children(dev: subprocess.Popen[str]) -> None:
    assert dev.stdout is not None
    for line in dev.stdout:
        if "serving until Ctrl-C" in line:
            break
    else:
        pytest.fail(f"the stack ended before serving (exit code {dev.wait()})")
    output, took_s = _ctrl_c(dev)
    assert dev.returncode == 0, output
    assert "Traceback" not in output, output
    assert "KeyboardInterrupt" not in output, output
    assert '"local stack stopped"' in output
    assert took_s < 10, f"it took {took_s:.1f} s to stop"
    assert _wait_until(lambda: not _alive_in_session(dev.pid), 5), _alive_in_session(dev.pid)
