"""Routes of the job API: parse the request, make one call into the layer, return its result."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from forgesyte_core import wiring
from forgesyte_core.errors import BadRequest
from forgesyte_core.intake.admission import parse_submit
from forgesyte_core.intake.request_body import body_text, parse_json
from forgesyte_core.jobs.access import caller_of
from forgesyte_core.jobs.model import JobStatus, JobType
from forgesyte_core.observability import metrics
from forgesyte_core.settings import get_settings

router = Router()  # type: ignore[no-untyped-call]


def _submit(job_type: JobType) -> Response[Any]:
    settings = get_settings()
    event = cast(APIGatewayProxyEvent, router.current_event)
    body = parse_json(body_text(event.body, bool(event.is_base64_encoded)))
    request = parse_submit(body, settings.max_options_bytes, settings.max_options_depth)
    key = event.headers.get("Idempotency-Key")  # powertools headers are case-insensitive
    created = wiring.admission().submit(job_type, request, key, _caller())
    # Switched off (the local stack), powertools keeps the values and prints every hundredth batch anyway.
    if not created["replayed"] and not is_metrics_disabled():
        metrics.add_metric(name="JobsSubmitted", unit=MetricUnit.Count, value=1)
    headers = {"Idempotent-Replayed": "true"} if created["replayed"] else {}
    return Response(status_code=201, content_type="application/json", body=created, headers=headers)


@router.post("/v1/video/submit")
def submit_video() -> Response[Any]:
    return _submit(JobType.VIDEO)


@router.post("/v1/image/submit")
def submit_image() -> Response[Any]:
    return _submit(JobType.IMAGE)


def _caller() -> str:
    return caller_of(router.current_event.raw_event.get("requestContext") or {})


@router.get("/v1/jobs/<job_id>")
def get_job(job_id: str) -> dict[str, Any]:
    return wiring.job_access().view(job_id, _caller())


@router.get("/v1/jobs")
def list_jobs() -> dict[str, Any]:
    event = router.current_event
    status_text = event.get_query_string_value("status", "") or ""
    limit_text = event.get_query_string_value("limit", "50") or "50"
    try:
        status = JobStatus(status_text) if status_text else None
    except ValueError:
        raise BadRequest(f"status must be one of {', '.join(s.value for s in JobStatus)}") from None
    # str.isdigit() accepts "²", which int() refuses: only ASCII digits here.
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= 200:
        raise BadRequest("limit must be an integer from 1 to 200")
    return wiring.job_access().list(_caller(), status, int(limit_text), event.get_query_string_value("cursor"))


@router.get("/v1/jobs/<job_id>/result")
def get_result(job_id: str) -> Response[Any]:
    url = wiring.job_access().result_url(job_id, _caller())
    return Response(status_code=302, headers={"Location": url}, body="")


@router.post("/v1/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> dict[str, Any]:
    return wiring.job_access().cancel(job_id, _caller())


# Multipart uploads of large videos (Uppy's S3 multipart contract), one pending job at a time.
@router.post("/v1/jobs/<job_id>/multipart")
def create_multipart(job_id: str) -> Response[Any]:
    created = wiring.multipart().create(job_id, _caller())
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/v1/jobs/<job_id>/multipart/<upload_id>/<part_number>")
def sign_part(job_id: str, upload_id: str, part_number: str) -> dict[str, Any]:
    return wiring.multipart().sign_part(job_id, _caller(), upload_id, part_number)


@router.get("/v1/jobs/<job_id>/multipart/<upload_id>")
def list_parts(job_id: str, upload_id: str) -> dict[str, Any]:
    return {"parts": wiring.multipart().list_parts(job_id, _caller(), upload_id)}


@router.post("/v1/jobs/<job_id>/multipart/<upload_id>/complete")
def complete_multipart(job_id: str, upload_id: str) -> dict[str, Any]:
    event = router.current_event
    body = parse_json(body_text(event.body, bool(event.is_base64_encoded)))
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object: {"parts": [{"PartNumber", "ETag"}]}')
    return wiring.multipart().complete(job_id, _caller(), upload_id, body)


@router.post("/v1/jobs/<job_id>/multipart/<upload_id>/abort")
def abort_multipart(job_id: str, upload_id: str) -> dict[str, Any]:
    return wiring.multipart().abort(job_id, _caller(), upload_id)


@router.get("/v1/plugins")
def list_plugins() -> dict[str, Any]:
    return {"plugins": wiring.catalog().list()}


@router.get("/v1/plugins/<plugin_id>/manifest")
def plugin_manifest(plugin_id: str) -> dict[str, Any]:
    return wiring.catalog().manifest(plugin_id)


@router.get("/v1/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "plugins": len(wiring.catalog().manifests)}
