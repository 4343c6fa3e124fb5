"""The ``forgesyte`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from forgesyte_dev import catalog_build, plugins_cmd, probe_cmd


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="forgesyte", description="ForgeSyte Serverless developer tools")
    commands = parser.add_subparsers(dest="command", required=True)

    probe = commands.add_parser("probe", help="validate media files as the ingest function does; one JSON line each")
    probe.add_argument("files", nargs="+")
    probe.add_argument("--expect", choices=["video", "image"], help="the job type the files must fit")

    catalog = commands.add_parser("catalog", help="print the plugin catalog built from the plugins under plugins/")
    catalog.add_argument("--write", action="store_true", help="write it into the layer package")
    catalog.add_argument("--check", action="store_true", help="exit 1 if the packaged catalog is stale")

    plugins = commands.add_parser("plugins", help="list installed plugins, their tools and load status")
    plugins.add_argument("--json", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "probe":
        return probe_cmd.run(args.files, args.expect, sys.stdout)
    if args.command == "plugins":
        return plugins_cmd.run(args.json, sys.stdout)
    built = catalog_build.build_from_sources()
    if args.check:
        stale = catalog_build.packaged() != built
        print("plugin catalog is stale: run `forgesyte catalog --write`" if stale else "plugin catalog is current")
        return 1 if stale else 0
    if args.write:
        path = catalog_build.write(built)
        print(f"wrote {path} ({len(built['plugins'])} plugins)")
        return 0
    print(json.dumps(built, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
