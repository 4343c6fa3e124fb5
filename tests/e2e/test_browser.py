"""The web page in headless Chromium against a local stack: uploads (form and multipart, with a
failing part and a reload mid-upload), the job's progress, the tracking overlay, OCR blocks over an
image, a rejected file's reason; the words it uses, a 390 px phone screen, a codec it cannot play.

The browser steps are web/e2e/run.mjs (playwright-core driving Debian's chromium); `make install`
installs chromium and builds web/dist, so this runs in `make test` and CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from forgesyte_dev.local.stack import LocalStack
from forgesyte_dev.mp4_tools import pad_mp4
from forgesyte_dev.synthetic import crossing_scene
from forgesyte_dev.text_lines import rendered_lines
from tests.e2e.conftest import stack_config
from tests.helpers import ROOT
from tests.media_factory import ffmpeg

pytestmark = pytest.mark.slow  # one of the files make test starts first

WEB = ROOT / "web"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page_stack(tmp_path_factory: pytest.TempPathFactory, combined_catalog: Path) -> Iterator[LocalStack]:
    assert (WEB / "dist/index.html").is_file(), "make install builds web/dist (npm ci && npm run build)"
    base = tmp_path_factory.mktemp("page-stack")
    running = LocalStack(stack_config(base, combined_catalog, web_root=WEB / "dist", prefix="web")).start()
    try:
        yield running
    finally:
        running.stop()


def test_the_page_uploads_tracks_resumes_and_explains_a_refusal(page_stack: LocalStack, tmp_path: Path) -> None:
    assert Path(CHROMIUM).is_file(), "make install installs Debian's chromium (as root)"
    raw = tmp_path / "scene-mp4v.mp4"
    crossing_scene(320, 180, seconds=3).write(raw)
    video = ffmpeg(
        tmp_path / "scene.mp4", "-i", str(raw), "-c:v", "libx264", "-pix_fmt", "yuv420p"
    )  # browsers play H.264
    big = pad_mp4(video, tmp_path / "big-scene.mp4", 17 * 1024 * 1024)  # four 5 MiB parts
    text, _, picture = next(rendered_lines())
    image = tmp_path / "line.png"
    cv2.imwrite(str(image), picture)
    hevc = ffmpeg(
        tmp_path / "scene-hevc.mp4",
        "-i",
        str(raw),
        "-c:v",
        "libx265",
        "-tag:v",
        "hvc1",
        "-x265-params",
        "log-level=error",
    )
    bad = tmp_path / "notes.mp4"
    bad.write_text("these are meeting notes, not a video\n" * 20)
    shots = Path(os.environ.get("FORGESYTE_SCREENSHOTS", tmp_path / "shots")).resolve()
    shots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "BASE_URL": page_stack.info["api_url"],
        "VIDEO": str(video),
        "BIG_VIDEO": str(big),
        "BAD_FILE": str(bad),
        "IMAGE": str(image),
        "HEVC": str(hevc),
        "SCREENSHOTS": str(shots),
        "CHROMIUM": CHROMIUM,
    }
    done = subprocess.run(
        ["node", "e2e/run.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["small_video"]["boxes"] > 0
    assert "completed: 90 frames" in results["small_video"]["message"]  # in words, not JSON
    assert "cannot play the video's codec" in results["hevc"]["message"]
    assert results["multipart"]["attempts"]["2"] == 2
    assert 1 not in results["resume"]["after_reload"]
    assert "unrecognised file format" in results["rejected"]["message"]
    assert " ".join(results["ocr"]["texts"]).split() == text.split()
    assert (shots / "tracking.png").stat().st_size > 10_000
