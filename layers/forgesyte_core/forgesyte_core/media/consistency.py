"""What an MP4 declares, checked against what its sample tables hold.

A header can say anything: a 53 KiB file whose ``mdhd`` claims 50 minutes of 4K would be routed to
a GPU, and its results would report 90,000 frames while 30 decode. So the declared duration is
checked against the samples' own timings (``stts``), the frame count against the sizes (``stsz``),
and the sizes and chunk offsets against the file's bytes. A file that disagrees is refused, naming
the disagreement; one that agrees is described by its samples (duration, frames, fps), which is
what routing and limits then use.
"""

from __future__ import annotations

import dataclasses

from forgesyte_core.errors import InvalidMedia
from forgesyte_core.media.info import MediaInfo
from forgesyte_core.media.samples import SampleTable

# Encoders round durations, and an audio track or an edit list may run a little past the video.
SLACK_SECONDS = 1.0
SLACK_SHARE = 0.05


@dataclasses.dataclass(frozen=True)
class Declared:
    """The video track's own claims, from its headers and its ``stts``."""

    seconds: float  # mdhd (or mvhd) duration
    movie_seconds: float  # mvhd duration
    longest_track_seconds: float  # the longest track's samples, audio included
    timed_frames: int  # stts sample count
    timed_seconds: float  # stts ticks ÷ the track's timescale


def check_against_samples(info: MediaInfo, declared: Declared, table: SampleTable) -> MediaInfo:
    """``info`` with the duration, frame count and rate the samples support; InvalidMedia if they disagree."""
    frames = table.frames
    if declared.timed_frames != frames:
        raise InvalidMedia(
            f"the sample tables disagree: 'stts' times {declared.timed_frames} frames but 'stsz' sizes {frames}"
        )
    end = max((offset + size for offset, size in zip(table.offsets, table.sizes, strict=True)), default=0)
    if end > info.bytes:
        raise InvalidMedia(
            f"the sample tables place frame bytes up to offset {end}, past the end of the {info.bytes}-byte file"
        )
    seconds = declared.timed_seconds
    if seconds <= 0:
        raise InvalidMedia(f"the {frames} frames have no duration in 'stts'")
    if _disagree(declared.seconds, seconds):
        raise InvalidMedia(
            f"the header declares {declared.seconds:.1f} s but the {frames} frames' timings add up to {seconds:.1f} s"
        )
    if declared.movie_seconds > declared.longest_track_seconds and _disagree(
        declared.movie_seconds, declared.longest_track_seconds
    ):
        raise InvalidMedia(
            f"the movie header declares {declared.movie_seconds:.1f} s but no track's samples last longer than "
            f"{declared.longest_track_seconds:.1f} s"
        )
    return dataclasses.replace(info, duration=round(seconds, 3), frames=frames, fps=round(frames / seconds, 3))


def _disagree(claimed: float, measured: float) -> bool:
    return abs(claimed - measured) > max(SLACK_SECONDS, SLACK_SHARE * measured)
