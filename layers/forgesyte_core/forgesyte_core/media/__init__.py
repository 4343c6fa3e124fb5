"""Media probing by bytes: never by file name, never by reading a whole file."""

from forgesyte_core.media.info import Limits, MediaInfo
from forgesyte_core.media.probe import probe_media
from forgesyte_core.media.source import ByteSource, BytesSource, FileSource

__all__ = ["ByteSource", "BytesSource", "FileSource", "Limits", "MediaInfo", "probe_media"]
