"""``python -m forgesyte_core.plugins.add_plugin SOURCE``: add a plugin to a runner image, unchanged.

Run by ``functions/runner/AddPlugins.Dockerfile`` inside the image it extends. ForgeSyte's public
plugins were written to be installed editable beside the server, so three things are done for them
that a plain ``pip install`` does not:

- **Names.** The wheel is built first and read: a plugin id or a top-level package that an installed
  distribution already has stops the build, naming both, because two ids make neither load and pip
  would silently overwrite the other package's files. ``--replace ID`` removes the shipped plugin
  that holds the id first: an explicit choice.
- **System packages.** A plugin may declare the Debian packages and programs it needs in its
  pyproject.toml (``[tool.forgesyte] system-packages = [...]``, ``programs = [...]``);
  ``KNOWN_PLUGINS`` declares them for public plugins that do not (Tesseract for ``forgesyte-ocr``),
  and ``--system-packages`` adds more. They are installed with apt before the plugin, and the
  programs are written to ``plugin_requirements.json`` beside the catalog, so the catalog export
  lists a tool whose program is missing as unavailable, with the reason.
- **The manifest.** A wheel built without package data lacks ``manifest.json``; it is copied from
  the source beside the installed module, where the contract says it is.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import Distribution, distributions
from importlib.util import find_spec
from pathlib import Path

from forgesyte_core.plugins.catalog_export import requirements_path
from forgesyte_core.plugins.registry import GROUP

# Public ForgeSyte plugins that need more than pip gives them, and do not say so themselves.
KNOWN_PLUGINS: dict[str, dict[str, list[str]]] = {
    "forgesyte-ocr": {"system-packages": ["tesseract-ocr"], "programs": ["tesseract"]},
}
CONSTRAINTS = Path("/build/requirements/constraints.txt")  # the image's pins, kept by its build


class AddPluginError(RuntimeError):
    """The plugin cannot be added as asked; the message says why and what to do."""


@dataclass
class Wheel:
    path: Path
    distribution: str
    entry_points: dict[str, str]  # plugin id → "module:Class"
    top_level: set[str]  # packages and modules the wheel installs at the top of site-packages


@dataclass
class Needs:
    system_packages: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)


def read_wheel(path: Path) -> Wheel:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = archive.read(f"{info}/METADATA").decode()
        points = configparser.ConfigParser(delimiters=("=",))
        points.optionxform = str  # type: ignore[assignment,method-assign]  # ids are case-sensitive
        if f"{info}/entry_points.txt" in names:
            points.read_string(archive.read(f"{info}/entry_points.txt").decode())
    name = next(line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Name:"))
    top = {n.split("/")[0].removesuffix(".py") for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    entries = {k: v.strip() for k, v in points[GROUP].items()} if points.has_section(GROUP) else {}
    return Wheel(path, name, entries, top)


def declared_needs(source: Path, distribution: str, extra_packages: list[str]) -> Needs:
    """What the plugin needs beyond pip: its own declaration, the known table's, and the build's."""
    needs = Needs(list(extra_packages))
    pyproject = source / "pyproject.toml"
    own = tomllib.loads(pyproject.read_text()).get("tool", {}).get("forgesyte", {}) if pyproject.is_file() else {}
    for declared in (own, KNOWN_PLUGINS.get(_normal(distribution), {})):
        needs.system_packages += [p for p in declared.get("system-packages", []) if p not in needs.system_packages]
        needs.programs += [p for p in declared.get("programs", []) if p not in needs.programs]
    return needs


def conflicts(wheel: Wheel, replace: set[str]) -> tuple[list[str], set[str]]:
    """Clashes with installed distributions (messages), and the distributions ``replace`` removes."""
    taken_ids: dict[str, str] = {}
    taken_names: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if _normal(name) == _normal(wheel.distribution):
            continue  # an upgrade of the same distribution
        for ep in dist.entry_points.select(group=GROUP):
            taken_ids[ep.name] = name
        for top in _top_level(dist):
            taken_names.setdefault(top, name)
    unknown = replace - taken_ids.keys()
    if unknown:
        raise AddPluginError(f"--replace names no installed plugin: {', '.join(sorted(unknown))}")
    removed = {taken_ids[plugin_id] for plugin_id in replace}
    problems = []
    for plugin_id in sorted(wheel.entry_points):
        owner = taken_ids.get(plugin_id)
        if owner and owner not in removed:
            problems.append(
                f"plugin id '{plugin_id}' is already {owner}'s in this image: to replace that plugin, build with "
                f"--build-arg REPLACE={plugin_id}"
            )
    for top in sorted(wheel.top_level):
        owner = taken_names.get(top)
        if owner and owner not in removed:
            problems.append(f"package '{top}' is already installed by {owner}: pip would overwrite its files")
    return problems, removed


def _top_level(dist: Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    files = dist.files or []
    return {f.parts[0].removesuffix(".py") for f in files if not f.parts[0].endswith((".dist-info", ".data", ".pth"))}


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def place_manifests(wheel: Wheel, source: Path) -> list[str]:
    """Copy ``manifest.json`` beside each installed plugin module that lacks one; what was copied."""
    copied = []
    for plugin_id, value in wheel.entry_points.items():
        module = value.split(":")[0]
        spec = find_spec(module)
        if spec is None or spec.origin is None:
            raise AddPluginError(f"plugin '{plugin_id}': module {module} is not importable after installing")
        target = Path(spec.origin).with_name("manifest.json")
        if target.is_file():
            continue
        package = module.split(".") if spec.submodule_search_locations else module.split(".")[:-1]
        found = _source_manifest(source, package, plugin_id)
        if found is None:
            raise AddPluginError(
                f"plugin '{plugin_id}' has no manifest.json beside {module}, in its wheel or in its source"
            )
        shutil.copyfile(found, target)
        copied.append(f"{plugin_id}: {found.relative_to(source)} -> {target}")
    return copied


def _source_manifest(source: Path, package: list[str], plugin_id: str) -> Path | None:
    """The source's manifest.json in the module's package (src layout or flat), else any naming the id."""
    for root in (source / "src", source):
        candidate = root.joinpath(*package, "manifest.json")
        if candidate.is_file():
            return candidate
    for candidate in sorted(source.rglob("manifest.json")):
        try:
            if json.loads(candidate.read_text()).get("id") == plugin_id:
                return candidate
        except (ValueError, OSError):
            continue
    return None


def record_programs(path: Path, wheel: Wheel, programs: list[str]) -> None:
    """The programs each of the wheel's plugins needs, merged into ``plugin_requirements.json``."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    for plugin_id in wheel.entry_points:
        if programs:
            data[plugin_id] = {"programs": programs}
        else:
            data.pop(plugin_id, None)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _run(*command: str) -> None:
    print("+ " + " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def add(source: Path, replace: set[str], extra_packages: list[str]) -> None:
    with tempfile.TemporaryDirectory() as built:
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", built, str(source))
        wheel = read_wheel(next(Path(built).glob("*.whl")))
        if not wheel.entry_points:
            raise AddPluginError(f"{wheel.distribution} declares no '{GROUP}' entry point: not a ForgeSyte plugin")
        problems, removed = conflicts(wheel, replace)
        if problems:
            raise AddPluginError("cannot add " + wheel.distribution + ":\n  " + "\n  ".join(problems))
        needs = declared_needs(source, wheel.distribution, extra_packages)
        if needs.system_packages:
            _run("apt-get", "update", "-qq")
            _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *needs.system_packages)
            shutil.rmtree("/var/lib/apt/lists", ignore_errors=True)
        if removed:
            _run(sys.executable, "-m", "pip", "uninstall", "-y", *sorted(removed))
        pins = ["-c", str(CONSTRAINTS)] if CONSTRAINTS.is_file() else []
        _run(sys.executable, "-m", "pip", "install", *pins, str(wheel.path))
        _run(sys.executable, "-m", "pip", "check")
    for line in place_manifests(wheel, source):
        print(f"manifest.json copied from the source (the wheel does not package it): {line}", file=sys.stderr)
    catalog = Path(os.environ.get("PLUGIN_CATALOG_PATH") or "/opt/forgesyte/plugin_catalog.json")
    record_programs(requirements_path(catalog), wheel, needs.programs)
    ids = ", ".join(sorted(wheel.entry_points))
    print(f"added {wheel.distribution} ({ids}); replaced {sorted(removed) or 'nothing'}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forgesyte_core.plugins.add_plugin", description=__doc__)
    parser.add_argument("source", type=Path, help="the plugin's source folder (its pyproject.toml or setup.py)")
    parser.add_argument("--replace", default="", help="plugin ids of installed plugins to remove first")
    parser.add_argument("--system-packages", default="", help="Debian packages to install as well")
    args = parser.parse_args(argv)
    try:
        add(args.source, set(args.replace.replace(",", " ").split()), args.system_packages.replace(",", " ").split())
    except AddPluginError as exc:
        print(f"add_plugin: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        command = " ".join(map(str, exc.cmd))
        print(f"add_plugin: `{command}` failed (exit {exc.returncode}): see its output above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
