"""ForgeSyte plugin contract: ``name``, ``tools``, ``run_tool``; manifest.json beside this file."""

from __future__ import annotations

from typing import Any

from forgesyte_motion_tracker.detector import MotionDetector, MotionOptions
from forgesyte_tracking import ByteTracker, track_video

CLASS_NAMES = ["motion"]


class Plugin:
    name = "motion-tracker"

    def __init__(self) -> None:
        self.tools: dict[str, dict[str, Any]] = {
            "video_track": {
                "description": "Track moving objects in a video (background subtraction + ByteTrack)",
                "input_schema": {"video_path": "string", "options": "object"},
                "output_schema": {"total_frames": "int", "fps": "float", "frames": "array"},
                "handler": "video_track",
            }
        }

    def run_tool(self, tool_name: str, args: dict[str, Any]) -> Any:
        if tool_name != "video_track":
            raise ValueError(f"Unknown tool: {tool_name}")
        if "video_path" not in args:
            raise ValueError("video_track needs video_path")
        return self.video_track(
            args["video_path"], args.get("progress_callback"), args.get("options") or {}, args.get("frame_range")
        )

    def video_track(
        self, video_path: str, progress_callback: Any, options: dict[str, Any], frame_range: Any = None
    ) -> dict[str, Any]:
        tracker = ByteTracker(
            lost_buffer_frames=int(options.get("lost_buffer_frames", 30)),
            max_tracks=int(options.get("max_tracks", 500)),
        )
        detector = MotionDetector(MotionOptions.from_options(options), expected=tracker.expected_boxes)
        return track_video(
            video_path, detector.stream, CLASS_NAMES, progress_callback, tracker, frame_range=frame_range
        )
