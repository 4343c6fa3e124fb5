"""The ``forgesyte`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ENV_API_URL, ENV_API_KEY = "FORGESYTE_API_URL", "FORGESYTE_API_KEY"
DEFAULT_LOCAL_KEY = "forgesyte-local-dev-key"
DROP_OWNER = "s3-drop"  # forgesyte_core.intake.drops.DROP_OWNER, without importing pynamodb into the CLI

EPILOG = f"""\
Commands that talk to an API use the local stack `forgesyte dev` runs, unless --api or ${ENV_API_URL}
names a deployed one (its key: --api-key or ${ENV_API_KEY}). `forgesyte COMMAND --help` says more.

  forgesyte dev                                   # terminal 1: the local stack
  forgesyte submit clip.mp4 --plugin motion-tracker --tool video_track --wait
  forgesyte jobs --status failed
"""


def _version() -> str:
    try:
        return version("forgesyte-dev")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _gateway_key(value: str) -> str:
    from forgesyte_dev.local.outputs import api_key_problem

    problem = api_key_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _remote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        default=os.environ.get(ENV_API_URL),
        metavar="URL",
        help=f"a deployed API's base URL (the ApiUrl output) [${ENV_API_URL}; default: the running local stack]",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get(ENV_API_KEY),
        metavar="KEY",
        help=f"that API's key (aws apigateway get-api-key --include-value ...) [${ENV_API_KEY}]",
    )
    parser.add_argument("--json", action="store_true", help="print the API's JSON instead of a table (for scripts)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forgesyte",
        description="ForgeSyte Serverless: run vision plugins on videos and images, locally or on AWS.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    submit = commands.add_parser("submit", help="submit a file, upload it, and (--wait) follow the job")
    submit.add_argument("file", type=Path, help="a video (MP4, MOV, 3GP) or image (PNG, JPEG, WebP)")
    submit.add_argument("--plugin", required=True, help="plugin id (see `forgesyte plugins --remote`)")
    submit.add_argument("--tool", help="one of the plugin's tools (default: its only one for this kind of file)")
    submit.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tool option; JSON values keep their type (conf=0.4, classes=[0,2]); repeat for more",
    )
    submit.add_argument("--wait", action="store_true", help="follow the job to its end and save its results")
    submit.add_argument("--out", type=Path, help="where --wait saves the results JSON (default: beside the file)")
    _remote(submit)

    jobs = commands.add_parser("jobs", help="list your jobs, newest first")
    jobs.add_argument(
        "--status",
        choices=["pending", "queued", "running", "completed", "failed", "cancelled"],
        help="only jobs in this status",
    )
    jobs.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    jobs.add_argument(
        "--drops",
        action="store_true",
        help="the local stack's S3-drop jobs instead (they belong to no API key; `forgesyte job` finds them too)",
    )
    _remote(jobs)
    job = commands.add_parser("job", help="show one job: status, progress, error, media, results link")
    job.add_argument("job_id")
    _remote(job)
    cancel = commands.add_parser("cancel", help="cancel a pending, queued or running job")
    cancel.add_argument("job_id")
    _remote(cancel)

    events = commands.add_parser("events", help="the job events the local stack's event bus carried, oldest first")
    events.add_argument("--limit", type=int, default=50, help="the last this many (default 50)")
    events.add_argument("--json", action="store_true", help="the EventBridge events as JSON lines (for scripts)")

    sam_events = commands.add_parser(
        "sam-events",
        help="events for `sam local invoke` of ingest and the runner, from the queues of `forgesyte dev --sam-local`",
    )
    sam_events.add_argument("--video", type=Path, help="first submit and upload this file through the stack's API")
    sam_events.add_argument(
        "--synthetic", action="store_true", help="first submit and upload a 3 s synthetic clip of moving objects"
    )
    sam_events.add_argument("--plugin", default="motion-tracker", help="with --video: plugin (default motion-tracker)")
    sam_events.add_argument("--tool", default="video_track", help="with --video: tool (default video_track)")
    sam_events.add_argument("--wait", type=float, default=5.0, help="seconds to wait for a message (default 5)")

    plugins = commands.add_parser("plugins", help="plugins and tools installed here (--remote: what an API serves)")
    plugins.add_argument("--remote", action="store_true", help="list the catalog the local stack or --api serves")
    _remote(plugins)

    dev = commands.add_parser("dev", help="run the embedded local stack until Ctrl-C (needs forgesyte-dev[local])")
    dev.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    dev.add_argument(
        "--expose-api-key",
        action="store_true",
        help="off loopback, still hand the API key to anyone who loads the page (its config.json); without "
        "it the page asks for the key",
    )
    dev.add_argument("--port", type=int, default=8000, help="API port; 0 picks a free one (default 8000)")
    dev.add_argument("--workers", type=int, default=2, help="runner worker processes (default 2)")
    dev.add_argument(
        "--api-workers",
        type=int,
        default=4,
        help="API requests handled at once, one worker process each; more wait their turn (default 4)",
    )
    dev.add_argument("--moto-url", metavar="URL", help="attach to a running moto server (keeps jobs across restarts)")
    dev.add_argument(
        "--api-key",
        type=_gateway_key,
        default=DEFAULT_LOCAL_KEY,
        help=f"the key the local API accepts, 20 to 128 characters as in API Gateway (default {DEFAULT_LOCAL_KEY})",
    )
    dev.add_argument(
        "--batch-image",
        metavar="IMAGE",
        help="run Batch jobs in this image with podman, as AWS Batch would (make images builds "
        "localhost/forgesyte-runner:batch-cpu)",
    )
    dev.add_argument(
        "--lambda-image",
        metavar="IMAGE",
        help="run the runner function in this container image with podman, through the Lambda Runtime API "
        "as Lambda would (make images builds localhost/forgesyte-runner:lambda)",
    )
    dev.add_argument(
        "--sam-local",
        action="store_true",
        help="also serve `sam local invoke`/`start-api` on podman: Docker API socket, moto on the container bridge",
    )

    demo = commands.add_parser("demo", help="run the main job end to end on an in-process stack, with pictures")
    demo.add_argument("--video", type=Path, help="your own video instead of the synthetic one")
    demo.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (default demo-output)")
    demo.add_argument("--plugin", default="motion-tracker", help="plugin id (default motion-tracker)")
    demo.add_argument("--tool", default="video_track", help="tool (default video_track)")

    probe = commands.add_parser("probe", help="validate media files as ingest does; one JSON line each")
    probe.add_argument("files", nargs="+", help="files to probe")
    probe.add_argument("--expect", choices=["video", "image"], help="the job type the files must fit")

    catalog = commands.add_parser("catalog", help="the shipped plugins' catalog, from their installed entry points")
    catalog.add_argument("--write", action="store_true", help="write it into the layer package")
    catalog.add_argument("--check", action="store_true", help="exit 1 if the packaged catalog is stale")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:  # Ctrl-C: what was sent stays sent (a submitted job runs on); no traceback
        print("forgesyte: interrupted", file=sys.stderr)
        return 130


def _run(argv: Sequence[str] | None) -> int:
    # Each command imports what it uses: `forgesyte --help` and the API commands never load boto3 or
    # pynamodb (most of a second).
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "probe":
        from forgesyte_dev import probe_cmd

        return probe_cmd.run(args.files, args.expect, sys.stdout)
    if args.command == "catalog":
        return _catalog(args)
    if args.command == "plugins" and not args.remote:
        from forgesyte_dev import plugins_cmd

        return plugins_cmd.run(args.json, sys.stdout)
    if args.command in ("dev", "demo"):
        return _local(args)
    if args.command == "events":
        return _events(args)
    if args.command == "sam-events":
        return _sam_events(args)
    return _remote_command(args)


def _local(args: argparse.Namespace) -> int:
    from forgesyte_dev.project import NoProject

    try:
        if args.command == "demo":
            from forgesyte_dev.local.demo import run_demo

            return run_demo(args.video, args.out, args.plugin, args.tool)
        from forgesyte_dev.local import commands

        return commands.dev(
            args.host,
            args.port,
            args.workers,
            args.moto_url,
            args.api_key,
            args.batch_image,
            args.sam_local,
            args.expose_api_key,
            args.api_workers,
            args.lambda_image,
        )
    except ModuleNotFoundError as exc:
        print(
            f"forgesyte: {args.command} needs the local stack's packages ({exc.name} is missing): "
            "pip install 'forgesyte-dev[local]'",
            file=sys.stderr,
        )
        return 1
    except NoProject as exc:
        print(f"forgesyte: {exc}", file=sys.stderr)
        return 1


def _sam_events(args: argparse.Namespace) -> int:
    from forgesyte_dev import sam_events
    from forgesyte_dev.project import NoProject, state_dir

    try:
        folder = state_dir()
        video = sam_events.synthetic_clip(folder / "sam-events") if args.synthetic else args.video
        return sam_events.run(folder, video, args.plugin, args.tool, args.wait, sys.stdout)
    except (NoProject, sam_events.NoStack) as exc:
        print(f"forgesyte: {exc}", file=sys.stderr)
        return 1


def _events(args: argparse.Namespace) -> int:
    from forgesyte_dev.project import NoProject, state_dir
    from forgesyte_dev.tables import table

    try:
        path = state_dir() / "events.jsonl"
    except NoProject as exc:
        print(f"forgesyte: {exc}", file=sys.stderr)
        return 1
    if not path.is_file():
        print("no job events yet: start `forgesyte dev` and submit a job", file=sys.stderr)
        return 0
    lines = path.read_text().splitlines()[-args.limit :]
    if not (path.parent / "stack.json").is_file():
        print("no local stack is running: these events are from the last one, which has stopped", file=sys.stderr)
    if args.json:
        print("\n".join(lines))
        return 0
    rows = []
    for line in lines:
        event = json.loads(line)
        detail = event["detail"]
        dropped = (detail.get("input") or {}).get("key") if detail.get("owner") == DROP_OWNER else None
        rows.append({**detail, "time": event["time"], "drop": dropped, "stack": event.get("stack")})
    columns = [("time", "time"), ("job_id", "job"), ("status", "status"), ("tool", "tool"), ("error_code", "error")]
    if any(row["stack"] for row in rows):  # which stack's bus carried each event
        columns.insert(0, ("stack", "stack"))
    if any(row["drop"] for row in rows):  # which file each drop job is for
        columns.append(("drop", "dropped object"))
    print(table(rows, columns), end="")
    return 0


def _catalog(args: argparse.Namespace) -> int:
    from forgesyte_core.plugins.catalog import IMAGE_CATALOG
    from forgesyte_dev import catalog_build

    if IMAGE_CATALOG.is_file():
        print(
            f"note: the API lists {IMAGE_CATALOG.name} (exported from an image), not the shipped catalog; "
            "`python -m forgesyte_dev.images catalog --remove` goes back",
            file=sys.stderr,
        )
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
    from forgesyte_dev import remote_cmd
    from forgesyte_dev.client import ApiError

    try:
        client = remote_cmd.client_for(args.api, args.api_key)
        return remote_cmd.run(client, args, sys.stdout)
    except ApiError as exc:
        print(f"forgesyte: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
