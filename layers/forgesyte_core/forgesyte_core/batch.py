"""The AWS Batch entrypoint: the runner image's Batch targets run it with the job id.

    python -m forgesyte_core.batch JOB_ID      # the job definition's command is ["Ref::job_id"]

It sits beside the composition root, on top of everything: the runner never imports it.
"""

from __future__ import annotations

import os
import sys

from forgesyte_core import wiring
from forgesyte_core.jobs.model import Backend, JobStatus


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the job reached a terminal status here (or was not this run's), 1 when it failed."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m forgesyte_core.batch JOB_ID", file=sys.stderr)
        return 2
    compute = os.environ.get("FORGESYTE_COMPUTE", Backend.BATCH)
    job = wiring.runner().run(args[0], compute, os.environ.get("AWS_BATCH_JOB_ID"))
    return 1 if job is not None and job.status == JobStatus.FAILED else 0


if __name__ == "__main__":
    raise SystemExit(main())
