"""The AWS Batch entrypoint: the runner image's Batch targets run it with the job id.

    python -m forgesyte_core.batch JOB_ID      # the job definition's command is ["Ref::job_id"]

It sits beside the composition root, on top of everything: the runner never imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from forgesyte_core import wiring
from forgesyte_core.compute.dispatch import ARRAY_VARIABLE, MERGE_VARIABLE, SEGMENT_VARIABLE
from forgesyte_core.jobs.model import Backend, JobStatus


def batch_segment(environ: Mapping[str, str]) -> int | None:
    """The segment this container runs: its own job's, or its array child index; None for a whole job."""
    if environ.get(SEGMENT_VARIABLE, "").strip():
        return int(environ[SEGMENT_VARIABLE])
    if environ.get(ARRAY_VARIABLE) == "1" and environ.get("AWS_BATCH_JOB_ARRAY_INDEX", "").strip():
        return int(environ["AWS_BATCH_JOB_ARRAY_INDEX"])
    return None


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the job reached a terminal status here (or was not this run's), 1 when it failed."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m forgesyte_core.batch JOB_ID", file=sys.stderr)
        return 2
    compute = os.environ.get("FORGESYTE_COMPUTE", Backend.BATCH)
    run_id = os.environ.get("AWS_BATCH_JOB_ID")
    segment = batch_segment(os.environ)
    if os.environ.get(MERGE_VARIABLE) == "1":
        job = wiring.segment_runner().merge_job(args[0])
    elif segment is not None:
        job = wiring.segment_runner().run(args[0], segment, compute, run_id or f"batch-{os.getpid()}")
    else:
        job = wiring.runner().run(args[0], compute, run_id)
    return 1 if job is not None and job.status == JobStatus.FAILED else 0


if __name__ == "__main__":
    raise SystemExit(main())
