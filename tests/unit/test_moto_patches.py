"""The local stack's moto speed-ups give moto's own answers: the same routes, orders and JSON."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import create_backend_app

from forgesyte_dev.local import moto_patches


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    moto_patches.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="jobs",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "n", "AttributeType": "N"},
                {"AttributeName": "owner", "AttributeType": "S"},
                {"AttributeName": "created", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-owner",
                    "KeySchema": [
                        {"AttributeName": "owner", "KeyType": "HASH"},
                        {"AttributeName": "created", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        rng = random.Random(4)
        for index in range(120):
            client.put_item(
                TableName="jobs",
                Item={
                    "id": {"S": f"job-{rng.randrange(40)}"},
                    "n": {"N": str(rng.choice([2, 10, 100, 9.5, -3]))},  # numbers sort as numbers, not text
                    "owner": {"S": rng.choice(["a", "b"])},
                    "created": {"S": f"2026-12-0{rng.randrange(1, 9)}T{index:04d}"},
                    "blob": {"B": bytes([index % 256, 0, 255])},
                    "tags": {"SS": ["x", f"t{index}"]},
                    "meta": {"M": {"list": {"L": [{"N": "1.50"}, {"BOOL": True}, {"NULL": True}]}}},
                },
            )
        yield client


def test_table_sorts_give_moto_s_own_order(dynamodb: Any) -> None:
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["jobs"]
    original_all = Table.all_items.__wrapped__  # type: ignore[attr-defined]
    assert [i.attrs for i in Table.all_items(table)] == [i.attrs for i in original_all(table)]
    items = list(table.all_items())
    original_sorted = Table.sorted_items.__wrapped__  # type: ignore[attr-defined]
    by_index = (["owner", "id"], ["created", "n"])
    assert [i.attrs for i in Table.sorted_items(table, *by_index, list(items))] == [
        i.attrs for i in original_sorted(table, *by_index, list(items))
    ]


def test_item_answers_are_the_json_moto_s_serializer_writes(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = DynamoResult.execute_result
    generic = fast.__wrapped__  # type: ignore[attr-defined]
    compared: list[str] = []

    def both(self: ActionResult, context: Any) -> Any:
        mine, theirs = fast(self, context), generic(self, context)
        assert (mine[0], mine[1]) == (theirs[0], theirs[1])
        assert json.loads(mine[2]) == json.loads(theirs[2]), context.operation_model.name
        compared.append(context.operation_model.name)
        return mine

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    page = dynamodb.query(
        TableName="jobs",
        IndexName="by-owner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "a"}},
        ScanIndexForward=False,
        Limit=20,
    )
    assert page["Count"] == 20
    assert "LastEvaluatedKey" in page
    assert page["Items"][0]["blob"]["B"]  # binary values come back as bytes
    first = page["Items"][0]
    dynamodb.get_item(TableName="jobs", Key={"id": first["id"], "n": first["n"]})
    dynamodb.update_item(
        TableName="jobs",
        Key={"id": first["id"], "n": first["n"]},
        UpdateExpression="SET meta.x = :x",
        ExpressionAttributeValues={":x": {"S": "y"}},
        ReturnValues="ALL_NEW",
    )
    dynamodb.scan(TableName="jobs", Limit=5)
    dynamodb.describe_table(TableName="jobs")  # not an item answer: the generic path
    assert compared == ["Query", "GetItem", "UpdateItem", "Scan", "DescribeTable"]


def test_a_host_s_backend_is_found_once_and_is_moto_s_answer() -> None:
    moto_patches.install()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    original = DomainDispatcherApplication.get_backend_for_host.__wrapped__  # type: ignore[attr-defined]
    for host in ("dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com", "s3.amazonaws.com", None):
        assert dispatcher.get_backend_for_host(host) == original(dispatcher, host)
    assert "dynamodb.us-east-1.amazonaws.com" in dispatcher.__dict__["_forgesyte_backends"]


def test_a_response_class_s_action_names_are_moto_s_own_and_worked_out_once() -> None:
    import moto.core.responses
    from moto.core.utils import method_names_from_class
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.responses import SQSResponse

    moto_patches.install()
    names = moto.core.responses.method_names_from_class
    for handler in (DynamoHandler, SQSResponse):
        assert names(handler) == method_names_from_class(handler)
        assert names(handler) is names(handler)
    assert "query" in names(DynamoHandler)


def test_a_write_waits_for_a_read_s_answer_to_be_built(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers a read with the stored item's own attributes, copied after its backend returns; a
    write must not change them until the copy is made (it did: "dictionary changed size")."""
    from moto.dynamodb.models.dynamo_type import Item

    key = {"id": {"S": "held"}, "n": {"N": "1"}}
    dynamodb.put_item(TableName="jobs", Item={**key, "status": {"S": "queued"}})
    reading, release = threading.Event(), threading.Event()
    real_describe = Item.describe_attrs

    def describe_then_hold(self: Item, *args: Any, **kwargs: Any) -> Any:
        answer = real_describe(self, *args, **kwargs)
        if threading.current_thread().name == "reader":
            reading.set()
            release.wait(timeout=30)
        return answer

    monkeypatch.setattr(Item, "describe_attrs", describe_then_hold)
    answers: dict[str, Any] = {}
    reader = threading.Thread(
        name="reader", target=lambda: answers.setdefault("read", dynamodb.get_item(TableName="jobs", Key=key))
    )
    writer = threading.Thread(
        target=lambda: answers.setdefault(
            "write",
            dynamodb.update_item(
                TableName="jobs",
                Key=key,
                UpdateExpression="SET #s = :s, attempt = :a",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "running"}, ":a": {"N": "1"}},
            ),
        )
    )
    reader.start()
    assert reading.wait(timeout=30)
    writer.start()
    writer.join(timeout=1)
    held = writer.is_alive()  # still waiting for the read's answer
    release.set()
    reader.join(timeout=30)
    writer.join(timeout=30)
    assert held
    assert answers["read"]["Item"] == {**key, "status": {"S": "queued"}}  # the item as it was, whole
    assert dynamodb.get_item(TableName="jobs", Key=key)["Item"]["status"] == {"S": "running"}
