"""The plugin catalog: lookups, input kinds, and that the packaged one matches the shipped plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgesyte_core.catalog import PluginCatalog, load_catalog, tool_input_kinds, tool_needs_gpu
from forgesyte_core.errors import BadRequest, NotFound
from forgesyte_core.plugins import GROUP, PluginRegistry, read_manifest
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
    with pytest.raises(BadRequest, match="has no tool 'x' \\(tools: count_frames, image_size\\)"):
        catalog.tool("frame-counter", "x")
    with pytest.raises(NotFound):
        catalog.manifest("nope")


def test_packaged_catalog_is_built_from_the_plugins_directory() -> None:
    assert catalog_build.packaged() == catalog_build.build_from_sources(), "run `make catalog`"
    assert load_catalog().manifests.keys() == catalog_build.packaged_ids()


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
    assert installed == catalog.manifests
    registry = PluginRegistry()
    assert all(registry.load(plugin_id).loaded for plugin_id in installed)
