"""The prober on mutated real files: any bytes give a verdict (MediaInfo or InvalidMedia), never a crash.

Hypothesis flips, overwrites, inserts, deletes and truncates bytes of a real MP4 (OpenCV's mp4v), a
fragmented MP4 (ffmpeg's), a PNG and a JPEG, with box sizes and counts as favourite targets.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media import BytesSource, Limits, probe_media
from tests.media_factory import MediaFiles

LIMITS = Limits(max_bytes=2**31, max_video_seconds=3600, max_video_pixels=3840 * 2160, max_image_pixels=50_000_000)
CASES = 2000


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    media = MediaFiles(tmp_path_factory.mktemp("seeds"))
    return {
        "mp4": media.mp4v.read_bytes(),
        "fragmented_mp4": media.fragmented.read_bytes(),  # ffmpeg: make install adds it
        "png": media.image("png").read_bytes(),
        "jpeg": media.image("jpg").read_bytes(),
    }


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**7), st.integers(1, 255)),
    st.tuples(st.just("size"), st.integers(0, 10**7), st.sampled_from([0, 1, 7, 8, 2**31, 2**32 - 1])),
    st.tuples(st.just("insert"), st.integers(0, 10**7), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**7), st.integers(1, 64)),
    st.tuples(st.just("truncate"), st.integers(0, 10**7), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, object]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, value in mutations:
        if not buffer:
            break
        at = position % len(buffer)
        if kind == "flip":
            buffer[at] ^= int(value)  # type: ignore[call-overload]
        elif kind == "size":
            buffer[at : at + 4] = struct.pack(">I", int(value))  # type: ignore[call-overload]
        elif kind == "insert":
            buffer[at:at] = bytes(value)  # type: ignore[call-overload]
        elif kind == "delete":
            del buffer[at : at + int(value)]  # type: ignore[call-overload]
        else:
            del buffer[at:]
    return bytes(buffer)


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["mp4", "fragmented_mp4", "png", "jpeg"]),
    mutations=st.lists(MUTATION, min_size=1, max_size=6),
)
def test_mutated_media_gets_a_verdict_never_a_crash(
    seeds: dict[str, bytes], kind: str, mutations: list[tuple[str, int, object]]
) -> None:
    data = mutate(seeds[kind], mutations)
    reason = "accepted"
    try:
        probe_media(BytesSource(data), LIMITS)
    except InvalidMedia as refused:  # the only exception allowed: a verdict with a reason
        reason = refused.message
    assert reason
