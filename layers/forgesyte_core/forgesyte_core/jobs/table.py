"""The PynamoDB model behind :class:`~forgesyte_core.jobs.store.JobStore`.

PynamoDB fixes a table's name in ``Meta`` at class creation, so the class is built per table name
on first use instead of at import time (settings are read lazily).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
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
    artifacts = JSONAttribute(null=True)
    callback_url = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    # A segmented run's cuts by index ("0", "1", ...): each updated in place by path, conditionally.
    segments = MapAttribute(null=True)  # type: ignore[var-annotated,no-untyped-call]
    segments_done = NumberAttribute(default=0)
    status_index = StatusIndex()
    owner_index = OwnerIndex()


def job_item_class(table_name: str, region: str, client: Any | None = None) -> type[JobItem]:
    """The item class bound to ``table_name``; with ``client`` (a boto3/botocore DynamoDB client), a
    class of its own that sends every call through that client, so a test can stub or fail any call."""
    if client is None:
        return _shared_item_class(table_name, region)
    cls = _item_class(table_name, region)
    # PynamoDB offers no public way to hand a model a client; its connection builds one lazily here.
    cls._get_connection().connection._client = client
    return cls


@lru_cache(maxsize=8)
def _shared_item_class(table_name: str, region: str) -> type[JobItem]:
    return _item_class(table_name, region)


def forget_shared_item_classes() -> None:
    _shared_item_class.cache_clear()


def _item_class(table_name: str, region: str) -> type[JobItem]:
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
