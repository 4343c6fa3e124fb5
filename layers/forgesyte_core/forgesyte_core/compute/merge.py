"""Fan-in: the segments' results made into the job's, in the shape an unsplit run writes.

Frames come in order with their global indices and timestamps, each segment contributing only its own
frames ``[start_frame, end_frame)``; a tracker's ids are stitched across the cuts
(:mod:`forgesyte_tracking.stitch`). The document also says what the segments were. One segment's
results are held at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forgesyte_core.compute.results import Summary, write_video_results
from forgesyte_core.compute.segments import stitch_mode
from forgesyte_core.errors import ForgeSyteError
from forgesyte_core.jobs.model import Job, Segment
from forgesyte_core.storage import Storage, segment_result_key


class MergeFailed(ForgeSyteError):
    code = "merge_failed"


def merge_segments(job: Job, tool: dict[str, Any], storage: Storage, scratch: Path, out_path: Path) -> Summary:
    segments = job.segments or []
    if not segments:
        raise MergeFailed(f"job {job.job_id} has no segments to merge")
    first = _load(storage, job, segments[0], scratch)
    overlap = max((s.start_frame - s.decode_from for s in segments[1:]), default=0)
    stitcher = None
    if stitch_mode(tool) == "tracks":
        from forgesyte_tracking.stitch import TrackStitcher  # the runner image's shared tracking package

        stitcher = TrackStitcher(overlap)

    def frames() -> Iterator[dict[str, Any]]:
        for segment in segments:
            document = first if segment.index == 0 else _load(storage, job, segment, scratch)
            if stitcher is None:
                own = (f for f in document.get("frames", []) if segment.owns(int(f["frame_index"])))
                yield from sorted(own, key=lambda f: int(f["frame_index"]))
            else:
                yield from stitcher.segment(document.get("frames", []), segment.start_frame, segment.end_frame)

    keep = {k: v for k, v in first.items() if k not in {"frames", "job_id", "plugin_id", "tool", "status", "segment"}}
    header = {"job_id": job.job_id, "plugin_id": job.plugin_id, "tool": job.tool, "status": "completed"}
    result = {
        **keep,
        "total_frames": segments[-1].end_frame,
        "segments": [_described(s) for s in segments],
        "frames": frames(),
    }
    with out_path.open("w") as out:
        return write_video_results(out, header, result)


def _load(storage: Storage, job: Job, segment: Segment, scratch: Path) -> dict[str, Any]:
    path = scratch / f"segment-{segment.index}.json"
    try:
        storage.download(segment_result_key(job.job_id, segment.index), path)
        with path.open() as handle:
            document: dict[str, Any] = json.load(handle)
    except Exception as exc:
        raise MergeFailed(f"segment {segment.index}'s results could not be read: {exc}") from exc
    finally:
        path.unlink(missing_ok=True)
    return document


def _described(segment: Segment) -> dict[str, Any]:
    return {
        "index": segment.index,
        "start_frame": segment.start_frame,
        "end_frame": segment.end_frame,
        "decode_from": segment.decode_from,
        "attempts": segment.attempt,
        "run_id": segment.run_id,
        "seconds": segment.seconds,
        "bytes_read": segment.bytes_read,
    }
