"""A small burst on the local stack: 40 jobs from 8 clients at once, 10 S3 events delivered twice.
None is lost, none runs twice, and listing the jobs returns each once (the speed figures are
``make bench``'s, from 500 jobs)."""

from __future__ import annotations

from pathlib import Path

from forgesyte_dev.loadtest import Burst, run_burst
from forgesyte_dev.local.stack import LocalStack


def test_a_burst_loses_nothing_and_runs_nothing_twice(stack: LocalStack, tmp_path: Path) -> None:
    from tests.media_factory import write_mp4v

    video = write_mp4v(tmp_path / "clip.mp4", frames=10, size=(160, 120))
    report = run_burst(
        stack.info,
        stack.label,
        stack.config.state_dir / "events.jsonl",
        video,
        Burst(jobs=40, clients=8, duplicate_events=10, deadline_s=240),
    )
    assert report.submitted == 40
    assert report.duplicate_events_sent == 10
    assert report.lost == []
    assert report.run_twice == []
    assert report.listed_twice == []
    assert report.completed == 40
    assert set(report.stages_s) == {"upload", "validate", "queue_wait", "run", "submit_to_completed"}
