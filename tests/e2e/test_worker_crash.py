"""A runner worker killed mid-job, in a stack of its own (no other stack shares this process meanwhile)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from forgesyte_dev.local.stack import LocalStack
from forgesyte_dev.synthetic import crossing_scene
from tests.e2e.conftest import stack_config
from tests.e2e.test_local_stack import TERMINAL, client, wait_for

pytestmark = pytest.mark.slow  # one of the files make test starts first


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "scene.mp4"
    crossing_scene(320, 180, seconds=3).write(path)
    return path


def test_a_killed_runner_worker_fails_its_job_alone_and_the_pool_recovers(
    tmp_path: Path, combined_catalog: Path, video: Path
) -> None:
    running_stack = LocalStack(stack_config(tmp_path, combined_catalog, runner_workers=2)).start()
    try:
        pool = running_stack.pools["runner"]
        pool.warm()
        api = client(running_stack)
        jobs = {}
        # One job in each worker; the neighbour's 90 frames take 7 s, long past the kill.
        for name, delay_s in (("victim", 0.5), ("neighbour", 0.08)):
            pid_file = tmp_path / f"{name}.pid"
            options = {"delay_s": delay_s, "pid_file": str(pid_file)}
            created = api.submit(video, "frame-counter", "count_frames", options)
            api.upload(created, video, lambda done, total: None)
            jobs[name] = created["job_id"], pid_file
        deadline = time.monotonic() + 30
        while not all(pid_file.exists() for _, pid_file in jobs.values()):  # both plugins have started
            assert time.monotonic() < deadline
            time.sleep(0.05)
        victim_id, victim_pid_file = jobs["victim"]
        pid = int(victim_pid_file.read_text())
        assert pid in pool.worker_pids()  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        assert api.job(jobs["neighbour"][0])["status"] == "running"  # still running when its neighbour died
        died = wait_for(api, victim_id, TERMINAL, timeout=30)
        assert died["status"] == "failed"
        assert died["error_code"] == "runner_failed"
        assert "runner process died" in died["error_message"]
        # The other worker's invocation is its own, as a Lambda environment's is: it runs to the end, once.
        neighbour = wait_for(api, jobs["neighbour"][0], TERMINAL, timeout=30)
        assert neighbour["status"] == "completed", neighbour
        assert neighbour["attempt"] == 1
        again = api.submit(video, "frame-counter", "count_frames", {})
        api.upload(again, video, lambda done, total: None)
        assert wait_for(api, again["job_id"], TERMINAL)["status"] == "completed"
        assert pool.replaced == 1  # type: ignore[union-attr]
    finally:
        running_stack.stop()


def test_a_killed_worker_running_a_segment_costs_only_that_segment_a_retry(
    tmp_path: Path, combined_catalog: Path
) -> None:
    from tests.media_factory import write_mp4v

    video = write_mp4v(tmp_path / "long.mp4", frames=300, fps=25.0)
    config = stack_config(tmp_path, combined_catalog, runner_workers=1)
    config.extra_env.update({"SEGMENT_MIN_VIDEO_SECONDS": "4", "SEGMENT_SECONDS": "2"})
    running_stack = LocalStack(config).start()
    try:
        pool = running_stack.pools["runner"]
        pool.warm()
        api = client(running_stack)
        pids = tmp_path / "pids"
        pids.mkdir()
        created = api.submit(video, "frame-counter", "count_segment", {"delay_s": 0.02, "pid_dir": str(pids)})
        api.upload(created, video, lambda done, total: None)
        deadline = time.monotonic() + 30
        while not list(pids.iterdir()):  # the first segment has started in the one worker
            assert time.monotonic() < deadline
            time.sleep(0.05)
        victim = next(pids.iterdir())
        os.kill(int(victim.read_text()), signal.SIGKILL)
        done = wait_for(api, created["job_id"], TERMINAL, timeout=60)
        assert done["status"] == "completed", done
        segments = api.results(done)["segments"]
        attempts = {s["decode_from"]: s["attempts"] for s in segments}
        assert attempts.pop(int(victim.name)) == 2  # the killed one ran again
        assert set(attempts.values()) == {1}  # the others once
        assert pool.replaced == 1  # type: ignore[union-attr]
    finally:
        running_stack.stop()
