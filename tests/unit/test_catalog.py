"""The plugin catalog: lookups, input kinds, and that the packaged one matches the shipped plugins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from forgesyte_core.errors import BadRequest, NotFound
from forgesyte_core.plugins.catalog import PluginCatalog, load_catalog, tool_input_kinds, tool_needs_gpu
from forgesyte_core.plugins.registry import GROUP, PluginRegistry, read_manifest
from forgesyte_dev import catalog_build


def test_tool_input_kinds_follow_forgesyte_conventions() -> None:
    assert tool_input_kinds({"input_types": ["video"]}) == {"video"}
    assert tool_input_kinds({"input_types": ["image_bytes"]}) == {"image"}
    assert tool_input_kinds({"input_types": ["image", "video"]}) == {"image", "video"}
    assert tool_input_kinds({}) == set()
    assert tool_needs_gpu({"capabilities": ["gpu"]})
    assert not tool_needs_gpu({"capabilities": ["tracking"]})


def test_lookups_and_their_errors(test_catalog: Path) -> None:
    catalog = PluginCatalog.from_file(test_catalog)
    assert [p["id"] for p in catalog.list()] == ["broken", "crasher", "frame-counter", "text-reader"]
    assert catalog.tool("frame-counter", "count_frames")["input_types"] == ["video"]
    with pytest.raises(BadRequest, match="Unknown plugin_id 'nope'"):
        catalog.tool("nope", "x")
    with pytest.raises(BadRequest, match="has no tool 'x' \\(tools: count_frames, count_segment, image_size\\)"):
        catalog.tool("frame-counter", "x")
    with pytest.raises(NotFound):
        catalog.manifest("nope")


def test_packaged_catalog_is_what_the_installed_plugins_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOLO_MODEL", raising=False)  # the image bakes in no model by default
    assert catalog_build.packaged() == catalog_build.build_from_installed(), "run `make catalog`"
    assert load_catalog().manifests.keys() == catalog_build.packaged_ids()


def strip_origin(manifests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    drop = {"distribution", "dist_version"}
    return {key: {k: v for k, v in m.items() if k not in drop} for key, m in manifests.items()}


def strip_availability(tool: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tool.items() if k not in {"available", "unavailable_reason", "unless_options"}}


def test_packaged_catalog_matches_the_installed_plugins() -> None:
    """Every shipped distribution is installed, and its entry points' manifests are the catalog's."""
    from importlib.metadata import distribution

    catalog = load_catalog()
    installed = {}
    for dist_name, entries in catalog_build.shipped_distributions().items():
        dist = distribution(dist_name)  # raises if a shipped plugin is not installed
        for ep in dist.entry_points.select(group=GROUP):
            installed[ep.name] = read_manifest(ep)
        assert set(entries) <= set(installed)
    assert installed == {
        plugin_id: {**manifest, "tools": [strip_availability(tool) for tool in manifest["tools"]]}
        for plugin_id, manifest in strip_origin(catalog.manifests).items()
    }
    registry = PluginRegistry()
    assert all(registry.load(plugin_id).loaded for plugin_id in installed)
