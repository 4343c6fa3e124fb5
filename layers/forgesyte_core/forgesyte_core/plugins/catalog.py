"""The plugin catalog: what the API knows about plugins without importing any plugin code.

It is a JSON file the runner image generates from the plugins installed in it
(``forgesyte_core.plugins.catalog_export``; ``make catalog`` copies the shipped image's into this
package, and tests fail when it no longer matches the image or the installed plugins). The catalog of
an image with plugins added (``python -m forgesyte_dev.images catalog --image TAG``) goes beside it as
``plugin_catalog.image.json``, untracked, and the API lists that one while it is there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from forgesyte_core.errors import BadRequest, NotFound

PACKAGED_CATALOG = Path(__file__).parent.parent / "plugin_catalog.json"
IMAGE_CATALOG = PACKAGED_CATALOG.with_name("plugin_catalog.image.json")  # an added-plugins image's; untracked
IMAGE_INPUTS = frozenset({"image_bytes", "image"})


def tool_input_kinds(tool: dict[str, Any]) -> frozenset[str]:
    """``video`` when input_types has "video"; ``image`` for "image_bytes" (ForgeSyte) or "image"."""
    types = set(tool.get("input_types") or [])
    kinds = set()
    if "video" in types:
        kinds.add("video")
    if types & IMAGE_INPUTS:
        kinds.add("image")
    return frozenset(kinds)


def tool_needs_gpu(tool: dict[str, Any]) -> bool:
    return "gpu" in (tool.get("capabilities") or []) or bool(tool.get("requires_gpu"))


def unavailable_reason(tool: dict[str, Any], options: dict[str, Any]) -> str | None:
    """Why the runner image cannot run ``tool`` with these options (catalog_export), or None if it can."""
    if tool.get("available", True):
        return None
    if set(tool.get("unless_options") or ()) & set(options):
        return None
    return str(tool.get("unavailable_reason") or "not configured in the runner image")


@dataclass(frozen=True)
class PluginCatalog:
    manifests: dict[str, dict[str, Any]]

    @classmethod
    def from_file(cls, path: str | Path) -> PluginCatalog:
        data = json.loads(Path(path).read_text())
        return cls({entry["id"]: entry for entry in data.get("plugins", [])})

    def list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": m["id"],
                "name": m.get("name", m["id"]),
                "version": m.get("version"),
                "description": m.get("description", ""),
                "tools": [t["id"] for t in m.get("tools", [])],
                # Tools the runner image cannot run as built, and why: submit refuses them (422).
                "unavailable_tools": {
                    t["id"]: t.get("unavailable_reason", "") for t in m.get("tools", []) if t.get("available") is False
                },
            }
            for m in sorted(self.manifests.values(), key=lambda m: m["id"])
        ]

    def manifest(self, plugin_id: str) -> dict[str, Any]:
        try:
            manifest: dict[str, Any] = self.manifests[plugin_id]
        except KeyError:
            raise NotFound(f"Plugin '{plugin_id}' not found") from None
        return manifest

    def tool(self, plugin_id: str, tool_id: str) -> dict[str, Any]:
        manifest = self.manifests.get(plugin_id)
        if manifest is None:
            known = ", ".join(sorted(self.manifests)) or "none"
            raise BadRequest(f"Unknown plugin_id '{plugin_id}' (available: {known})")
        tools_listed: list[dict[str, Any]] = manifest.get("tools", [])
        for tool in tools_listed:
            if tool["id"] == tool_id:
                return tool
        tools = ", ".join(t["id"] for t in manifest.get("tools", []))
        raise BadRequest(f"Plugin '{plugin_id}' has no tool '{tool_id}' (tools: {tools})")


def build_catalog(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"plugins": sorted(manifests, key=lambda m: m["id"])}


@lru_cache(maxsize=4)
def _load(path: str) -> PluginCatalog:
    return PluginCatalog.from_file(path)


def load_catalog(path: str = "") -> PluginCatalog:
    """The catalog at ``path`` (settings), else the deployed image's if exported into the layer, else the
    shipped one; cached per path."""
    return _load(path or str(IMAGE_CATALOG if IMAGE_CATALOG.is_file() else PACKAGED_CATALOG))
