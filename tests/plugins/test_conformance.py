"""Conformance: every installed ``forgesyte.plugins`` plugin must pass these, shipped or third-party.

The test distribution's ``broken`` (no run_tool) and ``crasher`` (raises by design), discovered here
through ``forgesyte.test_plugins``, must fail them: they are marked xfail(strict), so the suite
proves it catches what it claims to.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import cv2
import pytest

from forgesyte_core.compute.results import write_image_results, write_video_results
from forgesyte_core.plugins.catalog import tool_input_kinds
from forgesyte_core.plugins.registry import PluginRecord, PluginRegistry, installed_entry_points
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.plugins.tiny_yolo import candidate, write_tiny_yolo

MANIFEST_KEYS = {"id", "name", "version", "description", "type", "capabilities", "tools"}
TOOL_KEYS = {"id", "title", "description", "input_types", "output_types", "capabilities", "inputs", "outputs"}
# Plugin id -> (the checks it must fail, why). "*" means every check.
DELIBERATELY_BROKEN = {"broken": ("*", "has no run_tool"), "crasher": ("runs", "its tool raises by design")}


def _params(check: str) -> list[Any]:
    params = []
    for plugin_id in sorted({ep.name for ep in installed_entry_points()}):
        fails, why = DELIBERATELY_BROKEN.get(plugin_id, ("", ""))
        marks = [pytest.mark.xfail(strict=True, reason=why)] if fails in ("*", check) else []
        params.append(pytest.param(plugin_id, marks=marks))
    return params


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("conformance")
    video = base / "scene.mp4"
    crossing_scene(320, 180, seconds=1.0).write(video)
    _, _, line = next(rendered_lines())
    model = write_tiny_yolo(base / "tiny.onnx", [candidate(32, 32, 20, 10, 0, 0.9, 1)], {0: "thing"})
    return {"video": video, "image": cv2.imencode(".png", line)[1].tobytes(), "model": model}


@pytest.fixture
def record(request: pytest.FixtureRequest, samples: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> PluginRecord:
    monkeypatch.setenv("YOLO_MODEL", str(samples["model"]))
    return PluginRegistry().load(request.param)


def args_for(kind: str, samples: dict[str, Any], progress: list[tuple[int, int]]) -> dict[str, Any]:
    if kind == "video":
        return {
            "video_path": str(samples["video"]),
            "device": "cpu",
            "options": {},
            "progress_callback": lambda current, total: progress.append((current, total)),
        }
    return {"image_bytes": samples["image"], "options": {}}


@pytest.mark.parametrize("record", _params("manifest"), indirect=True)
def test_manifest_is_complete(record: PluginRecord) -> None:
    manifest = record.manifest
    assert set(manifest) >= MANIFEST_KEYS, MANIFEST_KEYS - set(manifest)
    assert manifest["id"] == record.plugin_id
    for tool in manifest["tools"]:
        assert set(tool) >= TOOL_KEYS, (tool.get("id"), TOOL_KEYS - set(tool))
        assert tool_input_kinds(tool), f"tool {tool['id']} takes neither video nor image_bytes"
        assert tool["id"] in record.instance.tools, f"manifest tool {tool['id']} missing from plugin.tools"


@pytest.mark.parametrize("record", _params("runs"), indirect=True)
def test_every_tool_runs_and_serialises(record: PluginRecord, samples: dict[str, Any]) -> None:
    for tool in record.manifest["tools"]:
        for kind in sorted(tool_input_kinds(tool)):
            progress: list[tuple[int, int]] = []
            result = record.instance.run_tool(tool["id"], args_for(kind, samples, progress))
            out = io.StringIO()
            if kind == "video":
                summary = write_video_results(out, {"job_id": "conformance"}, result)
                assert summary.frame_count > 0, f"{tool['id']} returned no frames"
            else:
                write_image_results(out, {"plugin_id": record.plugin_id, "tool": tool["id"]}, result)
            json.loads(out.getvalue())


@pytest.mark.parametrize("record", _params("unknown"), indirect=True)
def test_unknown_tool_raises_value_error(record: PluginRecord) -> None:
    with pytest.raises(ValueError, match="no-such-tool"):
        record.instance.run_tool("no-such-tool", {"options": {}})


def test_the_suite_covers_every_shipped_plugin() -> None:
    from forgesyte_dev.catalog_build import packaged_ids

    installed = {ep.name for ep in installed_entry_points()}
    assert packaged_ids() <= installed
    assert {"motion-tracker", "yolo-onnx", "rapidocr"} <= packaged_ids()


def test_samples_are_real_media(samples: dict[str, Any]) -> None:
    assert Path(samples["video"]).stat().st_size > 1000
    assert samples["image"].startswith(b"\x89PNG")
