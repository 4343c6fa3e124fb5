"""Plugin discovery through the ``forgesyte.plugins`` entry-point group (ForgeSyte's contract).

The entry point's name is the plugin id and its value a class instantiated with no arguments.
``manifest.json`` sits next to the plugin's module. Only allowlisted ids load (when an allowlist is
set); two distributions claiming one id is an error naming both. A plugin that breaks the contract
is reported with the reason, not loaded, and never crashes the caller.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from forgesyte_core.errors import PluginLoadError

log = logging.getLogger(__name__)

GROUP = "forgesyte.plugins"
# This project's own test fixtures (a crasher, a plugin that breaks the contract): discovered only
# when FORGESYTE_TEST_PLUGINS=1 (tests/conftest.py sets it), so no user ever sees them.
TEST_GROUP = "forgesyte.test_plugins"


def installed_entry_points() -> list[EntryPoint]:
    found = list(entry_points(group=GROUP))
    if os.environ.get("FORGESYTE_TEST_PLUGINS") == "1":
        found += entry_points(group=TEST_GROUP)
    return found


@dataclass
class PluginRecord:
    """What discovery learned about one plugin id, loaded or not."""

    plugin_id: str
    value: str
    distribution: str
    version: str | None = None
    instance: Any = None
    manifest: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def loaded(self) -> bool:
        return self.instance is not None and self.error is None


def _distribution(ep: EntryPoint) -> tuple[str, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", None
    return dist.metadata["Name"], dist.version


def manifest_path(module_name: str) -> Path:
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    if not getattr(module, "__file__", None):
        raise PluginLoadError(f"module {module_name} has no file to find manifest.json beside")
    return Path(str(module.__file__)).with_name("manifest.json")


def read_manifest(ep: EntryPoint) -> dict[str, Any]:
    """The manifest beside the plugin's module (the contract), else one naming this id that its
    distribution installs elsewhere (as data files, say)."""
    path = manifest_path(ep.module)
    if not path.is_file():
        found = _manifest_in_distribution(ep)
        if found is None:
            raise PluginLoadError(f"no manifest.json next to {ep.module} ({path}) or in its distribution's files")
        return found
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def _manifest_in_distribution(ep: EntryPoint) -> dict[str, Any] | None:
    dist = getattr(ep, "dist", None)
    for file in (dist.files or []) if dist is not None else []:
        if file.name != "manifest.json":
            continue
        with contextlib.suppress(OSError, ValueError):
            manifest = json.loads(Path(str(file.locate())).read_text())
            if isinstance(manifest, dict) and manifest.get("id") == ep.name:
                return manifest
    return None


def check_contract(plugin_id: str, instance: Any, manifest: dict[str, Any]) -> None:
    """Raise PluginLoadError saying what is missing, if anything."""
    problems = []
    if not isinstance(getattr(instance, "name", None), str):
        problems.append("no 'name' string attribute")
    if not isinstance(getattr(instance, "tools", None), dict):
        problems.append("no 'tools' dict attribute")
    if not callable(getattr(instance, "run_tool", None)):
        problems.append("no callable run_tool(tool_name, args)")
    if manifest.get("id") != plugin_id:
        problems.append(f"manifest id is {manifest.get('id')!r}, the entry point says {plugin_id!r}")
    if not isinstance(manifest.get("tools"), list) or not manifest["tools"]:
        problems.append("manifest lists no tools")
    if problems:
        raise PluginLoadError(f"plugin '{plugin_id}' breaks the contract: " + "; ".join(problems))


class PluginRegistry:
    """Discovers plugins once; loads each lazily and keeps it for the warm container's life."""

    def __init__(
        self,
        allowlist: Iterable[str] = (),
        discover: Callable[[], Iterable[EntryPoint]] | None = None,
    ) -> None:
        self._allowlist = frozenset(allowlist)
        self._discover = discover or installed_entry_points
        self._records: dict[str, PluginRecord] | None = None
        self._duplicates: dict[str, list[str]] = {}
        self._lock = threading.RLock()  # discovery and loading happen once, whichever thread asks first

    def records(self) -> dict[str, PluginRecord]:
        with self._lock:
            return self._discovered()

    def _discovered(self) -> dict[str, PluginRecord]:
        if self._records is None:
            self._records = {}
            eps: dict[str, EntryPoint] = {}
            for ep in self._discover():
                if self._allowlist and ep.name not in self._allowlist:
                    continue
                dist, version = _distribution(ep)
                if ep.name in self._records:
                    self._duplicates.setdefault(ep.name, [self._records[ep.name].distribution]).append(dist)
                    continue
                eps[ep.name] = ep
                self._records[ep.name] = PluginRecord(ep.name, ep.value, dist, version)
            for plugin_id, dists in self._duplicates.items():
                self._records[
                    plugin_id
                ].error = f"plugin id '{plugin_id}' is claimed by more than one distribution: {', '.join(dists)}"
            self._eps = eps
        return self._records

    def load(self, plugin_id: str) -> PluginRecord:
        with self._lock:
            return self._load(plugin_id)

    def _load(self, plugin_id: str) -> PluginRecord:
        record = self.records().get(plugin_id)
        if record is None:
            hint = " (not in PLUGIN_ALLOWLIST)" if self._allowlist and plugin_id not in self._allowlist else ""
            raise PluginLoadError(f"plugin '{plugin_id}' is not installed{hint}")
        if record.instance is None and record.error is None:
            self._instantiate(record)
        if record.error:
            raise PluginLoadError(record.error)
        return record

    def load_all(self) -> list[PluginRecord]:
        """Try every discovered plugin; failures are recorded on their records, never raised."""
        for plugin_id in self.records():
            with contextlib.suppress(PluginLoadError):
                self.load(plugin_id)
        return list(self.records().values())

    def _instantiate(self, record: PluginRecord) -> None:
        ep = self._eps[record.plugin_id]
        try:
            manifest = record.manifest = read_manifest(ep)
            instance = ep.load()()
            check_contract(record.plugin_id, instance, manifest)
            if callable(getattr(instance, "on_load", None)):
                instance.on_load()
        except Exception as exc:  # a broken plugin is reported, not fatal
            record.error = str(exc) if isinstance(exc, PluginLoadError) else f"{type(exc).__name__}: {exc}"
            log.warning("plugin %s did not load: %s", record.plugin_id, record.error)
            return
        record.instance = instance
