"""Settings read from the environment, lazily: nothing is read at import time.

Every function calls :func:`get_settings` when it needs a value; tests change the environment and
call :func:`reset_settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

DISPATCH_MODES = ("auto", "lambda", "batch")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


# The bucket's own prefixes: a drop prefix inside one (or holding one) would turn uploads or results
# into drops.
RESERVED_PREFIXES = ("uploads/", "results/", "models/")
# Measured: a 7,000×7,000 16-bit RGBA PNG (374 MiB decoded) took the runner from 190 to 1,053 MiB.
RUNNER_BASE_MB = 400
DECODE_COPIES = 6


def _drop_prefix() -> str:
    prefix = os.environ.get("DROP_PREFIX", "").strip() or "incoming/"
    if not prefix.endswith("/") or prefix.startswith("/"):
        raise ValueError(f"DROP_PREFIX must be a folder like incoming/ (no leading /, a trailing /), got {prefix!r}")
    for reserved in RESERVED_PREFIXES:
        if prefix.startswith(reserved) or reserved.startswith(prefix):
            raise ValueError(f"DROP_PREFIX {prefix!r} overlaps the bucket's {reserved} prefix")
    return prefix


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    region: str
    work_queue_url: str = ""
    batch_job_queue: str = ""
    batch_job_definition: str = ""
    dispatch_mode: str = "auto"
    # Videos at least this long go to Batch under the "auto" policy.
    batch_min_video_seconds: float = 300.0
    # Longer videos never go to the runner Lambda (900 s limit); without Batch they fail at ingest.
    lambda_max_video_seconds: float = 600.0
    # A Lambda runner stops the plugin this long before its deadline and fails the job with the reason.
    lambda_deadline_margin_s: float = 30.0
    max_upload_bytes: int = 2 * 1024**3
    max_image_bytes: int = 50 * 1024**2
    max_video_seconds: float = 3600.0
    max_video_pixels: int = 3840 * 2160
    max_image_pixels: int = 50_000_000
    # An image's decoded size (pixels × channels × bytes a channel) the runner's memory can hold: the
    # runner itself takes ~400 MiB, and decoding, colour conversion and a plugin's copies ~6× the image.
    max_image_decoded_bytes: int = (3008 - RUNNER_BASE_MB) * 2**20 // DECODE_COPIES
    upload_url_expiry_s: int = 900
    job_event_bus: str = ""  # EventBridge bus for job status changes; empty: none are published
    webhooks_enabled: bool = False  # the stack has a WebhookSecret: submit takes callback_url
    webhook_secret: str = ""  # the webhook function's signing key (only it gets this)
    webhook_allow_localhost: bool = False  # the local stack only: http://127.0.0.1 receivers
    multipart_window_s: int = 6 * 3600  # how long a job waits for a multipart upload once started
    result_url_expiry_s: int = 3600
    job_ttl_days: int = 30
    heartbeat_timeout_s: int = 300
    # Segmented runs (compute/segments.py): videos at least this long, with a tool that says it can be
    # cut, run as segments of about SEGMENT_SECONDS at once; 0 turns segmenting off.
    segment_min_video_seconds: float = 120.0
    segment_seconds: float = 60.0
    segment_overlap_frames: int = 30
    max_segments: int = 600
    # Runs a job may get: a run that dies (no heartbeat, Batch FAILED, work DLQ) is retried until then.
    max_attempts: int = 2
    queued_timeout_s: int = 3600
    upload_grace_s: int = 300
    progress_interval_s: float = 2.0
    # A submit's options: JSON bytes and nesting depth (DynamoDB items are at most 400 KB and 32 deep).
    max_options_bytes: int = 16 * 1024
    max_options_depth: int = 8
    plugin_allowlist: tuple[str, ...] = field(default_factory=tuple)
    # Where options that name a file (a model) may point; empty: the images' baked models and the
    # bucket's models/ prefix (see allowed_model_locations).
    model_locations: tuple[str, ...] = field(default_factory=tuple)
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    catalog_path: str = ""
    work_dir: str = "/tmp"
    # Set only by the local stack: a command that runs a job the way a Batch job would.
    local_batch_command: str = ""
    # Objects written under it become jobs: {drop_prefix}{plugin_id}/{tool}/{name} (drops.py).
    drop_prefix: str = "incoming/"

    @classmethod
    def from_env(cls) -> Settings:
        mode = os.environ.get("DISPATCH_MODE", "auto").strip() or "auto"
        if mode not in DISPATCH_MODES:
            raise ValueError(f"DISPATCH_MODE must be one of {', '.join(DISPATCH_MODES)}, got {mode!r}")
        return cls(
            table_name=os.environ.get("JOBS_TABLE", "forgesyte-jobs"),
            bucket_name=os.environ.get("MEDIA_BUCKET", "forgesyte-media"),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            work_queue_url=os.environ.get("WORK_QUEUE_URL", ""),
            batch_job_queue=os.environ.get("BATCH_JOB_QUEUE", ""),
            batch_job_definition=os.environ.get("BATCH_JOB_DEFINITION", ""),
            dispatch_mode=mode,
            batch_min_video_seconds=_float("BATCH_MIN_VIDEO_SECONDS", 300.0),
            lambda_max_video_seconds=_float("LAMBDA_MAX_VIDEO_SECONDS", 600.0),
            lambda_deadline_margin_s=_float("LAMBDA_DEADLINE_MARGIN_S", 30.0),
            max_upload_bytes=_int("MAX_UPLOAD_BYTES", 2 * 1024**3),
            max_image_bytes=_int("MAX_IMAGE_BYTES", 50 * 1024**2),
            max_video_seconds=_float("MAX_VIDEO_SECONDS", 3600.0),
            max_video_pixels=_int("MAX_VIDEO_PIXELS", 3840 * 2160),
            max_image_pixels=_int("MAX_IMAGE_PIXELS", 50_000_000),
            max_image_decoded_bytes=_int(
                "MAX_IMAGE_DECODED_BYTES",
                (_int("RUNNER_MEMORY_MB", 3008) - RUNNER_BASE_MB) * 2**20 // DECODE_COPIES,
            ),
            upload_url_expiry_s=_int("UPLOAD_URL_EXPIRY_S", 900),
            job_event_bus=os.environ.get("JOB_EVENT_BUS", ""),
            webhooks_enabled=os.environ.get("WEBHOOKS_ENABLED", "").lower() == "true",
            webhook_secret=os.environ.get("WEBHOOK_SECRET", ""),
            webhook_allow_localhost=os.environ.get("WEBHOOK_ALLOW_LOCALHOST", "").lower() == "true",
            multipart_window_s=_int("MULTIPART_WINDOW_S", 6 * 3600),
            result_url_expiry_s=_int("RESULT_URL_EXPIRY_S", 3600),
            job_ttl_days=_int("JOB_TTL_DAYS", 30),
            heartbeat_timeout_s=_int("HEARTBEAT_TIMEOUT_S", 300),
            max_attempts=_int("MAX_ATTEMPTS", 2),
            segment_min_video_seconds=_float("SEGMENT_MIN_VIDEO_SECONDS", 120.0),
            segment_seconds=_float("SEGMENT_SECONDS", 60.0),
            segment_overlap_frames=_int("SEGMENT_OVERLAP_FRAMES", 30),
            max_segments=_int("MAX_SEGMENTS", 600),
            queued_timeout_s=_int("QUEUED_TIMEOUT_S", 3600),
            upload_grace_s=_int("UPLOAD_GRACE_S", 300),
            progress_interval_s=_float("PROGRESS_INTERVAL_S", 2.0),
            max_options_bytes=_int("MAX_OPTIONS_BYTES", 16 * 1024),
            max_options_depth=_int("MAX_OPTIONS_DEPTH", 8),
            plugin_allowlist=_list("PLUGIN_ALLOWLIST"),
            model_locations=_list("MODEL_LOCATIONS"),
            cors_origins=_list("CORS_ORIGINS"),
            catalog_path=os.environ.get("PLUGIN_CATALOG_PATH", ""),
            work_dir=os.environ.get("WORK_DIR", "/tmp"),
            local_batch_command=os.environ.get("LOCAL_BATCH_COMMAND", ""),
            drop_prefix=_drop_prefix(),
        )


BAKED_MODELS = "/opt/forgesyte/models/"


def allowed_model_locations(settings: Settings) -> tuple[str, ...]:
    return settings.model_locations or (BAKED_MODELS, f"s3://{settings.bucket_name}/models/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget the cached settings (tests, and the local stack after it rewrites the environment)."""
    get_settings.cache_clear()
