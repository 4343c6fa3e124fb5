"""Plugin discovery through real entry points (the test distribution), the allowlist and the contract."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest

from forgesyte_core.errors import PluginLoadError
from forgesyte_core.plugins.registry import GROUP, TEST_GROUP, PluginRegistry


def test_installed_test_plugins_are_discovered_and_loaded() -> None:
    registry = PluginRegistry()
    record = registry.load("frame-counter")
    assert record.loaded
    assert record.distribution == "forgesyte-test-plugins"
    assert record.manifest["id"] == "frame-counter"
    assert registry.load("frame-counter").instance is record.instance  # loaded once


def test_contract_breach_is_reported_not_raised_at_discovery() -> None:
    records = {r.plugin_id: r for r in PluginRegistry().load_all()}
    assert not records["broken"].loaded
    assert "no callable run_tool" in (records["broken"].error or "")
    with pytest.raises(PluginLoadError, match="breaks the contract"):
        PluginRegistry().load("broken")


def test_allowlist_hides_other_plugins() -> None:
    registry = PluginRegistry(allowlist=["text-reader"])
    assert set(registry.records()) == {"text-reader"}
    with pytest.raises(PluginLoadError, match="not in PLUGIN_ALLOWLIST"):
        registry.load("frame-counter")


def test_two_distributions_claiming_one_id_are_named() -> None:
    real = next(ep for ep in entry_points(group=TEST_GROUP) if ep.name == "text-reader")
    impostor = EntryPoint("text-reader", "forgesyte_test_plugins.crasher.plugin:Plugin", GROUP)
    registry = PluginRegistry(discover=lambda: [real, impostor])
    with pytest.raises(PluginLoadError, match="claimed by more than one distribution: forgesyte-test-plugins, unknown"):
        registry.load("text-reader")


def test_ocr_style_plugin_raises_value_error_for_a_video_tool() -> None:
    plugin = PluginRegistry().load("text-reader").instance
    with pytest.raises(ValueError, match="Unknown tool: video_track"):
        plugin.run_tool("video_track", {"video_path": "/tmp/x.mp4", "options": {}})
    assert plugin.run_tool("analyze", {"image_bytes": b"123", "options": {}}).text == "HELLO"
