"""rapidocr: character accuracy on 20 rendered lines, reading order, and images only."""

from __future__ import annotations

import cv2
import pytest

from forgesyte_dev.text_lines import character_accuracy, edit_distance, rendered_lines
from forgesyte_rapidocr.plugin import Plugin
from forgesyte_rapidocr.reading_order import Block, reading_order


@pytest.fixture(scope="module")
def plugin() -> Plugin:
    return Plugin()


def test_character_accuracy_on_twenty_rendered_lines(plugin: Plugin) -> None:
    pairs = []
    for text, _, image in rendered_lines():
        result = plugin.run_tool("analyze", {"image_bytes": cv2.imencode(".png", image)[1].tobytes(), "options": {}})
        pairs.append((text, result["text"]))
    assert len(pairs) == 20
    assert character_accuracy(pairs) >= 0.98, [p for p in pairs if p[0] != p[1]]


def test_result_has_forgesyte_ocr_shape(plugin: Plugin) -> None:
    _text, _, image = next(rendered_lines())
    result = plugin.run_tool("default", {"image_bytes": cv2.imencode(".jpg", image)[1].tobytes()})
    assert set(result) == {"text", "blocks", "confidence", "language", "image_size"}
    assert result["image_size"] == {"width": image.shape[1], "height": image.shape[0]}
    block = result["blocks"][0]
    assert set(block) == {"text", "bbox", "confidence"}
    assert len(block["bbox"]) == 4
    assert 0 < result["confidence"] <= 1


def test_a_video_tool_raises_value_error(plugin: Plugin) -> None:
    with pytest.raises(ValueError, match="Unknown tool: video_track"):
        plugin.run_tool("video_track", {"video_path": "/tmp/x.mp4"})
    with pytest.raises(ValueError, match="not a decodable image"):
        plugin.run_tool("analyze", {"image_bytes": b"not an image"})


def test_reading_order_is_lines_then_left_to_right() -> None:
    blocks = [
        Block("world", (120, 10, 200, 30), 0.9),
        Block("second", (10, 52, 90, 70), 0.9),
        Block("hello", (10, 12, 100, 32), 0.9),
        Block("line", (100, 50, 160, 72), 0.9),
    ]
    assert [[b.text for b in line] for line in reading_order(blocks)] == [["hello", "world"], ["second", "line"]]
    assert edit_distance("kitten", "sitting") == 3
