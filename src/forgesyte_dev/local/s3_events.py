"""S3 notifications as AWS sends them, from moto's: with a ``sequencer``.

moto's records carry neither a version id nor a sequencer, so a key written again with the same
bytes looked like a duplicate of the first write (ingest fell back to the ETag) and made no new job,
where AWS makes one. Each record gets a sequencer here, derived from what tells one write from
another in the record (its time, key, ETag and size): every delivery of one event, the dead-lettered
copy included, gets the same one, and it orders by time as AWS's do.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def sequencer(record: dict[str, Any]) -> str:
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    when = str(record.get("eventTime", ""))
    try:
        millis = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        millis = 0
    identity = f"{(s3.get('bucket') or {}).get('name')}/{obj.get('key')}@{when}/{obj.get('eTag')}/{obj.get('size')}"
    return f"{millis:012X}{hashlib.sha256(identity.encode()).hexdigest()[:8].upper()}"


def with_sequencers(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS event whose S3 notification records all carry a sequencer (bodies that are not one pass as is)."""
    for message in event.get("Records", []):
        try:
            body = json.loads(message.get("body") or "")
        except ValueError:
            continue
        if not isinstance(body, dict) or not isinstance(body.get("Records"), list):
            continue
        for record in body["Records"]:
            obj = (record.get("s3") or {}).get("object")
            if isinstance(obj, dict) and not obj.get("sequencer"):
                obj["sequencer"] = sequencer(record)
        message["body"] = json.dumps(body)
    return event
