"""Where the model comes from: options["model"], else $YOLO_MODEL; a local path or an s3:// URI.

The runner image can bake a model in (``docker build --build-arg YOLO_MODEL_FILE=...``), which sets
YOLO_MODEL. Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

HOW_TO = (
    "no YOLO model configured: pass options.model (the path or s3:// URI of a YOLOv8/YOLO11 ONNX export, "
    "`yolo export format=onnx`), set YOLO_MODEL in the runner, or bake one into the runner image with "
    "`--build-arg YOLO_MODEL_FILE=model.onnx` (file in functions/runner/models/)"
)
CACHE_DIR = Path(os.environ.get("WORK_DIR", "/tmp")) / "forgesyte-models"


def default_model_configured() -> bool:
    return bool(os.environ.get("YOLO_MODEL", "").strip())


def model_location(options: dict[str, Any]) -> str:
    location = str(options.get("model") or os.environ.get("YOLO_MODEL", "")).strip()
    if not location:
        raise ValueError(HOW_TO)
    return location


def local_model_path(location: str, s3: Any = None) -> str:
    """A local file for ``location``; an s3:// object is downloaded once per container."""
    if not location.startswith("s3://"):
        if not Path(location).is_file():
            raise ValueError(f"YOLO model not found at {location}; {HOW_TO}")
        return location
    parsed = urlparse(location)
    target = CACHE_DIR / parsed.netloc / parsed.path.lstrip("/")
    if not target.is_file():
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        s3.download_file(parsed.netloc, parsed.path.lstrip("/"), str(partial))
        partial.rename(target)
    return str(target)
