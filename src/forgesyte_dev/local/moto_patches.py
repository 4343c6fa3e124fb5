"""The moto server the local stack embeds, made as atomic as DynamoDB and faster, with moto's answers.

**Atomic items.** DynamoDB checks a write's condition and writes the item as one step; moto's
server runs each request on a thread of its own and does not lock, so two conditional writes to
one item (two runners claiming a job, two retries of one idempotent submit) could both pass. Its
DynamoDB item requests take one lock here, as the tests' ``atomic_writes`` fixture does in-process:
the whole request, answer included, because moto answers a read with the stored item's own
attributes and a write changes them in place ("dictionary changed size during iteration").

**Speed.**

Measured with 1,000 parallel ``GET /v1/jobs`` (bench/load.py): the stack's process spent 6 ms of
CPU a request, most of it in moto, all of it behind one lock or the GIL. Two hot spots do work whose
answer never changes:

- **Routing.** For every request moto's dispatcher looks for the backend of the request's host by
  listing moto's package folder (a ``stat`` per entry, some 200) and then trying its URL patterns,
  under a lock shared by every request. The answer depends on the host alone, so it is kept per host.
- **DynamoDB sorts.** A query sorts every item of the table by key, then the matches by the index's
  keys, comparing moto's ``DynamoType`` objects, which work out their value again at each comparison:
  about 30,000 times for one page of a 500-job list. The sort keys are worked out once an item
  instead, which gives the same order (a key attribute has one type in a table).
- **Action names.** To find a request's handler, moto lists every function of the response class with
  ``inspect.getmembers`` on every request (some 0.1 ms); a class's functions do not change, so the
  list is kept per class.
- **DynamoDB answers.** Items go back through moto's generic serializer, which walks the service
  model for every attribute value: some 2 ms an item, most of a 20-job page's time. An answer that
  holds only items, counts and keys is the same JSON (binary values base64, as the serializer
  writes them), so it is dumped directly; any other answer takes the generic path.

``install()`` is idempotent and affects only this process's moto (the local stack's server).
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

# Operations whose answers hold only items, counts, keys and consumed capacity: plain JSON.
ITEM_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
)

_installed = False
_lock = threading.Lock()


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        make_dynamodb_atomic()
        _remember_backends_per_host()
        _sort_by_values_worked_out_once()
        _dump_items_directly()
        _action_names_once_a_class()
        _installed = True


# moto's DynamoDB request handlers (moto.dynamodb.responses.DynamoHandler) that read or write items.
ITEM_REQUESTS = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
)


def make_dynamodb_atomic(set_attribute: Callable[[Any, str, Any], None] = setattr) -> None:
    """One lock around each of moto's DynamoDB item requests, from reading the request to building
    the answer (``set_attribute``: how to patch; a test's ``monkeypatch.setattr`` undoes it
    afterwards). The backend's calls alone are not enough: moto answers a read by copying the stored
    item's attributes after the backend returns, and a write meanwhile changed them under it."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    for name in ITEM_REQUESTS:
        real = getattr(DynamoHandler, name)

        def atomic(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            with lock:
                return _real(self, *args, **kwargs)

        set_attribute(DynamoHandler, name, functools.wraps(real)(atomic))


def _remember_backends_per_host() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    uncached = DomainDispatcherApplication.get_backend_for_host

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        known: dict[str | None, Any] = self.__dict__.setdefault("_forgesyte_backends", {})
        if host not in known:
            known[host] = uncached(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = functools.wraps(uncached)(get_backend_for_host)  # type: ignore[method-assign]


def _sort_by_values_worked_out_once() -> None:
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)

        def key(item: Any) -> Any:
            if item.range_key:
                return (item.hash_key.cast_value, item.range_key.cast_value)
            return item.hash_key.cast_value

        return sorted(items, key=key)

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> Any:
        attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple(item.attrs[name].cast_value for name in attrs))
        return items

    Table.all_items = functools.wraps(Table.all_items)(all_items)  # type: ignore[method-assign]
    Table.sorted_items = functools.wraps(Table.sorted_items)(sorted_items)  # type: ignore[method-assign]


def _binary(value: object) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dump_items_directly() -> None:
    from moto.dynamodb.responses import DynamoResult

    generic = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_OPERATIONS or not isinstance(self.result, dict):
            return generic(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result, default=_binary)

    DynamoResult.execute_result = functools.wraps(generic)(execute_result)  # type: ignore[method-assign]


def _action_names_once_a_class() -> None:
    import moto.core.responses
    from moto.core.utils import method_names_from_class

    moto.core.responses.method_names_from_class = functools.cache(method_names_from_class)  # type: ignore[attr-defined]
