"""``forgesyte probe``: one JSON line per file, exit 0 only when every file is fine."""

from __future__ import annotations

import io
import json
from pathlib import Path

from forgesyte_dev import cli, probe_cmd
from tests.media_factory import MediaFiles


def test_probe_prints_one_line_per_file(media: MediaFiles, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    out = io.StringIO()
    code = probe_cmd.run([str(media.mp4v), str(bad), str(tmp_path / "missing.mp4")], None, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert len(lines) == 3
    good, wrong, missing = lines
    assert good["ok"]
    assert good["kind"] == "video"
    assert good["media"]["frames"] == 30
    assert good["reason"] is None
    assert set(good) >= {"file", "ok", "kind", "reason", "media"}
    assert not wrong["ok"]
    assert "unrecognised file format" in wrong["reason"]
    assert wrong["media"] is None
    assert not missing["ok"]
    assert missing["reason"].startswith("cannot read the file")


def test_probe_exit_code_and_expectation(media: MediaFiles, capsys: object) -> None:
    assert cli.main(["probe", str(media.mp4v), str(media.image("png"))]) == 0
    assert cli.main(["probe", "--expect", "video", str(media.image("png"))]) == 1
