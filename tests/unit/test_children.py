"""Ctrl-C while the stack starts a child: held until the child has started, then raised, so what was
started can be stopped (CI once saw a KeyboardInterrupt land inside ``Process.start()``; the moto
server's case is in test_moto_server.py)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from forgesyte_dev.local.children import ctrl_c_blocked


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
