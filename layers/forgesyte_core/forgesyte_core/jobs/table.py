"""The PynamoDB model behind :class:`~forgesyte_core.jobs.store.JobStore`.

PynamoDB fixes a table's name in ``Meta`` at class creation, so the class is built per table name
on first use instead of at import time (settings are read lazily).
"""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

STATUS_INDEX = "status-created_at-index"
OWNER_INDEX = "owner-created_at-index"


class StatusIndex(GlobalSecondaryIndex["JobItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = STATUS_INDEX
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OwnerIndex(GlobalSecondaryIndex["JobItem"]):  # type: ignore[no-untyped-call]
    """A caller's jobs, newest first: the API lists only these."""

    class Meta:
        index_name = OWNER_INDEX
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class JobItem(Model):
    """Attribute layout; use :func:`job_item_class` for a class bound to a real table."""

    class Meta:
        table_name = "unbound"

    job_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    plugin_id = UnicodeAttribute()
    tool = UnicodeAttribute()
    job_type = UnicodeAttribute()
    input_key = UnicodeAttribute()
    content_type = UnicodeAttribute()
    declared_bytes = NumberAttribute()
    options = JSONAttribute(default=dict)
    output_key = UnicodeAttribute(null=True)
    media = JSONAttribute(null=True)
    input_etag = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute(null=True)
    progress = NumberAttribute(default=0)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    compute = UnicodeAttribute(null=True)
    compute_run_id = UnicodeAttribute(null=True)
    attempt = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    heartbeat_at = UTCDateTimeAttribute(null=True)
    upload_expires_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    summary = JSONAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    status_index = StatusIndex()
    owner_index = OwnerIndex()


@lru_cache(maxsize=8)
def job_item_class(table_name: str, region: str) -> type[JobItem]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    status_meta = type("Meta", (), {"index_name": STATUS_INDEX, "projection": AllProjection()})
    owner_meta = type("Meta", (), {"index_name": OWNER_INDEX, "projection": AllProjection()})
    status_index = type("BoundStatusIndex", (StatusIndex,), {"Meta": status_meta})
    owner_index = type("BoundOwnerIndex", (OwnerIndex,), {"Meta": owner_meta})
    return type(
        f"JobItem_{table_name}",
        (JobItem,),
        {"Meta": meta, "status_index": status_index(), "owner_index": owner_index(), "__module__": __name__},
    )
