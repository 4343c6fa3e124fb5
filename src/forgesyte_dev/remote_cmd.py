"""The ``forgesyte`` commands that talk to a job API, local or deployed: submit, jobs, job, cancel,
plugins --remote. Tables for people, ``--json`` for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path, PurePosixPath
from typing import Any, TextIO
from urllib.parse import urlparse

from forgesyte_dev.client import ApiClient, ApiError, content_type_for, local_stack_state
from forgesyte_dev.local_drops import list_drop_jobs, view_drop_job
from forgesyte_dev.progress import JobProgress, progress
from forgesyte_dev.tables import record, table

JOB_COLUMNS = [
    ("job_id", "job"),
    ("status", "status"),
    ("progress", "%"),
    ("plugin_id", "plugin"),
    ("tool", "tool"),
    ("created_at", "created"),
    ("error_code", "error"),
]
JOB_FIELDS = [
    "job_id",
    "status",
    "progress",
    "plugin_id",
    "tool",
    "job_type",
    "error_code",
    "error_message",
    "media",
    "compute",
    "attempt",
    "summary",
    "created_at",
    "updated_at",
    "result_url",
    "artifact_urls",
]


def client_for(api: str | None, api_key: str | None) -> ApiClient:
    return ApiClient(api, api_key) if api else ApiClient.from_stack()


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values that parse as JSON (numbers, true, lists) keep their type."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ApiError(0, f"--option takes KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def run(client: ApiClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "submit":
        tool = args.tool or tool_for(client, args.plugin, args.file)
        return submit(client, args.file, args.plugin, tool, parse_options(args.option), args, out)
    if args.command == "jobs":
        if args.drops:
            if args.api:
                raise ApiError(
                    0, "--drops reads the local stack's table; a deployed stack's drops are on its event bus"
                )
            listing = list_drop_jobs(local_stack_state(), args.status, args.limit)
        else:
            query = {"limit": str(args.limit), **({"status": args.status} if args.status else {})}
            listing = client.request("GET", "/v1/jobs", params=query)
        return show(listing, args.json, out, lambda: table(listing["jobs"], JOB_COLUMNS))
    if args.command in ("job", "cancel"):
        try:
            job_id = client.resolve_job_id(args.job_id)
            method, path = (
                ("GET", f"/v1/jobs/{job_id}") if args.command == "job" else ("POST", f"/v1/jobs/{job_id}/cancel")
            )
            found = client.request(method, path)
        except ApiError as exc:
            if exc.status != 404 or args.api or args.command != "job":
                raise
            found = view_drop_job(local_stack_state(), args.job_id)  # the local operator sees drop jobs too
        return show(found, args.json, out, lambda: record(found, JOB_FIELDS))
    catalog = client.request("GET", "/v1/plugins")
    return show(catalog, args.json, out, lambda: table(plugin_rows(catalog), PLUGIN_COLUMNS))


PLUGIN_COLUMNS = [("id", "plugin"), ("version", "version"), ("tools", "tools"), ("unavailable", "unavailable")]


def plugin_rows(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """The API's listing: each plugin's tools, and those the image cannot run as built (with why, once
    for the tools that share a reason)."""
    return [
        {
            "id": plugin["id"],
            "version": plugin.get("version"),
            "tools": plugin.get("tools", []),
            "unavailable": unavailable_reasons(plugin.get("unavailable_tools") or {}),
        }
        for plugin in catalog.get("plugins", [])
    ]


def unavailable_reasons(unavailable: dict[str, str]) -> str:
    tools_by_reason: dict[str, list[str]] = {}
    for tool, why in unavailable.items():
        tools_by_reason.setdefault(why, []).append(tool)
    return "; ".join(f"{', '.join(tools)}: {why}" for why, tools in tools_by_reason.items())


def tool_for(client: ApiClient, plugin_id: str, path: Path) -> str:
    """The plugin's one tool for this kind of file, when ``--tool`` is left out."""
    manifest = client.request("GET", f"/v1/plugins/{plugin_id}/manifest")
    kind = "image" if content_type_for(path).startswith("image/") else "video"
    tools = [t["id"] for t in manifest.get("tools", []) if kind in (t.get("input_types") or [kind])]
    if len(tools) == 1:
        return str(tools[0])
    listed = ", ".join(tools) or "none"
    raise ApiError(0, f"{plugin_id} has {len(tools)} tools for a {kind} ({listed}): name one with --tool")


def show(data: Any, as_json: bool, out: TextIO, render: Any) -> int:
    out.write(json.dumps(data, indent=2) + "\n" if as_json else render())
    return 0


def submit(
    client: ApiClient,
    path: Path,
    plugin: str,
    tool: str,
    options: dict[str, Any],
    args: argparse.Namespace,
    out: TextIO,
) -> int:
    if not path.is_file():
        raise ApiError(0, f"{path} is not a file")
    created = client.submit(path, plugin, tool, options)
    if not args.json:
        out.write(f"job {created['job_id']} created\n")
    client.upload(created, path, progress(f"upload {path.name}"))
    if not args.wait:
        if args.json:
            out.write(json.dumps({"job_id": created["job_id"], "status": "uploaded"}) + "\n")
        else:
            out.write(f"uploaded; follow it with `forgesyte job {created['job_id']}`\n")
        return 0
    job = client.wait(created["job_id"], JobProgress(created["job_id"], sys.stderr))
    if job["status"] != "completed":
        if args.json:
            out.write(json.dumps(job) + "\n")
        else:
            out.write(f"job {job['job_id']} {job['status']}: {job.get('error_code')}: {job.get('error_message')}\n")
        return 1
    target = args.out or path.with_name(f"{path.stem}.{job['job_id'][:8]}.results.json")
    target.write_text(json.dumps(client.results(job)))
    saved = {"results": str(target), **save_artifacts(client, job, target)}
    if args.json:
        out.write(json.dumps({"job_id": job["job_id"], "summary": job["summary"], **saved}) + "\n")
    else:
        out.write(record({**job, **saved}, ["job_id", "status", "summary", *saved]))
    return 0


def save_artifacts(client: ApiClient, job: dict[str, Any], results: Path) -> dict[str, str]:
    """The job's rendered outputs (``options.render``: annotated video, contact sheet) beside the results."""
    saved = {}
    stem = results.name.removesuffix(".results.json")
    for name, url in (job.get("artifact_urls") or {}).items():
        file = results.with_name(f"{stem}.{name}{PurePosixPath(urlparse(url).path).suffix}")
        file.write_bytes(client.download(url))
        saved[name] = str(file)
    return saved
