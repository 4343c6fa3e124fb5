"""``Idempotency-Key`` on submit: a retried request returns the job the first one created.

The job id is derived from the caller and the key, so the job record itself is the idempotency
record: the create is conditional on that id being new, and a replay compares the request's
fingerprint with the one stored on the job (same key, different request: 409).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from forgesyte_core.errors import BadRequest

MAX_KEY_LENGTH = 255


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return key


def job_id_for(caller: str, key: str) -> str:
    """A version-4-shaped UUID from the caller and key (upload keys accept only that shape)."""
    digest = bytearray(hashlib.sha256(f"{caller}\0{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def fingerprint(job_type: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps({"job_type": job_type, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
