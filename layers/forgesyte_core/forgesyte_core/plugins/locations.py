"""Options that name a file (a model) may only point inside the allowed model locations.

A tool lists such options in its manifest (``"file_options": ["model"]``). Without this check a
caller could hand the runner any path it can read (``/etc/hostname``) or another job's upload
(``s3://bucket/uploads/<job>/input``). Both the API (422 at submit) and the runner check.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from forgesyte_core.errors import ForbiddenLocation


def _normalised(location: str) -> str | None:
    """The location with ``.`` and ``..`` resolved, or None when it cannot be trusted at all."""
    if "\0" in location or "\\" in location:
        return None
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        if not bucket or not key or any(part in ("", ".", "..") for part in key.split("/")):
            return None
        return f"s3://{bucket}/{key}"
    if not location.startswith("/"):
        return None
    return posixpath.normpath(location)


def is_allowed(location: str, allowed: Iterable[str]) -> bool:
    resolved = _normalised(location)
    return resolved is not None and any(
        resolved.startswith(prefix if prefix.endswith("/") else prefix + "/") for prefix in allowed
    )


def check_file_options(tool: dict[str, Any], options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in tool.get("file_options") or ():
        if name not in options:
            continue
        value = options[name]
        if not isinstance(value, str) or not is_allowed(value, allowed):
            places = ", ".join(allowed) or "none configured"
            raise ForbiddenLocation(
                f"options.{name} must be a file under the allowed model locations ({places}); got {value!r}"
            )
