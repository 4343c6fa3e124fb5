"""The API's routes and CORS as template.yaml declares them, and an OpenAPI document built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from forgesyte_dev.template import load_template

SUMMARIES = {
    ("POST", "/v1/video/submit"): "Create a video job; returns job_id and a presigned POST for the upload",
    ("POST", "/v1/image/submit"): "Create an image job; returns job_id and a presigned POST for the upload",
    ("GET", "/v1/jobs"): "List jobs (status, limit, cursor)",
    ("GET", "/v1/jobs/{job_id}"): "A job's status, progress, error, media, summary and result_url",
    ("GET", "/v1/jobs/{job_id}/result"): "Redirect to the job's results JSON",
    ("POST", "/v1/jobs/{job_id}/cancel"): "Cancel a job that has not ended",
    ("GET", "/v1/plugins"): "Plugins in the catalog",
    ("GET", "/v1/plugins/{plugin_id}/manifest"): "One plugin's manifest",
    ("GET", "/v1/health"): "Liveness (no API key needed)",
}
SUBMIT_BODY = {
    "type": "object",
    "required": ["plugin_id", "tool", "content_type", "content_length"],
    "properties": {
        "plugin_id": {"type": "string"},
        "tool": {"type": "string"},
        "content_type": {"type": "string", "example": "video/mp4"},
        "content_length": {"type": "integer", "minimum": 1},
        "options": {"type": "object"},
    },
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template: /v1/jobs/{job_id}
    api_key_required: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


def api_routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load_template()
    api = template["Resources"]["Api"]["Properties"]
    default_key = bool(api.get("Auth", {}).get("ApiKeyRequired", False))
    routes = []
    for event in template["Resources"]["ApiFunction"]["Properties"]["Events"].values():
        props = event["Properties"]
        required = props.get("Auth", {}).get("ApiKeyRequired", default_key)
        routes.append(Route(props["Method"].upper(), props["Path"], bool(required)))
    return routes


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


def cors_headers(template: dict[str, Any], origins: list[str]) -> dict[str, str]:
    """The preflight answer API Gateway gives for the Api's Cors settings (quotes stripped)."""
    cors = template["Resources"]["Api"]["Properties"]["Cors"]
    return {
        "Access-Control-Allow-Origin": origins[0] if origins else "*",
        "Access-Control-Allow-Headers": cors["AllowHeaders"].strip("'"),
        "Access-Control-Allow-Methods": cors["AllowMethods"].strip("'"),
        "Access-Control-Max-Age": cors["MaxAge"].strip("'"),
    }


def openapi(routes: list[Route], server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": SUMMARIES.get((route.method, route.path), ""),
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"\{(\w+)\}", route.path)
            ],
            "responses": {"200": {"description": "OK"}, "4XX": {"description": '{"detail": "..."}'}},
        }
        if route.path.endswith("/submit"):
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": SUBMIT_BODY}}}
            operation["responses"] = {"201": {"description": "Created"}, "4XX": {"description": '{"detail": "..."}'}}
        if route.api_key_required:
            operation["security"] = [{"ApiKey": []}]
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "ForgeSyte Serverless job API", "version": "1"},
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    }


def docs_page(spec: dict[str, Any]) -> str:
    """A self-contained page (no CDN: the machine may be offline) listing every operation."""
    rows = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            key = "API key" if operation.get("security") else "open"
            rows.append(
                f"<tr><td><b>{method.upper()}</b></td><td><code>{path}</code></td>"
                f"<td>{operation['summary']}</td><td>{key}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>ForgeSyte API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em 1em;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>{spec['info']['title']}</h1><p>Server: <code>{spec['servers'][0]['url']}</code> · "
        "<a href='/openapi.json'>openapi.json</a> · send <code>X-API-Key</code></p>"
        f"<table>{''.join(rows)}</table></body></html>"
    )
