"""``python -m forgesyte_dev.mutants``: loosen each race guard on purpose and check a test fails.

Each mutant is a one-line change to the layer that a concurrency bug would make; the file is
restored afterwards whatever happens. Exit 0 only when every mutant is caught ("killed").
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from forgesyte_dev.template import ROOT

LAYER = ROOT / "layers/forgesyte_core/forgesyte_core"
TESTS = [
    "tests/integration/test_races.py",
    "tests/integration/test_store.py",
    "tests/integration/test_reconcile.py",
    "tests/integration/test_pipeline.py",
]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    mutated: str


MUTANTS = [
    Mutant(
        "the store's transition ignores the caller's expected statuses",
        "jobs/store.py",
        "allowed = expected if expected is not None else sources_of(target)",
        "allowed = sources_of(target)",
    ),
    Mutant(
        "ingest's queued write accepts an already-queued job",
        "intake/ingest.py",
        "job.job_id, JobStatus.QUEUED, expected=(JobStatus.PENDING,), media=media, input_etag=etag",
        "job.job_id, JobStatus.QUEUED, expected=(JobStatus.PENDING, JobStatus.QUEUED), media=media, input_etag=etag",
    ),
    Mutant(
        "the runner's claim accepts a running job",
        "compute/runner.py",
        "JobStatus.RUNNING, expected=(JobStatus.QUEUED,), **values)",
        "JobStatus.RUNNING, expected=(JobStatus.QUEUED, JobStatus.RUNNING), **values)",
    ),
    Mutant(
        "the heartbeat cutoff multiplied by 10",
        "jobs/reconcile.py",
        "heartbeat_cutoff = now - timedelta(seconds=s.heartbeat_timeout_s)",
        "heartbeat_cutoff = now - timedelta(seconds=s.heartbeat_timeout_s * 10)",
    ),
]


def killed(mutant: Mutant) -> bool:
    path = LAYER / mutant.file
    source = path.read_text()
    if source.count(mutant.original) != 1:
        raise SystemExit(f"mutant {mutant.name!r}: the line to change is not in {path} exactly once")
    path.write_text(source.replace(mutant.original, mutant.mutated))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:logging", *TESTS], cwd=ROOT, capture_output=True
        )
    finally:
        path.write_text(source)
    return done.returncode != 0


def main() -> int:
    survivors = []
    for mutant in MUTANTS:
        caught = killed(mutant)
        print(f"{'killed  ' if caught else 'SURVIVED'} {mutant.name}")
        if not caught:
            survivors.append(mutant.name)
    print(f"{len(MUTANTS) - len(survivors)} of {len(MUTANTS)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
