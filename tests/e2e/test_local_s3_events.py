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


def test_the_local_operator_sees_drop_jobs_which_no_api_key_owns(stack: LocalStack, tmp_path: Path) -> None:
    """Issue 19: drop jobs never appeared in `forgesyte jobs`, and `forgesyte job` refused their ids."""
    import pytest

    from forgesyte_dev.client import ApiClient, ApiError
    from forgesyte_dev.local_drops import list_drop_jobs, view_drop_job
    from tests.media_factory import write_mp4v

    s3 = boto3.client("s3", endpoint_url=stack.info["moto_url"], region_name="us-east-1")
    key = "incoming/frame-counter/count_frames/gate-9.mp4"
    s3.put_object(Bucket=stack.info["bucket"], Key=key, Body=write_mp4v(tmp_path / "c.mp4").read_bytes())
    deadline = time.monotonic() + 60
    while not [j for j in drop_jobs(stack, key) if j["status"]["S"] == "completed"]:
        assert time.monotonic() < deadline, drop_jobs(stack, key)
        time.sleep(0.2)
    (job_id,) = [j["job_id"]["S"] for j in drop_jobs(stack, key)]
    api = ApiClient(stack.info["api_url"], stack.info["api_key"])
    with pytest.raises(ApiError) as hidden:
        api.job(job_id)
    assert hidden.value.status == 404  # the API key does not own it: the API shows it to no caller
    listed = list_drop_jobs(stack.info, "completed", 50)["jobs"]
    assert job_id in [j["job_id"] for j in listed]
    view = view_drop_job(stack.info, job_id[:8])  # the short id progress lines print
    assert (view["job_id"], view["status"]) == (job_id, "completed")
    assert view["result_url"].startswith(stack.info["moto_url"])
    with pytest.raises(ApiError, match="no job"):
        view_drop_job(stack.info, "ffffffff")
