"""Drop rules: the prefix is a folder of the bucket's own, never inside (or around) uploads/,
results/ or models/, which would turn uploads or results into drops; a drop's job type comes from
its content type, else its name, else its tool."""

from __future__ import annotations

import pytest

from forgesyte_core.intake.drops import DropKey, drop_job_type, parse_drop_key
from forgesyte_core.settings import Settings


@pytest.mark.parametrize("prefix", ["incoming/", "cameras/feeds/"])
def test_a_folder_is_accepted(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    monkeypatch.setenv("DROP_PREFIX", prefix)
    assert Settings.from_env().drop_prefix == prefix


def test_unset_means_incoming(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DROP_PREFIX", raising=False)
    assert Settings.from_env().drop_prefix == "incoming/"


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("incoming", "a trailing /"),
        ("/incoming/", "no leading /"),
        ("uploads/drops/", "overlaps the bucket's uploads/"),
        ("results/", "overlaps the bucket's results/"),
        ("models/", "overlaps the bucket's models/"),
    ],
)
def test_a_prefix_that_would_catch_other_objects_is_refused(
    monkeypatch: pytest.MonkeyPatch, prefix: str, reason: str
) -> None:
    monkeypatch.setenv("DROP_PREFIX", prefix)
    with pytest.raises(ValueError, match=reason):
        Settings.from_env()


def test_keys_parse_under_the_configured_prefix() -> None:
    assert parse_drop_key("cams/ocr/analyze/a/b.png", "cams/") == DropKey("ocr", "analyze", "a/b.png")
    assert parse_drop_key("incoming/ocr/analyze/a.png", "cams/") is None
    assert parse_drop_key("cams/ocr/analyze/", "cams/") is None


@pytest.mark.parametrize(
    ("content_type", "key", "tool_kinds", "expected"),
    [
        ("image/png", "a.mp4", {"video", "image"}, "image"),  # what the writer said wins
        ("video/mp4", "a.png", {"video", "image"}, "video"),
        ("binary/octet-stream", "cams/a.MOV", {"video", "image"}, "video"),
        ("binary/octet-stream", "scans/a.jpeg", {"video", "image"}, "image"),
        ("", "scans/page", {"image"}, "image"),  # nothing to go on: the tool's one kind
        ("application/octet-stream", "clips/x", {"video"}, "video"),
        ("", "x", {"video", "image"}, "video"),
    ],
)
def test_a_drops_job_type(content_type: str, key: str, tool_kinds: set[str], expected: str) -> None:
    assert drop_job_type(content_type, key, frozenset(tool_kinds)) == expected
