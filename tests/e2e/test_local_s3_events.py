"""The local stack's S3 events carry a sequencer, as AWS's do: writing the same bytes again at a
drop's key makes a new job there too (it used to look like a duplicate of the first write)."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import boto3

from forgesyte_dev.local.s3_events import sequencer, with_sequencers
from forgesyte_dev.local.stack import LocalStack


def drop_jobs(stack: LocalStack, key: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["moto_url"], region_name="us-east-1")
    items = dynamodb.scan(TableName=stack.info["table"])["Items"]
    return [item for item in items if item.get("input_key", {}).get("S") == key]


def test_the_same_bytes_dropped_twice_at_one_key_make_two_jobs(stack: LocalStack, tmp_path: Path) -> None:
    from tests.media_factory import write_mp4v

    data = write_mp4v(tmp_path / "clip.mp4").read_bytes()
    s3 = boto3.client("s3", endpoint_url=stack.info["moto_url"], region_name="us-east-1")
    key = "incoming/frame-counter/count_frames/camera-7.mp4"
    for expected in (1, 2):
        s3.put_object(Bucket=stack.info["bucket"], Key=key, Body=data, ContentType="video/mp4")
        deadline = time.monotonic() + 60
        while len(drop_jobs(stack, key)) < expected or not all(
            j["status"]["S"] == "completed" for j in drop_jobs(stack, key)
        ):
            assert time.monotonic() < deadline, drop_jobs(stack, key)
            time.sleep(0.2)
        time.sleep(0.01)  # the second write is another millisecond: another event time
    assert len(drop_jobs(stack, key)) == 2


def test_every_delivery_of_one_event_gets_the_same_sequencer_and_a_new_write_another() -> None:
    record = {
        "eventTime": "2026-12-03T09:40:00.123Z",
        "s3": {"bucket": {"name": "b"}, "object": {"key": "incoming/p/t/a.mp4", "eTag": "e", "size": 5}},
    }
    again = copy.deepcopy(record)
    later = copy.deepcopy(record)
    later["eventTime"] = "2026-12-03T09:40:00.124Z"
    assert sequencer(record) == sequencer(again)
    assert sequencer(later) != sequencer(record)
    assert sequencer(later) > sequencer(record)  # ordered by time, as S3's are
    event = {
        "Records": [{"body": '{"Records": [' + __import__("json").dumps(record) + "]}"}, {"body": '{"job_id": "x"}'}]
    }
    enriched = with_sequencers(event)
    assert sequencer(record) in enriched["Records"][0]["body"]
    assert enriched["Records"][1]["body"] == '{"job_id": "x"}'
