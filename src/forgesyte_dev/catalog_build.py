"""The API's plugin catalog for the shipped plugins, built from this environment's installed entry points.

The runner image builds its own catalog when it is built (``forgesyte_core.plugins.catalog_export``) and
``make catalog`` copies that one into the layer package; ``forgesyte catalog`` builds the same
thing from the plugins ``make install`` put in ``.venv``, limited to the distributions under
``plugins/`` (the test plugins are installed too). The tests check that all three agree.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from forgesyte_core.plugins.catalog import PACKAGED_CATALOG
from forgesyte_core.plugins.catalog_export import export
from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_dev.template import ROOT

PLUGINS_DIR = ROOT / "plugins"


def shipped_distributions(plugins_dir: Path = PLUGINS_DIR) -> dict[str, dict[str, str]]:
    """Distribution name → {plugin id: entry-point value} for every plugin under ``plugins/``."""
    found = {}
    for pyproject in sorted(plugins_dir.glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[project["name"]] = dict(project.get("entry-points", {}).get("forgesyte.plugins", {}))
    return found


def build_from_installed() -> dict[str, Any]:
    shipped = {plugin_id for entries in shipped_distributions().values() for plugin_id in entries}
    catalog, errors = export(PluginRegistry(shipped))
    if errors:
        raise RuntimeError("shipped plugins did not load: " + "; ".join(errors))
    return catalog


def packaged() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PACKAGED_CATALOG.read_text())
    return data


def write(catalog: dict[str, Any]) -> Path:
    PACKAGED_CATALOG.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n")
    return PACKAGED_CATALOG


def packaged_ids() -> set[str]:
    return {entry["id"] for entry in packaged()["plugins"]}
