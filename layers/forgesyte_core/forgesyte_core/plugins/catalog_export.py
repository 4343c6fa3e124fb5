"""``python -m forgesyte_core.plugins.catalog_export [PATH]``: the plugin catalog of this environment.

Run in the runner image when it is built, so the catalog the API serves is exactly what the image
can run: every ``forgesyte.plugins`` entry point installed there, third-party ones included, each
with its manifest, distribution and version. A plugin may say which of its tools cannot run as
configured through an optional ``unavailable_tools()`` method returning
``{tool_id: {"reason": str, "unless_options": [option names that make it runnable]}}``; those tools
are listed with ``available: false`` and the API refuses them (422) unless a job sets one of those
options. A plugin that does not load fails the export: an image must not advertise what it cannot run.

A plugin added with the programs it needs (``plugin_requirements.json`` beside the catalog, written by
``forgesyte_core.plugins.add_plugin``) has every tool listed unavailable while one of them is missing
from the image's PATH, saying which.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
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


def requirements_path(catalog: Path) -> Path:
    """Where the programs each plugin needs are kept: beside the image's catalog."""
    return catalog.with_name("plugin_requirements.json")


def _missing_programs(programs: Sequence[str]) -> dict[str, Any] | None:
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return None
    names = ", ".join(f"`{program}`" for program in missing)
    return {
        "reason": f"needs the program {names}, which this image does not have: add its Debian package "
        "(AddPlugins.Dockerfile's SYSTEM_PACKAGES, or system-packages under [tool.forgesyte] in its pyproject.toml)"
    }


def describe(record: PluginRecord, programs: Sequence[str] = ()) -> dict[str, Any]:
    """The record's manifest, with where it came from and whether each tool can run here."""
    gaps = _gaps(record)
    missing = _missing_programs(programs)
    if missing is not None:
        gaps = {tool["id"]: missing for tool in record.manifest.get("tools", [])}
    tools = []
    for tool in record.manifest.get("tools", []):
        gap = gaps.get(tool["id"])
        entry = {**tool, "available": gap is None}
        if gap is not None:
            entry["unavailable_reason"] = str(gap.get("reason", "not configured"))
            entry["unless_options"] = sorted(str(name) for name in gap.get("unless_options", []))
        tools.append(entry)
    return {**record.manifest, "tools": tools, "distribution": record.distribution, "dist_version": record.version}


def export(
    registry: PluginRegistry, requirements: dict[str, dict[str, list[str]]] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The catalog of every plugin that loads, and the errors of those that do not; ``requirements``:
    the programs each plugin id needs (plugin_requirements.json)."""
    entries, errors = [], []
    for record in registry.load_all():
        if record.loaded:
            entries.append(describe(record, (requirements or {}).get(record.plugin_id, {}).get("programs", [])))
        else:
            errors.append(f"{record.plugin_id} ({record.distribution}): {record.error}")
    return build_catalog(entries), errors


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args and args[0] != "-" else get_settings().catalog_path or "plugin_catalog.json")
    needs = requirements_path(out)
    requirements = json.loads(needs.read_text()) if needs.is_file() else {}
    catalog, errors = export(PluginRegistry(get_settings().plugin_allowlist), requirements)
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
