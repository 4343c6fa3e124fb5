"""Tracking shared by the ForgeSyte tracker plugins: ByteTrack-style association and video output."""

from forgesyte_tracking.bytetrack import ByteTracker, Track
from forgesyte_tracking.video import Detections, track_video

__all__ = ["ByteTracker", "Detections", "Track", "track_video"]
