"""The local stack's moto server in its own process: it serves, it says why it cannot, it never outlives the stack."""

from __future__ import annotations

import multiprocessing.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from forgesyte_dev.local.moto_server import MotoServer

KEYS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": "us-east-1"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def test_it_serves_moto_with_the_patches_and_stop_ends_it() -> None:
    server = MotoServer("127.0.0.1")
    url = server.start()
    pid = server.pid
    assert pid is not None
    assert pid != os.getpid()
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=url, **KEYS)
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}, "b": {"B": b"\x00\xff"}})
        assert dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["b"] == {"B": b"\x00\xff"}
    finally:
        server.stop()
    assert not _alive(pid)
    assert server.pid is None


def test_a_port_in_use_is_an_error_that_names_it() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(RuntimeError, match=f"could not listen on 127.0.0.1:{port}"):
            MotoServer("127.0.0.1", port).start()
    finally:
        taken.close()


def test_it_exits_when_the_stack_s_process_dies_without_stopping_it() -> None:
    starter = (
        "from forgesyte_dev.local.moto_server import MotoServer\n"
        "if __name__ == '__main__':\n"
        "    server = MotoServer('127.0.0.1'); server.start(); print(server.pid, flush=True)\n"
        "    import time; time.sleep(60)\n"
    )
    stack = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    try:
        assert stack.stdout is not None
        moto_pid = int(stack.stdout.readline())
        assert _alive(moto_pid)
        stack.kill()  # SIGKILL: no atexit, no stop()
        stack.wait()
        deadline = time.monotonic() + 10
        while _alive(moto_pid):
            assert time.monotonic() < deadline, "the moto server outlived the stack"
            time.sleep(0.05)
    finally:
        stack.kill()


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


def test_a_start_that_fails_before_the_child_exists_still_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    def fork_fails(*_args: Any) -> int:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.util, "spawnv_passfds", fork_fails)
    server = MotoServer("127.0.0.1")
    with pytest.raises(OSError, match="temporarily unavailable"):
        server.start()
    server.stop()  # a Process never started can be neither joined nor killed
    assert server.pid is None
