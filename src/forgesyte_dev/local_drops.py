"""The local stack's S3-drop jobs, for the person running it.

A drop's job belongs to the drop owner, not to an API key, so the API lists it for no caller; in AWS
an operator follows drops on the job event bus. Locally that person owns the stack, so these read
its table directly and answer in the API's shapes (`forgesyte jobs --drops`, and `forgesyte job` on
a drop job's id or a unique start of it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from forgesyte_dev.client import FULL_ID_LENGTH, ApiError
from forgesyte_dev.local.outputs import FAKE_CREDENTIALS


@contextmanager
def _on_stack(state: dict[str, Any]) -> Iterator[Any]:
    """forgesyte_core's job access pointed at the stack's moto server; the environment restored after."""
    from forgesyte_core import clients, settings, wiring

    values = {
        "JOBS_TABLE": state["table"],
        "MEDIA_BUCKET": state["bucket"],
        "AWS_ENDPOINT_URL": state["moto_url"],
        "AWS_DEFAULT_REGION": state["region"],
        **FAKE_CREDENTIALS,
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)

    def reset() -> None:
        settings.reset_settings()
        clients.reset_clients()
        wiring.reset()

    reset()
    try:
        yield wiring.job_access()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset()


def list_drop_jobs(state: dict[str, Any], status: str | None, limit: int) -> dict[str, Any]:
    from forgesyte_core.intake.drops import DROP_OWNER
    from forgesyte_core.jobs.model import JobStatus

    with _on_stack(state) as access:
        listing: dict[str, Any] = access.list(DROP_OWNER, JobStatus(status) if status else None, limit, None)
    return listing


def view_drop_job(state: dict[str, Any], given: str) -> dict[str, Any]:
    """A drop job by its id or a unique start of it; ApiError 404 when no drop job has it."""
    from forgesyte_core.errors import NotFound
    from forgesyte_core.intake.drops import DROP_OWNER

    job_id = given
    if len(given) < FULL_ID_LENGTH:
        ids = [j["job_id"] for j in list_drop_jobs(state, None, 1000)["jobs"] if j["job_id"].startswith(given)]
        if len(ids) != 1:
            what = "no job" if not ids else f"{len(ids)} jobs"
            raise ApiError(404 if not ids else 409, f"{what} of yours or the local drops' starts {given!r}")
        job_id = ids[0]
    with _on_stack(state) as access:
        try:
            view: dict[str, Any] = access.view(job_id, DROP_OWNER)
        except NotFound as exc:
            raise ApiError(404, f"no job {given!r}, yours or the local drops' (see `forgesyte jobs --drops`)") from exc
    return view
