"""``forgesyte probe FILE...``: the ingest prober over local files, one JSON line per file."""

from __future__ import annotations

import json
from typing import TextIO

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.intake.ingest import media_limits
from forgesyte_core.jobs.model import JobType
from forgesyte_core.media import FileSource, Limits, probe_media
from forgesyte_core.settings import get_settings


def probe_file(path: str, expect: str | None, limits: Limits) -> dict[str, object]:
    line: dict[str, object] = {"file": path, "ok": False, "kind": None, "reason": None, "media": None}
    try:
        info, cache = probe_media(FileSource(path), limits, expect)
    except InvalidMedia as exc:
        line["reason"] = exc.message
    except OSError as exc:
        line["reason"] = f"cannot read the file: {exc.strerror or exc}"
    else:
        line.update(ok=True, kind=info.kind, media=info.to_dict(), reads=cache.requests, bytes_read=cache.bytes_read)
    return line


def run(files: list[str], expect: str | None, out: TextIO) -> int:
    # The limits ingest applies to a job of that kind; video's (the largest) when unsaid.
    limits = media_limits(get_settings(), JobType(expect or JobType.VIDEO))
    results = [probe_file(path, expect, limits) for path in files]
    for line in results:
        out.write(json.dumps(line) + "\n")
    return 0 if all(line["ok"] for line in results) else 1
