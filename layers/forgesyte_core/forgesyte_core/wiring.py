"""The one composition root: every client and service, wired to the configured resources, built once
per container (``reset()`` forgets them all: tests and the local stack).

Handlers call these; tests build the services directly with their own clients instead. Each
factory imports its service on first use, so a function only loads the modules it needs.
"""

from __future__ import annotations

import shlex
from functools import lru_cache
from typing import TYPE_CHECKING

from forgesyte_core.clients import client
from forgesyte_core.settings import get_settings

if TYPE_CHECKING:
    from forgesyte_core.compute.dispatch import Dispatcher, Launcher
    from forgesyte_core.compute.runner import JobRunner
    from forgesyte_core.compute.segment_runner import SegmentRunner
    from forgesyte_core.intake.admission import Admission
    from forgesyte_core.intake.ingest import Ingest
    from forgesyte_core.intake.multipart import MultipartUploads
    from forgesyte_core.jobs.access import JobAccess
    from forgesyte_core.jobs.events import JobEvents
    from forgesyte_core.jobs.model import Job
    from forgesyte_core.jobs.reconcile import Reconciler
    from forgesyte_core.jobs.store import JobStore
    from forgesyte_core.jobs.webhooks import Webhooks
    from forgesyte_core.plugins.catalog import PluginCatalog
    from forgesyte_core.plugins.registry import PluginRegistry
    from forgesyte_core.storage import Storage


@lru_cache(maxsize=1)
def job_store() -> JobStore:
    from forgesyte_core.jobs.outcome_metrics import record_outcome
    from forgesyte_core.jobs.store import JobStore

    settings = get_settings()
    events = job_events() if settings.job_event_bus else None

    def on_change(job: Job) -> None:
        record_outcome(job)
        if events is not None:
            events.published(job)

    return JobStore(settings.table_name, settings.region, client("dynamodb"), on_change)


@lru_cache(maxsize=1)
def job_events() -> JobEvents:
    from forgesyte_core.jobs.events import JobEvents

    settings = get_settings()
    return JobEvents(client("events"), settings.job_event_bus, settings.bucket_name)


@lru_cache(maxsize=1)
def storage() -> Storage:
    from forgesyte_core.storage import Storage

    return Storage(client("s3"), get_settings().bucket_name)


def catalog() -> PluginCatalog:
    from forgesyte_core.plugins.catalog import load_catalog

    return load_catalog(get_settings().catalog_path)


@lru_cache(maxsize=1)
def job_access() -> JobAccess:
    from forgesyte_core.jobs.access import JobAccess

    return JobAccess(job_store(), storage(), get_settings())


@lru_cache(maxsize=1)
def webhooks() -> Webhooks:
    from forgesyte_core.jobs.webhooks import Webhooks

    settings = get_settings()
    if not settings.webhook_secret:
        raise RuntimeError("WEBHOOK_SECRET is not set: deploy with the WebhookSecret parameter")
    return Webhooks(settings.webhook_secret, allow_localhost=settings.webhook_allow_localhost)


@lru_cache(maxsize=1)
def multipart() -> MultipartUploads:
    from forgesyte_core.intake.multipart import MultipartUploads

    return MultipartUploads(job_access(), client("s3"), get_settings())


@lru_cache(maxsize=1)
def admission() -> Admission:
    from forgesyte_core.intake.admission import Admission

    return Admission(job_store(), storage(), catalog(), get_settings())


def launchers() -> dict[str, Launcher]:
    from forgesyte_core.compute.dispatch import BATCH, LAMBDA, BatchLauncher, ProcessLauncher, WorkQueueLauncher

    settings = get_settings()
    found: dict[str, Launcher] = {}
    if settings.work_queue_url:
        found[LAMBDA] = WorkQueueLauncher(client("sqs"), settings.work_queue_url)
    if settings.batch_job_queue and settings.batch_job_definition:
        found[BATCH] = BatchLauncher(client("batch"), settings.batch_job_queue, settings.batch_job_definition)
    elif settings.local_batch_command:  # the local stack's stand-in for Batch
        found[BATCH] = ProcessLauncher(shlex.split(settings.local_batch_command))
    return found


@lru_cache(maxsize=1)
def dispatcher() -> Dispatcher:
    """Routing and launching: ingest starts jobs with it, reconcile restarts dead runs."""
    from forgesyte_core.compute.dispatch import BATCH, Dispatcher, RoutingPolicy
    from forgesyte_core.compute.segments import SegmentPolicy

    settings = get_settings()
    found = launchers()
    policy = RoutingPolicy(
        settings.dispatch_mode, settings.batch_min_video_seconds, BATCH in found, settings.lambda_max_video_seconds
    )
    segmenting = SegmentPolicy(
        settings.segment_min_video_seconds,
        settings.segment_seconds,
        settings.segment_overlap_frames,
        settings.max_segments,
    )
    return Dispatcher(catalog(), policy, found, segmenting)


@lru_cache(maxsize=1)
def ingest() -> Ingest:
    from forgesyte_core.intake.drops import DropIntake
    from forgesyte_core.intake.ingest import Ingest

    settings = get_settings()
    drops = DropIntake(job_store(), storage(), catalog(), settings)
    return Ingest(job_store(), storage(), dispatcher(), settings, drops)


@lru_cache(maxsize=1)
def plugin_registry() -> PluginRegistry:
    from forgesyte_core.plugins.registry import PluginRegistry

    return PluginRegistry(get_settings().plugin_allowlist)


@lru_cache(maxsize=1)
def runner() -> JobRunner:
    """The job runner of the runner Lambda and the Batch entrypoint; plugins stay loaded while warm."""
    from forgesyte_core.compute.runner import JobRunner
    from forgesyte_core.settings import allowed_model_locations

    settings = get_settings()
    return JobRunner(
        job_store(),
        storage(),
        plugin_registry(),
        settings.work_dir,
        settings.progress_interval_s,
        allowed_model_locations(settings),
    )


@lru_cache(maxsize=1)
def segment_runner() -> SegmentRunner:
    """Segments of segmented jobs, in the same runner Lambda and Batch image; retries go where they ran."""
    from forgesyte_core.compute.segment_runner import SegmentRunner
    from forgesyte_core.settings import allowed_model_locations

    settings = get_settings()
    return SegmentRunner(
        job_store(),
        storage(),
        plugin_registry(),
        settings.work_dir,
        settings.progress_interval_s,
        settings.max_attempts,
        dispatcher().launch_segment,
        allowed_model_locations(settings),
    )


@lru_cache(maxsize=1)
def reconciler() -> Reconciler:
    from forgesyte_core.jobs.reconcile import Reconciler

    return Reconciler(job_store(), get_settings(), dispatcher())


def reset() -> None:
    """Forget every wired service (tests and the local stack, after changing the environment)."""
    from forgesyte_core.jobs.table import forget_shared_item_classes

    for cached in (
        job_store,
        job_events,
        webhooks,
        storage,
        job_access,
        multipart,
        admission,
        dispatcher,
        ingest,
        plugin_registry,
        runner,
        segment_runner,
        reconciler,
    ):
        cached.cache_clear()
    forget_shared_item_classes()  # PynamoDB keeps its connection (and endpoint) on the model class
