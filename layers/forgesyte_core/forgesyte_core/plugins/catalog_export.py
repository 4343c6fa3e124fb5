"""``python -m forgesyte_core.plugins.catalog_export [PATH]``: the plugin catalog of this environment.

Run in the runner image when it is built, so the catalog the API serves is exactly what the image
can run: every ``forgesyte.plugins`` entry point installed there, third-party ones included, each
with its manifest, distribution and version. A plugin may say which of its tools cannot run as
configured through an optional ``unavailable_tools()`` method returning
``{tool_id: {"reason": str, "unless_options": [option names that make it runnable]}}``; those tools
are listed with ``available: false`` and the API refuses them (422) unless a job sets one of those
options. A plugin that does not load fails the export: an image must not advertise what it cannot run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from forgesyte_core.plugins.catalog import build_catalog
from forgesyte_core.plugins.registry import PluginRecord, PluginRegistry
from forgesyte_core.settings import get_settings


def _gaps(record: PluginRecord) -> dict[str, dict[str, Any]]:
    report = getattr(record.instance, "unavailable_tools", None)
    gaps = report() if callable(report) else {}
    if not isinstance(gaps, dict):
        raise TypeError(f"{record.plugin_id}.unavailable_tools() must return a dict, not {type(gaps).__name__}")
    return gaps


def describe(record: PluginRecord) -> dict[str, Any]:
    """The record's manifest, with where it came from and whether each tool can run here."""
    gaps = _gaps(record)
    tools = []
    for tool in record.manifest.get("tools", []):
        gap = gaps.get(tool["id"])
        entry = {**tool, "available": gap is None}
        if gap is not None:
            entry["unavailable_reason"] = str(gap.get("reason", "not configured"))
            entry["unless_options"] = sorted(str(name) for name in gap.get("unless_options", []))
        tools.append(entry)
    return {**record.manifest, "tools": tools, "distribution": record.distribution, "dist_version": record.version}


def export(registry: PluginRegistry) -> tuple[dict[str, Any], list[str]]:
    """The catalog of every plugin that loads, and the errors of those that do not."""
    entries, errors = [], []
    for record in registry.load_all():
        if record.loaded:
            entries.append(describe(record))
        else:
            errors.append(f"{record.plugin_id} ({record.distribution}): {record.error}")
    return build_catalog(entries), errors


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    catalog, errors = export(PluginRegistry(get_settings().plugin_allowlist))
    for error in errors:
        print(f"plugin did not load: {error}", file=sys.stderr)
    text = json.dumps(catalog, indent=2, sort_keys=True) + "\n"
    if args and args[0] != "-":
        Path(args[0]).write_text(text)
        ids = ", ".join(entry["id"] for entry in catalog["plugins"]) or "none"
        print(f"plugin catalog: {ids} -> {args[0]}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
