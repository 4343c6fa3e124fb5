"""The job runner: the same code behind the runner Lambda and the AWS Batch entrypoint
(:mod:`forgesyte_core.batch`).

Claim queued → running, fetch the input, run the plugin tool with ForgeSyte's arguments, stream the
results JSON to S3, then completed. Any exception ends the job failed with its message.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PynamoDBException

from forgesyte_core.compute.results import Summary, write_image_results, write_video_results
from forgesyte_core.errors import ForgeSyteError, InvalidMedia, JobCancelled, NotFound, TransitionConflict
from forgesyte_core.jobs.model import Backend, Job, JobStatus, JobType
from forgesyte_core.jobs.store import JobStore, utcnow
from forgesyte_core.observability import bind_job, logger, unbind_job
from forgesyte_core.plugins.locations import check_file_options
from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_core.storage import ARTIFACTS, Storage, artifact_key, result_key

if TYPE_CHECKING:
    from forgesyte_core.compute.render import FrameObjects

EXTENSIONS = {"mp4": ".mp4", "mov": ".mov", "3gp": ".3gp", "png": ".png", "jpeg": ".jpg", "webp": ".webp"}


class DeadlineReached(ForgeSyteError):
    """The Lambda runner is about to be killed: the plugin is stopped and the job failed with the reason."""

    code = "timeout"


class ProgressReporter:
    """ForgeSyte's ``progress_callback(current, total)``: writes at most every ``interval`` seconds.

    Each write is also the heartbeat the reconcile sweep looks for. If the job stopped running
    (cancelled, or failed by the sweep) the write loses its condition and the plugin is stopped.
    """

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        stop_at: float | None = None,
        run_id: str | None = None,
    ) -> None:
        self._store, self._job_id, self._interval, self._clock = store, job_id, interval, clock
        self._run_id = run_id
        self._stop_at = stop_at  # on the clock: the Lambda deadline less a margin
        self._last = clock()
        self.writes = 0
        self.percent = 0

    def __call__(self, current: int, total: int | None = None) -> None:
        now = self._clock()
        if total:
            self.percent = min(int(100 * current / total), 99)
        if self._stop_at is not None and now >= self._stop_at:
            raise DeadlineReached(
                f"the runner Lambda reached its time limit at {self.percent}% of the video; "
                "lower LAMBDA_MAX_VIDEO_SECONDS or deploy AWS Batch (BatchSubnetIds) for videos this long"
            )
        if now - self._last < self._interval:
            return
        self._last = now
        try:
            self._store.record_progress(self._job_id, self.percent, self._run_id)
        except TransitionConflict:
            raise JobCancelled(f"job {self._job_id} stopped running; the plugin was stopped") from None
        except PynamoDBException as exc:
            # Progress is best effort: a throttled or failed write must not cost a job that is still
            # working. If writes keep failing, the heartbeat sweep notices and retries the job.
            logger.warning("progress write failed; the job goes on", extra={"job_id": self._job_id, "error": str(exc)})
            return
        self.writes += 1


RENDER = "render"


def wants_render(job: Job) -> bool:
    return job.job_type == JobType.VIDEO and (job.options or {}).get(RENDER) is True


def plugin_options(job: Job) -> dict[str, Any]:
    """The job's options less the runner's own (``render``)."""
    return {k: v for k, v in (job.options or {}).items() if k != RENDER}


def _frame_objects() -> FrameObjects:
    from forgesyte_core.compute.render import FrameObjects

    return FrameObjects()


def device_for(compute: str) -> str:
    explicit = os.environ.get("FORGESYTE_DEVICE", "").strip()
    if explicit:
        return explicit
    if compute == Backend.BATCH and os.environ.get("NVIDIA_VISIBLE_DEVICES", "none") not in {"", "none", "void"}:
        return "cuda"
    return "cpu"


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        registry: PluginRegistry,
        work_dir: str,
        progress_interval: float,
        model_locations: tuple[str, ...] = (),
    ) -> None:
        self.store, self.storage, self.registry = store, storage, registry
        self.work_dir, self.progress_interval = work_dir, progress_interval
        self.model_locations = model_locations

    def run(self, job_id: str, compute: str, run_id: str | None = None, stop_at: float | None = None) -> Job | None:
        """Run one job to a terminal status; None when another runner or a cancel got there first.

        ``stop_at`` (time.monotonic) is when a time-limited runner (Lambda) must stop the plugin.
        """
        bind_job(job_id)
        try:
            try:
                job = self._claim(job_id, compute, run_id)
            except (TransitionConflict, NotFound) as exc:
                logger.info("not running job: %s", exc)
                return None
            return self._execute(job, compute, stop_at, run_id)
        finally:
            unbind_job()

    def _claim(self, job_id: str, compute: str, run_id: str | None) -> Job:
        current = self.store.get(job_id)
        if current.segments:  # its segments run one by one (segment_runner.py), never the whole
            raise TransitionConflict(f"Job {job_id} is segmented; only its segments run")
        values: dict[str, Any] = {"heartbeat_at": utcnow(), "attempt": current.attempt + 1, "compute": compute}
        if run_id:
            values["compute_run_id"] = run_id
        return self.store.transition(job_id, JobStatus.RUNNING, expected=(JobStatus.QUEUED,), **values)

    def _execute(self, job: Job, compute: str, stop_at: float | None = None, run_id: str | None = None) -> Job | None:
        scratch = Path(tempfile.mkdtemp(prefix=f"job-{job.job_id}-", dir=self.work_dir))
        started = time.monotonic()
        try:
            record = self.registry.load(job.plugin_id)
            tool: dict[str, Any] = next((t for t in record.manifest.get("tools", []) if t.get("id") == job.tool), {})
            check_file_options(tool, job.options or {}, self.model_locations)
            args = self._arguments(job, scratch, compute, stop_at, run_id)
            logger.info("running plugin", extra={"plugin_id": job.plugin_id, "tool": job.tool, "compute": compute})
            result = record.instance.run_tool(job.tool, args)
            tracks = _frame_objects() if wants_render(job) else None
            summary = self._store_results(job, result, scratch, tracks)
            artifacts = self._render(job, Path(args["video_path"]), tracks.frames, scratch) if tracks else None
            summary_dict = {**summary.to_dict(), "run_seconds": round(time.monotonic() - started, 3)}
            done = self.store.transition(
                job.job_id,
                JobStatus.COMPLETED,
                expected=(JobStatus.RUNNING,),
                owner_run=run_id,
                progress=100,
                output_key=result_key(job.job_id),
                summary=summary_dict,
                artifacts=artifacts,
            )
            logger.info("job completed", extra={"summary": summary_dict})
            return done
        except (JobCancelled, TransitionConflict) as exc:
            logger.info("job stopped running meanwhile: %s", exc)
            return None
        except PynamoDBException:
            # The job store itself failed (after botocore's retries): the job is not at fault. Raise, so
            # the work message comes back; the heartbeat sweep retries the run if this one is lost.
            logger.exception("the job store failed; the run is left to redelivery and the heartbeat sweep")
            raise
        except Exception as exc:  # every other failure ends the job failed with its reason
            logger.exception("job failed")
            return record_failure(self.store, job.job_id, *failure_of(exc), owner_run=run_id)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _arguments(
        self, job: Job, scratch: Path, compute: str, stop_at: float | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        options = plugin_options(job)
        container = job.media.container if job.media else ""
        if job.job_type == JobType.IMAGE:
            return {"image_bytes": self.storage.read_bytes(job.input_key, job.input_etag), "options": options}
        target = scratch / f"input{EXTENSIONS.get(container, '')}"
        path = self.storage.download(job.input_key, target, job.input_etag)
        return {
            "video_path": str(path),
            "progress_callback": ProgressReporter(
                self.store, job.job_id, self.progress_interval, stop_at=stop_at, run_id=run_id
            ),
            "device": device_for(compute),
            "options": options,
        }

    def _store_results(
        self, job: Job, result: Any, scratch: Path, on_frame: Callable[[Mapping[str, Any]], None] | None = None
    ) -> Summary:
        path = scratch / "results.json"
        header: dict[str, Any] = {"job_id": job.job_id, "plugin_id": job.plugin_id, "tool": job.tool}
        with path.open("w") as out:
            if job.job_type == JobType.VIDEO:
                summary = write_video_results(out, {**header, "status": "completed"}, result, on_frame)
                if not summary.frames_decoded:
                    listed = job.media.frames if job.media else None
                    raise InvalidMedia(
                        f"no frame of the video could be decoded (its sample tables list {listed}); "
                        "the file may be damaged: re-encode it, e.g. `ffmpeg -i in.mp4 -c:v libx264 out.mp4`"
                    )
            else:
                summary = write_image_results(out, header, result)
        self.storage.upload_file(path, result_key(job.job_id), "application/json")
        return summary

    def _render(self, job: Job, video: Path, frames: dict[int, list[dict[str, Any]]], scratch: Path) -> dict[str, str]:
        """The annotated video and contact sheet ``options.render`` asked for, uploaded beside the results."""
        from forgesyte_core.compute.render import annotate  # OpenCV: only here, and only when asked

        paths = {name: scratch / file_name for name, (file_name, _) in ARTIFACTS.items()}
        annotate(video, frames, paths["annotated_video"], paths["contact_sheet"])
        keys = {}
        for name, path in paths.items():
            if path.is_file():
                keys[name] = artifact_key(job.job_id, name)
                self.storage.upload_file(path, keys[name], ARTIFACTS[name][1])
        logger.info("rendered", extra={"artifacts": keys})
        return keys


def failure_of(exc: Exception) -> tuple[str, str]:
    """The error code and message a job fails with for ``exc``: a domain error's own, else plugin_error."""
    if isinstance(exc, ForgeSyteError):
        return exc.code, str(exc)
    return "plugin_error", f"{type(exc).__name__}: {exc}"


def record_failure(store: JobStore, job_id: str, code: str, message: str, owner_run: str | None = None) -> Job | None:
    """running → failed with the reason; None when the job moved on first (cancelled, retried, ended)."""
    try:
        return store.transition(
            job_id,
            JobStatus.FAILED,
            expected=(JobStatus.RUNNING,),
            owner_run=owner_run,
            error_code=code,
            error_message=message[:2000],
        )
    except TransitionConflict as conflict:
        logger.info("could not record the failure: %s", conflict)
        return None
