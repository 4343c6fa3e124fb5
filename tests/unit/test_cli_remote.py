"""The command line accepts what it prints and says each thing once (issue 19 point 4): job id
prefixes, the only tool by default, upload progress in the file's bytes, a shared reason once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from forgesyte_dev.client import ApiClient, ApiError, MultipartUpload
from forgesyte_dev.remote_cmd import tool_for, unavailable_reasons

IDS = [
    "3f2a9c10-0000-4000-8000-000000000001",
    "3f2a9c10-0000-4000-8000-000000000002",
    "77b01d2e-0000-4000-8000-000000000003",
    "a0c4e5f6-0000-4000-8000-000000000004",
]


class FakeApi(ApiClient):
    """Answers from memory, two jobs a page, as the API pages with a cursor."""

    def __init__(self) -> None:
        super().__init__("http://api.invalid", "key")
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        params = kwargs.get("params") or {}
        self.calls.append((method, path, params))
        if path == "/v1/jobs":
            start = int(params.get("cursor", 0))
            page = [{"job_id": job_id} for job_id in IDS[start : start + 2]]
            return {"jobs": page, "next_cursor": str(start + 2) if start + 2 < len(IDS) else None}
        if path == "/v1/plugins/motion-tracker/manifest":
            return {"tools": [{"id": "video_track", "input_types": ["video"]}]}
        if path == "/v1/plugins/yolo-onnx/manifest":
            return {
                "tools": [{"id": "detect", "input_types": ["image"]}, {"id": "video_track", "input_types": ["video"]}]
            }
        if path == "/v1/plugins/two-video-tools/manifest":
            return {"tools": [{"id": "a", "input_types": ["video"]}, {"id": "b", "input_types": ["video"]}]}
        raise ApiError(404, f"no {path}")


def test_a_unique_prefix_names_the_job_even_on_a_later_page() -> None:
    api = FakeApi()
    assert api.resolve_job_id("a0c4") == IDS[3]  # the second page
    assert api.resolve_job_id("77b01d2e") == IDS[2]
    listed = len(api.calls)
    assert api.resolve_job_id(IDS[0]) == IDS[0]  # a whole id is taken as it is, with no listing
    assert len(api.calls) == listed


def test_an_ambiguous_or_unknown_prefix_says_so() -> None:
    api = FakeApi()
    with pytest.raises(ApiError, match="'3f2a9c10' starts more than one job id"):
        api.resolve_job_id("3f2a9c10")
    with pytest.raises(ApiError, match="no job of yours has an id starting 'ffff'"):
        api.resolve_job_id("ffff")


def test_the_only_tool_for_the_file_is_the_default(tmp_path: Path) -> None:
    api = FakeApi()
    video, image = tmp_path / "clip.mp4", tmp_path / "photo.png"
    assert tool_for(api, "motion-tracker", video) == "video_track"
    assert tool_for(api, "yolo-onnx", image) == "detect"  # one tool takes images
    assert tool_for(api, "yolo-onnx", video) == "video_track"
    with pytest.raises(ApiError, match=r"two-video-tools has 2 tools for a video \(a, b\): name one with --tool"):
        tool_for(api, "two-video-tools", video)


def test_tools_sharing_a_reason_get_it_once() -> None:
    reason = "no model: pass options.model or bake one in with YOLO_MODEL_FILE"
    assert unavailable_reasons({"detect": reason, "video_track": reason}) == f"detect, video_track: {reason}"
    assert unavailable_reasons({"a": "x", "b": "y"}) == "a: x; b: y"


def test_upload_progress_counts_the_files_bytes_not_the_form(tmp_path: Path) -> None:
    path = tmp_path / "tiny.mp4"
    path.write_bytes(b"\x00" * 24)
    seen: list[tuple[int, int]] = []
    body = MultipartUpload({"key": "uploads/x", "policy": "p" * 1500}, path, "video/mp4", lambda *a: seen.append(a))
    sent = io.BytesIO()
    while chunk := body.read(100):
        sent.write(chunk)
    assert len(sent.getvalue()) == len(body) > 1500  # the whole form went out
    assert seen[-1] == (24, 24)
    assert all(total == 24 and 0 <= done <= 24 for done, total in seen)


def test_wait_saves_the_rendered_outputs_beside_the_results(tmp_path: Path) -> None:
    from forgesyte_dev.remote_cmd import save_artifacts

    class Downloads(FakeApi):
        def download(self, url: str) -> bytes:
            return url.encode()

    results = tmp_path / "clip.3f2a9c10.results.json"
    job = {
        "artifact_urls": {
            "annotated_video": "http://s3.invalid/b/results/j/annotated.mp4?X-Amz-Signature=1",
            "contact_sheet": "http://s3.invalid/b/results/j/contact_sheet.jpg?X-Amz-Signature=2",
        }
    }
    saved = save_artifacts(Downloads(), job, results)
    assert saved == {
        "annotated_video": str(tmp_path / "clip.3f2a9c10.annotated_video.mp4"),
        "contact_sheet": str(tmp_path / "clip.3f2a9c10.contact_sheet.jpg"),
    }
    assert Path(saved["contact_sheet"]).read_bytes().startswith(b"http://s3.invalid/b/results/j/contact_sheet.jpg")
    assert save_artifacts(Downloads(), {"artifact_urls": None}, results) == {}
