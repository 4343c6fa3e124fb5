"""The API's own metric (JobsSubmitted) where metrics are switched off, as the local stack runs."""

from __future__ import annotations

import pytest

from tests.helpers import Aws
from tests.integration.pipeline import submit


def test_switched_off_metrics_print_nothing_however_many_jobs(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    """Powertools prints a metric's values once it holds 100 of them, even switched off: the local
    stack's API printed a JSON line every hundred submits until it stopped adding them."""
    capsys.readouterr()
    for _ in range(101):
        assert submit("video", "frame-counter", "count_frames", b"0" * 5000, "video/mp4")["job_id"]
    assert '"_aws"' not in capsys.readouterr().out
