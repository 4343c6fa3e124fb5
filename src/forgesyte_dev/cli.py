"""The ``forgesyte`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from forgesyte_dev import catalog_build, plugins_cmd, probe_cmd


def _remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", help="a deployed API's base URL (default: the running local stack)")
    parser.add_argument("--api-key", help="its API key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgesyte", description="ForgeSyte Serverless: local stack and tools")
    commands = parser.add_subparsers(dest="command", required=True)

    probe = commands.add_parser("probe", help="validate media files as the ingest function does; one JSON line each")
    probe.add_argument("files", nargs="+")
    probe.add_argument("--expect", choices=["video", "image"], help="the job type the files must fit")

    catalog = commands.add_parser(
        "catalog", help="print the shipped plugins' catalog, built from their installed entry points"
    )
    catalog.add_argument("--write", action="store_true", help="write it into the layer package")
    catalog.add_argument("--check", action="store_true", help="exit 1 if the packaged catalog is stale")

    plugins = commands.add_parser("plugins", help="installed plugins, tools and load status (--remote: the API's)")
    plugins.add_argument("--json", action="store_true")
    plugins.add_argument("--remote", action="store_true", help="list the catalog a stack or deployed API serves")
    _remote(plugins)

    dev = commands.add_parser("dev", help="run the embedded local stack until Ctrl-C")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000, help="API port (0: any free port)")
    dev.add_argument("--workers", type=int, default=2, help="runner worker processes")
    dev.add_argument("--moto-url", help="attach to a running moto server (keeps jobs across restarts)")
    dev.add_argument("--api-key", default="local-dev-key")
    dev.add_argument(
        "--batch-image",
        help="run Batch jobs in this image with podman, as AWS Batch would (make images builds "
        "localhost/forgesyte-runner:batch-cpu)",
    )
    dev.add_argument(
        "--sam-local",
        action="store_true",
        help="also serve `sam local invoke`/`start-api` on podman: Docker API socket, moto on the container bridge",
    )

    submit = commands.add_parser("submit", help="submit a file, upload it, and follow the job")
    submit.add_argument("file", type=Path)
    submit.add_argument("--plugin", required=True)
    submit.add_argument("--tool", required=True)
    submit.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    submit.add_argument("--wait", action="store_true", help="follow the job and save its results")
    submit.add_argument("--out", type=Path, help="where to save the results JSON")
    _remote(submit)

    jobs = commands.add_parser("jobs", help="list jobs")
    jobs.add_argument("--status")
    jobs.add_argument("--limit", type=int, default=20)
    _remote(jobs)
    for name, text in (("job", "show one job"), ("cancel", "cancel a job")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("job_id")
        _remote(sub)

    demo = commands.add_parser("demo", help="run the main job end to end on an in-process stack")
    demo.add_argument("--video", type=Path, help="your own video instead of the synthetic one")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    demo.add_argument("--plugin", default="motion-tracker")
    demo.add_argument("--tool", default="video_track")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "probe":
        return probe_cmd.run(args.files, args.expect, sys.stdout)
    if args.command == "catalog":
        return _catalog(args)
    if args.command == "plugins" and not args.remote:
        return plugins_cmd.run(args.json, sys.stdout)
    if args.command == "demo":
        from forgesyte_dev.local.demo import run_demo

        return run_demo(args.video, args.out, args.plugin, args.tool)
    if args.command == "dev":
        from forgesyte_dev.local import commands

        return commands.dev(
            args.host, args.port, args.workers, args.moto_url, args.api_key, args.batch_image, args.sam_local
        )
    return _remote_command(args)


def _catalog(args: argparse.Namespace) -> int:
    built = catalog_build.build_from_installed()
    if args.check:
        stale = catalog_build.packaged() != built
        print("plugin catalog is stale: run `make catalog`" if stale else "plugin catalog is current")
        return 1 if stale else 0
    if args.write:
        path = catalog_build.write(built)
        print(f"wrote {path} ({len(built['plugins'])} plugins)")
        return 0
    print(json.dumps(built, indent=2))
    return 0


def _remote_command(args: argparse.Namespace) -> int:
    from forgesyte_dev.local import commands
    from forgesyte_dev.local.client import ApiError

    try:
        client = commands.client_for(args.api, args.api_key)
        if args.command == "submit":
            options = commands.parse_options(args.option)
            return commands.submit(client, args.file, args.plugin, args.tool, options, args.wait, args.out, sys.stdout)
        if args.command == "jobs":
            query = {"limit": str(args.limit), **({"status": args.status} if args.status else {})}
            return commands.show(client.request("GET", "/v1/jobs", params=query), sys.stdout)
        if args.command == "job":
            return commands.show(client.job(args.job_id), sys.stdout)
        if args.command == "cancel":
            return commands.show(client.request("POST", f"/v1/jobs/{args.job_id}/cancel"), sys.stdout)
        return commands.show(client.request("GET", "/v1/plugins"), sys.stdout)
    except ApiError as exc:
        print(f"forgesyte: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
