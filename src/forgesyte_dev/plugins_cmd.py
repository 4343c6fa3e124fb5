"""``forgesyte plugins``: every discovered plugin, its tools and input types, and whether it loads."""

from __future__ import annotations

import json
from typing import Any, TextIO

from forgesyte_core.plugins.catalog import tool_input_kinds
from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_core.settings import get_settings


def describe(registry: PluginRegistry) -> list[dict[str, Any]]:
    rows = []
    for record in registry.load_all():
        tools = [
            {"id": tool["id"], "inputs": sorted(tool_input_kinds(tool))} for tool in record.manifest.get("tools", [])
        ]
        rows.append(
            {
                "id": record.plugin_id,
                "version": record.version,
                "distribution": record.distribution,
                "tools": tools,
                "status": "loaded" if record.loaded else f"failed: {record.error}",
            }
        )
    return sorted(rows, key=lambda row: row["id"])


def run(as_json: bool, out: TextIO) -> int:
    rows = describe(PluginRegistry(get_settings().plugin_allowlist))
    if not rows and not as_json:
        out.write(
            "no ForgeSyte plugins installed here: pip install one (its distribution registers a "
            "'forgesyte.plugins' entry point), or list a stack's with --remote\n"
        )
        return 0
    if as_json:
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            tools = ", ".join(f"{t['id']} ({'/'.join(t['inputs']) or '?'})" for t in row["tools"]) or "-"
            out.write(f"{row['id']:<16} {row['version'] or '?':<8} {row['distribution']:<34} {row['status']}\n")
            out.write(f"{'':<16} tools: {tools}\n")
    return 0 if all(row["status"] == "loaded" for row in rows) else 1
