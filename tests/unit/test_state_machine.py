"""The job state machine: which transitions exist, and that terminal statuses are final."""

from __future__ import annotations

import pytest

from forgesyte_core.jobs.model import TERMINAL, JobStatus, can_transition, sources_of

S = JobStatus
ALLOWED = {
    (S.PENDING, S.QUEUED),
    (S.PENDING, S.FAILED),
    (S.PENDING, S.CANCELLED),
    (S.QUEUED, S.RUNNING),
    (S.QUEUED, S.FAILED),
    (S.QUEUED, S.CANCELLED),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
    (S.RUNNING, S.QUEUED),  # a retry after the run died
}


@pytest.mark.parametrize("current", list(JobStatus))
@pytest.mark.parametrize("target", list(JobStatus))
def test_transition_table(current: JobStatus, target: JobStatus) -> None:
    assert can_transition(current, target) == ((current, target) in ALLOWED)


def test_terminal_statuses_have_no_way_out() -> None:
    assert {S.COMPLETED, S.FAILED, S.CANCELLED} == TERMINAL
    for status in TERMINAL:
        assert not any(can_transition(status, target) for target in JobStatus)


def test_sources_of() -> None:
    assert sources_of(S.RUNNING) == (S.QUEUED,)
    assert sources_of(S.FAILED) == (S.PENDING, S.QUEUED, S.RUNNING)
