"""Tracking shared by the ForgeSyte tracker plugins: ByteTrack-style association and video output."""

from forgesyte_tracking.bytetrack import ByteTracker, Track
from forgesyte_tracking.video import Detections, StreamDetector, per_frame, track_video

__all__ = ["ByteTracker", "Detections", "StreamDetector", "Track", "per_frame", "track_video"]
