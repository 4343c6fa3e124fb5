"""Ctrl-C while the stack starts a child: held until the child has started, then raised, so what was
started can be stopped (CI once saw a KeyboardInterrupt land inside ``Process.start()``)."""

from __future__ import annotations

import multiprocessing.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forgesyte_dev.local.children import ctrl_c_blocked
from forgesyte_dev.local.moto_server import MotoServer


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def another_thread() -> Iterator[None]:
    """A thread that does not block SIGINT, as the stack has (its warm-up, its pollers): the kernel
    gives it the signal the main thread blocks, and Python then runs the handler on the main thread."""
    done = threading.Event()
    thread = threading.Thread(target=done.wait, daemon=True)
    thread.start()
    yield
    done.set()
    thread.join()


def _ctrl_c_inside(steps: list[str]) -> None:
    with ctrl_c_blocked():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # long enough for a handler to have run, were it going to
        steps.append("finished inside")


@pytest.mark.usefixtures("another_thread")
def test_a_ctrl_c_inside_is_raised_on_the_way_out_and_the_handler_is_put_back() -> None:
    handler = signal.getsignal(signal.SIGINT)
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _ctrl_c_inside(steps)
    assert steps == ["finished inside"]
    assert signal.getsignal(signal.SIGINT) is handler


def test_without_a_ctrl_c_nothing_is_raised() -> None:
    handler = signal.getsignal(signal.SIGINT)
    with ctrl_c_blocked():
        pass
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.mark.usefixtures("another_thread")
def test_a_ctrl_c_as_moto_spawns_leaves_a_server_that_stop_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[int] = []
    spawn = multiprocessing.util.spawnv_passfds

    def spawn_then_ctrl_c(*args: Any) -> int:
        pid: int = spawn(*args)
        spawned.append(pid)
        os.kill(os.getpid(), signal.SIGINT)  # where CI's came: the child exists, its work not yet sent
        return pid

    monkeypatch.setattr(multiprocessing.util, "spawnv_passfds", spawn_then_ctrl_c)
    server = MotoServer("127.0.0.1")
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert server.pid == spawned[0]  # the start finished before Ctrl-C was raised
    server.stop()
    assert not _alive(spawned[0])
    assert server.pid is None


def test_stop_of_a_server_never_started_does_nothing() -> None:
    server = MotoServer("127.0.0.1")
    server.stop()
    assert server.pid is None
