"""``python -m forgesyte_dev.local.batch JOB_ID``: the local stack's stand-in for an AWS Batch job.

It runs the runner image's Batch entrypoint (``python -m forgesyte_core.runner JOB_ID``) in a child
process, as the job definition does, and when that process fails it sends the reconcile function
the same "Batch Job State Change" FAILED event AWS would.
"""

from __future__ import annotations

import os
import subprocess
import sys

from forgesyte_core.dispatch import batch_job_name


def failed_event(job_id: str, exit_code: int) -> dict[str, object]:
    reason = "Essential container in task exited" if exit_code >= 0 else f"killed by signal {-exit_code}"
    return {
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "detail": {
            "jobName": batch_job_name(job_id),
            "jobId": f"local-{os.getpid()}",
            "status": "FAILED",
            "statusReason": reason,
            "parameters": {"job_id": job_id},
            "container": {"exitCode": exit_code},
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m forgesyte_dev.local.batch JOB_ID", file=sys.stderr)
        return 2
    job_id = args[0]
    env = {**os.environ, "AWS_BATCH_JOB_ID": f"local-{os.getpid()}", "FORGESYTE_COMPUTE": "batch"}
    code = subprocess.call([sys.executable, "-m", "forgesyte_core.runner", job_id], env=env)
    if code != 0:
        from forgesyte_dev.local.invoke import invoke

        invoke("reconcile", failed_event(job_id, code))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
