"""Segmented runs: a long video cut at keyframes into segments that run at once on many runners.

A tool opts in through its manifest, ``"segments": {"stitch": "frames" | "tracks", "preroll_seconds": s}``:

- ``frames``: each frame's output depends on that frame alone; the merge concatenates.
- ``tracks``: a tracker; segments overlap by ``overlap_frames`` and the merge matches tracks in the
  overlap (:mod:`forgesyte_tracking.stitch`), so an object crossing a cut keeps one id. A tool whose
  model needs warming (a background model) asks for ``preroll_seconds`` more frames before the overlap.

A tool that says nothing runs whole, so third-party plugins work unchanged. Segment ``i`` reports frames
``[start_frame, end_frame)``; it decodes from ``decode_from``, the last keyframe at or before
``start_frame - overlap - preroll`` (the first segment from frame 0).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from forgesyte_core.jobs.model import Job, JobType, Segment

STITCH_MODES = ("frames", "tracks")


@dataclass(frozen=True)
class SegmentPolicy:
    min_video_seconds: float  # videos at least this long are cut (SEGMENT_MIN_VIDEO_SECONDS)
    segment_seconds: float  # the length aimed at (SEGMENT_SECONDS); cuts land on the nearest keyframe
    overlap_frames: int = 30  # frames both neighbours track, to match their ids in
    max_segments: int = 600  # the job item holds every segment (400 KB); longer cuts beyond this

    def wants(self, job: Job, tool: dict[str, Any]) -> bool:
        return (
            self.min_video_seconds > 0
            and job.job_type == JobType.VIDEO
            and job.media is not None
            and not job.media.fragmented
            and job.media_seconds >= self.min_video_seconds
            and stitch_mode(tool) is not None
        )

    def plan(self, keyframes: Sequence[int], frames: int, fps: float, tool: dict[str, Any]) -> list[Segment]:
        preroll = round(float((tool.get("segments") or {}).get("preroll_seconds", 0) or 0) * fps)
        overlap = self.overlap_frames if stitch_mode(tool) == "tracks" else 0
        length = max(self.segment_seconds * fps, frames / self.max_segments, 2.0 * (overlap + preroll), 1.0)
        return plan_segments(keyframes, frames, length, overlap + preroll)


def stitch_mode(tool: dict[str, Any]) -> str | None:
    """How a tool's segments are merged, or None when the tool must run whole."""
    declared = tool.get("segments")
    mode = declared.get("stitch") if isinstance(declared, dict) else None
    return mode if mode in STITCH_MODES else None


def plan_segments(keyframes: Sequence[int], frames: int, length: float, lead: int) -> list[Segment]:
    """Cuts at the keyframes nearest each multiple of ``length`` frames; no segment under half of it.

    ``lead`` frames before each cut are decoded too (overlap and pre-roll), from a keyframe.
    """
    keys = sorted({k for k in keyframes if 0 <= k < frames} | {0})
    cuts = [0]
    while True:
        target = cuts[-1] + length
        if target + length / 2 > frames:  # what is left is no longer than 1.5 segments: one segment
            break
        candidates = [k for k in _near(keys, target) if cuts[-1] + length / 2 <= k <= frames - length / 2]
        if not candidates:
            break
        cuts.append(min(candidates, key=lambda k: abs(k - target)))
    bounds = [*cuts, frames]
    segments = []
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        decode_from = 0 if index == 0 else keys[bisect.bisect_right(keys, max(0, start - lead)) - 1]
        segments.append(Segment(index=index, start_frame=start, end_frame=end, decode_from=decode_from))
    return segments


def _near(keys: Sequence[int], target: float) -> list[int]:
    """The keyframes on either side of ``target``."""
    at = bisect.bisect_left(keys, target)
    return [keys[i] for i in (at - 1, at) if 0 <= i < len(keys)]
