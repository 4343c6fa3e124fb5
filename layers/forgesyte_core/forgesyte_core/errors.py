"""Domain errors. Handlers map them to HTTP in one place (functions/api)."""

from __future__ import annotations


class ForgeSyteError(Exception):
    """Base class; ``code`` is the machine-readable error code stored on a failed job."""

    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ForgeSyteError):
    code = "bad_request"


class NotFound(ForgeSyteError):
    code = "not_found"


class Conflict(ForgeSyteError):
    code = "conflict"


class PayloadTooLarge(ForgeSyteError):
    code = "payload_too_large"


class Unprocessable(ForgeSyteError):
    code = "unprocessable"


class InvalidMedia(ForgeSyteError):
    """The uploaded bytes are not media this job can take."""

    code = "invalid_media"


class InputChanged(ForgeSyteError):
    """The uploaded object is no longer the one ingest validated (replaced through a reused upload form)."""

    code = "input_changed"


class ForbiddenLocation(Unprocessable):
    """An option names a file outside the allowed model locations."""

    code = "forbidden_location"


class AlreadyExists(Conflict):
    code = "already_exists"


class TransitionConflict(Conflict):
    """A conditional status update lost: the job is no longer in the status the caller expected."""

    code = "transition_conflict"


class JobCancelled(ForgeSyteError):
    """Raised inside a run when the job was cancelled meanwhile; the runner stops the plugin."""

    code = "cancelled"


class PluginLoadError(ForgeSyteError):
    code = "plugin_load_error"


class PluginFailed(ForgeSyteError):
    """The plugin raised or reported ``success: false``."""

    code = "plugin_error"
