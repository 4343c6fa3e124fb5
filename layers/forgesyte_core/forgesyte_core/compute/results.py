"""Results: whatever a plugin returns, made into JSON and streamed to a file, with a summary.

Plugins return plain dicts, pydantic models, dataclasses, numpy scalars and arrays, or a
``{"success": ..., "result": ...}`` wrapper. Video results may carry ``frames`` as an iterator: the
writer streams them one by one, so memory stays flat however long the video.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import IO, Any

from forgesyte_core.errors import PluginFailed

_DETECTION_LISTS = ("tracked_objects", "detections", "objects", "boxes")
_CLASS_KEYS = ("class", "class_name", "label")


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``; knows pydantic, dataclasses and numpy without importing them."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if hasattr(value, "model_dump"):  # pydantic v2
        return to_jsonable(value.model_dump())
    if hasattr(value, "dict") and hasattr(value, "__fields__"):  # pydantic v1
        return to_jsonable(value.dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Iterator):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot serialise a {type(value).__name__} in the plugin's result")


def reported_error(result: Any) -> str | None:
    """The error a plugin reported in its result instead of raising, if it did.

    Plugins written for ForgeSyte often catch their own failures and return them: ``{"error": ...}``
    beside empty output (the Tesseract plugin on an unknown language), ``{"success": false, ...}``, or a
    pydantic model or dataclass whose ``error`` field is set. Such a result is a failed job, not a
    completed one with nothing in it. Only the top level is read: a video's frames stay unread.
    """

    def field(name: str) -> Any:
        return result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)

    error = field("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("detail") or json.dumps(to_jsonable(error)))
    if error:
        return str(to_jsonable(error))
    if field("success") is False:
        why = field("message") or field("detail")
        return str(why) if why else "the plugin reported success: false without saying why"
    return None


def unwrap(result: Any) -> Any:
    """A plugin's result, checked and unwrapped: a reported error raises :class:`PluginFailed`, and
    ForgeSyte's ``{"success": true, "result": ...}`` wrapper is stripped."""
    error = reported_error(result)
    if error is not None:
        raise PluginFailed(f"the plugin reported an error: {error}")
    if isinstance(result, Mapping) and "success" in result and "result" in result:
        return result.get("result")
    return result


def _as_mapping(result: Any) -> dict[str, Any]:
    """Top-level keys of a result without materialising an iterator of frames."""
    if isinstance(result, Mapping):
        return dict(result)
    if hasattr(result, "model_dump") or (dataclasses.is_dataclass(result) and not isinstance(result, type)):
        return dict(to_jsonable(result))
    return {"result": result}


@dataclasses.dataclass
class Summary:
    frame_count: int = 0
    detection_count: int = 0
    frames_decoded: int | None = None  # video: the frames the plugin reported, one per decoded frame
    classes: set[str] = dataclasses.field(default_factory=set)
    track_ids: set[str] = dataclasses.field(default_factory=set)  # tracking tools: the distinct tracks seen

    def add_detections(self, detections: Any) -> None:
        items: list[Any] = []
        if isinstance(detections, list):
            items = detections
        elif isinstance(detections, Mapping):
            for key in _DETECTION_LISTS:
                if isinstance(detections.get(key), list):
                    items = detections[key]
                    break
        self.detection_count += len(items)
        for item in items:
            if isinstance(item, Mapping):
                if item.get("track_id") is not None:
                    self.track_ids.add(str(item["track_id"]))
                for key in _CLASS_KEYS:
                    if item.get(key) is not None:
                        self.classes.add(str(item[key]))
                        break

    def to_dict(self) -> dict[str, Any]:
        counts = {"frame_count": self.frame_count, "detection_count": self.detection_count}
        if self.frames_decoded is not None:
            counts["frames_decoded"] = self.frames_decoded
        if self.track_ids:
            counts["track_count"] = len(self.track_ids)
        return {**counts, "classes": sorted(self.classes)}


def write_video_results(
    out: IO[str], header: dict[str, Any], result: Any, on_frame: Callable[[Mapping[str, Any]], None] | None = None
) -> Summary:
    """``{...header, ...result keys, "frames": [...], "frames_decoded": N}``; frames streamed one at a time
    (each also handed to ``on_frame``), then how many there were: the plugin's ``total_frames`` comes from
    the file's header, ``frames_decoded`` from what it really read."""
    body = _as_mapping(unwrap(result))
    frames: Iterable[Any] = body.pop("frames", None) or []
    summary = Summary()
    document = {**header, **to_jsonable(body)}
    out.write(json.dumps(document)[:-1])
    out.write(', "frames": [' if document else '"frames": [')
    for index, frame in enumerate(frames):
        data = to_jsonable(frame)
        if index:
            out.write(", ")
        out.write(json.dumps(data, separators=(",", ":")))
        summary.frame_count += 1
        if isinstance(data, Mapping):
            summary.add_detections(data.get("detections"))
            if on_frame is not None:
                on_frame(data)
    summary.frames_decoded = summary.frame_count
    out.write(f'], "frames_decoded": {summary.frames_decoded}}}')
    total = document.get("total_frames")
    if isinstance(total, int) and total > summary.frame_count:
        summary.frame_count = total
    return summary


def write_image_results(out: IO[str], header: dict[str, Any], result: Any) -> Summary:
    """``{...header, "results": {...}}``, as ForgeSyte writes image results."""
    data = to_jsonable(unwrap(result))
    summary = Summary(frame_count=1)
    if isinstance(data, Mapping):
        for key in ("detections", *_DETECTION_LISTS, "blocks"):
            if isinstance(data.get(key), list):
                summary.add_detections(data[key])
                break
    json.dump({**header, "results": data}, out)
    return summary
