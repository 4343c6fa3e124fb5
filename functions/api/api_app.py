"""API function: the REST resolver, CORS from settings, and the one map from errors to HTTP."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from forgesyte_core.errors import (
    BadRequest,
    Conflict,
    ForgeSyteError,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
)
from forgesyte_core.observability import logger, metrics
from forgesyte_core.settings import get_settings

from api_routes import router

STATUS_CODES: dict[type[ForgeSyteError], int] = {
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    Unprocessable: 422,
}


def status_for(error: ForgeSyteError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def _error(status: int, detail: str) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body={"detail": detail})


@lru_cache(maxsize=1)
def build_app() -> APIGatewayRestResolver:
    origins = list(get_settings().cors_origins)
    cors = None
    if origins:
        cors = CORSConfig(
            allow_origin=origins[0],
            extra_origins=origins[1:],
            allow_headers=["Content-Type", "X-API-Key", "Idempotency-Key"],
            expose_headers=["Idempotent-Replayed"],
            max_age=600,
        )
    app = APIGatewayRestResolver(cors=cors)
    app.include_router(router)

    @app.exception_handler(ForgeSyteError)  # type: ignore[untyped-decorator]
    def domain_error(error: ForgeSyteError) -> Response[Any]:
        return _error(status_for(error), error.message)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def unexpected(error: Exception) -> Response[Any]:
        # A bug or an outage, not the caller's fault: a JSON 500 with the id to look up, never a
        # dropped connection (API Gateway's 502 when the function raises).
        logger.exception("unhandled error")
        request_id = app.current_event.request_context.request_id
        return _error(500, f"internal error ({type(error).__name__}); request id {request_id}")

    @app.not_found
    def not_found(_: Exception) -> Response[Any]:
        return _error(404, f"no route for {app.current_event.http_method} {app.current_event.path}")

    return app


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return build_app().resolve(event, context)
