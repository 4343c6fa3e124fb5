"""Build the API's plugin catalog from the shipped plugins' sources, importing no plugin code.

Each ``plugins/<name>/pyproject.toml`` names its ``forgesyte.plugins`` entry points; the manifest
sits next to each entry point's module. The test suite checks the result against the installed
plugins, loaded through their entry points.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from forgesyte_core.catalog import PACKAGED_CATALOG, build_catalog
from forgesyte_dev.template import ROOT

PLUGINS_DIR = ROOT / "plugins"


def shipped_distributions(plugins_dir: Path = PLUGINS_DIR) -> dict[str, dict[str, str]]:
    """Distribution name → {plugin id: entry-point value} for every plugin under ``plugins/``."""
    found = {}
    for pyproject in sorted(plugins_dir.glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[project["name"]] = dict(project.get("entry-points", {}).get("forgesyte.plugins", {}))
    return found


def _manifest_for(value: str, plugins_dir: Path) -> Path:
    module = value.split(":", 1)[0]
    relative = Path(*module.split(".")).with_name("manifest.json")
    for base in plugins_dir.glob("*"):
        for candidate in (base / relative, base / "src" / relative):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no manifest.json for {value} under {plugins_dir}")


def build_from_sources(plugins_dir: Path = PLUGINS_DIR) -> dict[str, Any]:
    manifests = [
        json.loads(_manifest_for(value, plugins_dir).read_text())
        for entries in shipped_distributions(plugins_dir).values()
        for value in entries.values()
    ]
    return build_catalog(manifests)


def packaged() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PACKAGED_CATALOG.read_text())
    return data


def write(catalog: dict[str, Any]) -> Path:
    PACKAGED_CATALOG.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n")
    return PACKAGED_CATALOG


def packaged_ids() -> set[str]:
    return {entry["id"] for entry in packaged()["plugins"]}
