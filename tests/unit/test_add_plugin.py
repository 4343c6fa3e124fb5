"""Adding a plugin to the runner image unchanged: the shapes ForgeSyte's public plugins come in.

The fixtures are written here: ``third_party_plugin`` is shaped like ForgeSyte's OCR plugin (src
layout, no package data, a program pip cannot install), ``clashing_plugin`` takes an id the image
already has and needs a program nothing provides. Their wheels are built for real; the image build
itself is ``tests/images/test_images.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib.metadata import EntryPoint, PathDistribution
from pathlib import Path

import pytest

from forgesyte_core.plugins import add_plugin, catalog_export
from forgesyte_core.plugins.registry import PluginRecord, read_manifest
from tests.helpers import ROOT

IMAGE_STATS = ROOT / "tests/fixtures/third_party_plugin"
CLASHING = ROOT / "tests/fixtures/clashing_plugin"


def build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, add_plugin.Wheel]:
    out = tmp_path_factory.mktemp("wheels")
    return {
        "image-stats": add_plugin.read_wheel(build_wheel(IMAGE_STATS, out / "stats")),
        "clashing": add_plugin.read_wheel(build_wheel(CLASHING, out / "clash")),
    }


def test_a_wheel_is_read_for_its_ids_and_top_level_packages(wheels: dict[str, add_plugin.Wheel]) -> None:
    stats = wheels["image-stats"]
    assert stats.distribution == "forgesyte-plugin-image-stats"
    assert stats.entry_points == {"image-stats": "forgesyte_image_stats.plugin:Plugin"}
    assert stats.top_level == {"forgesyte_image_stats"}
    with zipfile.ZipFile(stats.path) as archive:  # the public plugins' shape: no package data
        assert "forgesyte_image_stats/manifest.json" not in archive.namelist()


def test_an_id_the_image_already_has_is_refused_naming_both_and_the_way_to_replace(
    wheels: dict[str, add_plugin.Wheel],
) -> None:
    problems, removed = add_plugin.conflicts(wheels["clashing"], replace=set())
    assert problems == [
        "plugin id 'rapidocr' is already forgesyte-plugin-ocr's in this image: to replace that plugin, build with "
        "--build-arg REPLACE=rapidocr"
    ]
    assert removed == set()
    problems, removed = add_plugin.conflicts(wheels["clashing"], replace={"rapidocr"})
    assert (problems, removed) == ([], {"forgesyte-plugin-ocr"})
    with pytest.raises(add_plugin.AddPluginError, match="--replace names no installed plugin: nope"):
        add_plugin.conflicts(wheels["clashing"], replace={"nope"})
    assert add_plugin.conflicts(wheels["image-stats"], replace=set()) == ([], set())


def test_a_package_an_installed_distribution_has_is_refused(wheels: dict[str, add_plugin.Wheel]) -> None:
    """ForgeSyte's motion plugin ships the package forgesyte_motion; pip would overwrite a namesake."""
    same_package = add_plugin.Wheel(Path("x.whl"), "forgesyte-motion-detector", {}, {"forgesyte_motion_tracker"})
    problems, _ = add_plugin.conflicts(same_package, replace=set())
    assert problems == [
        "package 'forgesyte_motion_tracker' is already installed by forgesyte-plugin-motion-tracker: "
        "pip would overwrite its files"
    ]


def test_system_packages_come_from_the_plugin_the_known_table_and_the_build(tmp_path: Path) -> None:
    needs = add_plugin.declared_needs(IMAGE_STATS, "forgesyte-plugin-image-stats", ["jq"])
    assert (needs.system_packages, needs.programs) == (["jq", "bc"], ["bc"])
    public_ocr = add_plugin.declared_needs(tmp_path, "forgesyte_ocr", [])  # it declares nothing itself
    assert (public_ocr.system_packages, public_ocr.programs) == (["tesseract-ocr"], ["tesseract"])


@pytest.fixture
def site(wheels: dict[str, add_plugin.Wheel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The image-stats wheel installed (unpacked) into a folder on sys.path, forgotten afterwards."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheels["image-stats"].path) as archive:
        archive.extractall(site)
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [name for name in sys.modules if name.startswith("forgesyte_image_stats")]:
        del sys.modules[name]


def test_a_manifest_the_wheel_lacks_is_copied_beside_the_installed_module(
    wheels: dict[str, add_plugin.Wheel], site: Path
) -> None:
    copied = add_plugin.place_manifests(wheels["image-stats"], IMAGE_STATS)
    placed = site / "forgesyte_image_stats/manifest.json"
    assert copied == [f"image-stats: src/forgesyte_image_stats/manifest.json -> {placed}"]
    assert json.loads(placed.read_text())["id"] == "image-stats"
    assert add_plugin.place_manifests(wheels["image-stats"], IMAGE_STATS) == []  # there now: nothing to do


def test_a_manifest_missing_everywhere_stops_the_build(
    wheels: dict[str, add_plugin.Wheel], site: Path, tmp_path: Path
) -> None:
    with pytest.raises(add_plugin.AddPluginError, match=r"no manifest\.json beside forgesyte_image_stats\.plugin"):
        add_plugin.place_manifests(wheels["image-stats"], tmp_path / "empty-source")


def test_the_programs_a_plugin_needs_are_recorded_beside_the_catalog(
    wheels: dict[str, add_plugin.Wheel], tmp_path: Path
) -> None:
    path = tmp_path / "plugin_requirements.json"
    add_plugin.record_programs(path, wheels["image-stats"], ["bc"])
    add_plugin.record_programs(path, wheels["clashing"], [])
    assert json.loads(path.read_text()) == {"image-stats": {"programs": ["bc"]}}


def record(tools: list[str]) -> PluginRecord:
    manifest = {"id": "reader", "tools": [{"id": tool, "input_types": ["image_bytes"]} for tool in tools]}
    return PluginRecord("reader", "x:Plugin", "reader-dist", "1.0", instance=object(), manifest=manifest)


def test_a_tool_whose_program_is_missing_is_listed_unavailable_saying_which() -> None:
    described = catalog_export.describe(record(["analyze", "default"]), ["sh", "forgesyte-no-such-program"])
    for tool in described["tools"]:
        assert tool["available"] is False
        assert tool["unless_options"] == []  # no option makes it runnable
        assert (
            "needs the program `forgesyte-no-such-program`, which this image does not have"
            in tool["unavailable_reason"]
        )
        assert "SYSTEM_PACKAGES" in tool["unavailable_reason"]
    present = catalog_export.describe(record(["analyze"]), ["sh"])
    assert present["tools"][0]["available"] is True


def test_a_manifest_kept_elsewhere_by_the_distribution_is_found(tmp_path: Path) -> None:
    """Installed as a data file, not beside the module: read from the distribution's own file list."""
    info = tmp_path / "reader-1.0.dist-info"
    info.mkdir()
    (tmp_path / "share/reader").mkdir(parents=True)
    (tmp_path / "share/reader/manifest.json").write_text(json.dumps({"id": "reader", "tools": [{"id": "t"}]}))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reader\nVersion: 1.0\n")
    (info / "RECORD").write_text("share/reader/manifest.json,,\nreader-1.0.dist-info/METADATA,,\n")
    ep = EntryPoint("reader", "json:JSONDecoder", "forgesyte.plugins")._for(PathDistribution(info))  # type: ignore[attr-defined]
    assert read_manifest(ep)["id"] == "reader"
