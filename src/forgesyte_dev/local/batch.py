"""``python -m forgesyte_dev.local.batch [--image IMAGE] JOB_ID``: the local stand-in for an AWS Batch job.

With ``--image`` it runs the Batch image as AWS Batch does: the image's own entrypoint, exactly the
job definition's ``Command`` from template.yaml with ``Ref::job_id`` filled in, and only the
variables the job definition sets (plus credentials and the local endpoint). Without it, it runs
the same entrypoint (``python -m forgesyte_core.batch JOB_ID``) in a child process. Either way,
when the job fails it sends the reconcile function the "Batch Job State Change" FAILED event AWS would.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from forgesyte_core.compute.dispatch import ARRAY_VARIABLE, MERGE_VARIABLE, SEGMENT_VARIABLE, batch_job_name

# What every container gets from its task role and region in AWS; locally, the stack's values.
OVERRIDDEN = (SEGMENT_VARIABLE, ARRAY_VARIABLE, MERGE_VARIABLE)
PASSED_THROUGH = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION")


def overrides() -> dict[str, str]:
    """What the launcher's containerOverrides set (a segment, an array child, a merge), as Batch passes them."""
    return {name: os.environ[name] for name in OVERRIDDEN if os.environ.get(name)}


def failed_event(job_id: str, run_id: str, exit_code: int) -> dict[str, object]:
    reason = "Essential container in task exited" if exit_code >= 0 else f"killed by signal {-exit_code}"
    return {
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "detail": {
            "jobName": batch_job_name(job_id),
            "jobId": run_id,
            "status": "FAILED",
            "statusReason": reason,
            "parameters": {"job_id": job_id},
            "container": {
                "exitCode": exit_code,
                "environment": [{"name": name, "value": value} for name, value in overrides().items()],
            },
        },
    }


def job_definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    from forgesyte_dev.template import load_template

    resources = (template or load_template())["Resources"]
    properties: dict[str, Any] = resources["BatchJobDefinition"]["Properties"]["ContainerProperties"]
    return properties


def container_command(job_id: str, definition: dict[str, Any]) -> list[str]:
    """The job definition's Command with its ``Ref::`` parameters substituted, as Batch does."""
    return [job_id if part == "Ref::job_id" else str(part) for part in definition["Command"]]


def container_environment(run_id: str, definition: dict[str, Any]) -> dict[str, str]:
    """The job definition's variables: literal values as written, references as the stack resolved them."""
    values = {name: os.environ.get(name, "") for name in PASSED_THROUGH}
    for entry in definition.get("Environment", []):
        literal = isinstance(entry["Value"], str | int | float)
        values[entry["Name"]] = str(entry["Value"]) if literal else os.environ.get(entry["Name"], "")
    return {**values, "AWS_BATCH_JOB_ID": run_id}


def run_image(image: str, job_id: str, run_id: str) -> int:
    from forgesyte_dev.images import podman

    definition = job_definition()
    variables = {**container_environment(run_id, definition), **overrides()}
    env_args = [arg for name, value in variables.items() for arg in ("-e", f"{name}={value}")]
    # Host networking: the container reaches the local stack's moto server at the same address.
    name = f"forgesyte-batch-{job_id}" + "".join(f"-{v}" for v in overrides().values())  # one per segment
    done = podman(
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "host",
        *env_args,
        image,
        *container_command(job_id, definition),
        check=False,
    )
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forgesyte_dev.local.batch")
    parser.add_argument("--image", help="run this Batch image with podman instead of a local process")
    parser.add_argument("job_id")
    args = parser.parse_args(argv)
    run_id = f"local-{os.getpid()}"
    if args.image:
        code = run_image(args.image, args.job_id, run_id)
    else:
        env = {**os.environ, "AWS_BATCH_JOB_ID": run_id, "FORGESYTE_COMPUTE": "batch"}
        code = subprocess.call([sys.executable, "-m", "forgesyte_core.batch", args.job_id], env=env)
    if code != 0:
        from forgesyte_dev.local.invoke import invoke

        invoke("reconcile", failed_event(args.job_id, run_id, code))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
