"""Running one segment of a segmented job, and the merge the last one to finish does.

Each segment is claimed, heartbeated and finished on its own (conditional writes on its own path in
the job item), with its own attempts and run id: a failed segment is retried alone while it has
attempts left; when it has none the job fails naming the segment. Finishing counts the segment once;
the runner whose finish makes the count whole merges (compute/merge.py) and completes the job.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pynamodb.exceptions import PynamoDBException

from forgesyte_core.compute.merge import merge_segments
from forgesyte_core.compute.results import write_video_results
from forgesyte_core.compute.runner import (
    EXTENSIONS,
    DeadlineReached,
    device_for,
    failure_of,
    plugin_options,
    record_failure,
)
from forgesyte_core.compute.segment_input import fetch_segment_input
from forgesyte_core.errors import JobCancelled, NotFound, PluginFailed, TransitionConflict
from forgesyte_core.jobs.model import Job, JobStatus, Segment
from forgesyte_core.jobs.store import JobStore, utcnow
from forgesyte_core.observability import bind_job, logger, unbind_job
from forgesyte_core.plugins.locations import check_file_options
from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_core.storage import Storage, result_key, segment_result_key

Relaunch = Callable[[Job, int], str]  # start one segment again (a work message, a Batch job): its run id


class SegmentProgress:
    """``progress_callback(current, total)`` for a segment: its frames done and heartbeat, at most every
    ``interval`` seconds; the plugin is stopped if the job stopped running or the segment moved on."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        segment: Segment,
        run_id: str,
        interval: float,
        stop_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._job_id, self._segment, self._run_id = store, job_id, segment, run_id
        self._interval, self._stop_at, self._clock = interval, stop_at, clock
        self._last = clock()

    def __call__(self, current: int, total: int | None = None) -> None:
        now = self._clock()
        if self._stop_at is not None and now >= self._stop_at:
            raise DeadlineReached(
                f"the runner Lambda reached its time limit in segment {self._segment.index}; "
                "lower SEGMENT_SECONDS so each segment fits"
            )
        if now - self._last < self._interval:
            return
        self._last = now
        done = round(self._segment.frames * current / total) if total else current
        try:
            self._store.segment_heartbeat(self._job_id, self._segment.index, self._run_id, done)
        except TransitionConflict:
            raise JobCancelled(f"job {self._job_id} stopped running; segment {self._segment.index} stopped") from None
        except PynamoDBException as exc:  # best effort, as for whole runs: the sweep notices lost heartbeats
            logger.warning("segment progress write failed; it goes on", extra={"error": str(exc)})


class OwnFrames:
    """Counts the frames a segment's result reports in the segment's own range."""

    def __init__(self, segment: Segment) -> None:
        self.segment, self.count = segment, 0

    def __call__(self, frame: Mapping[str, Any]) -> None:
        index = frame.get("frame_index")
        if isinstance(index, int) and self.segment.owns(index):
            self.count += 1


class SegmentRunner:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        registry: PluginRegistry,
        work_dir: str,
        progress_interval: float,
        max_attempts: int,
        relaunch: Relaunch | None = None,
        model_locations: tuple[str, ...] = (),
    ) -> None:
        self.store, self.storage, self.registry = store, storage, registry
        self.work_dir, self.progress_interval, self.max_attempts = work_dir, progress_interval, max_attempts
        self.relaunch, self.model_locations = relaunch, model_locations

    def run(self, job_id: str, index: int, compute: str, run_id: str, stop_at: float | None = None) -> Job | None:
        """Run segment ``index``; the job as this run left it, or None when it was not this run's."""
        bind_job(job_id)
        try:
            try:
                job = self._claim(job_id, index, compute, run_id)
            except (TransitionConflict, NotFound) as exc:
                logger.info("not running segment %d: %s", index, exc)
                return None
            return self._execute(job, index, compute, run_id, stop_at)
        finally:
            unbind_job()

    def merge_job(self, job_id: str) -> Job | None:
        """A merge the sweep asked for again: only for a running job whose segments are all done."""
        job = self.store.find(job_id)
        if job is None or job.status != JobStatus.RUNNING or job.segments_done < len(job.segments or [1]):
            logger.info("no merge to do for %s", job_id)
            return None
        return self.merge(job)

    def merge(self, job: Job) -> Job | None:
        """Write the job's results from its segments' and complete it; fails it if they cannot be read."""
        scratch = Path(tempfile.mkdtemp(prefix=f"merge-{job.job_id}-", dir=self.work_dir))
        try:
            tool = self._tool(job)
            path = scratch / "results.json"
            summary = merge_segments(job, tool, self.storage, scratch, path)
            self.storage.upload_file(path, result_key(job.job_id), "application/json")
            segments = job.segments or []
            values = {
                **summary.to_dict(),
                "run_seconds": round(sum(s.seconds or 0.0 for s in segments), 3),
                "segments": len(segments),
                "segment_attempts": sum(s.attempt for s in segments),
                "bytes_read": sum(s.bytes_read or 0 for s in segments),
            }
            done = self.store.transition(
                job.job_id,
                JobStatus.COMPLETED,
                expected=(JobStatus.RUNNING,),
                progress=100,
                output_key=result_key(job.job_id),
                summary=values,
            )
            logger.info("segments merged, job completed", extra={"summary": values})
            return done
        except TransitionConflict as exc:
            logger.info("job changed before the merge completed it: %s", exc)
            return None
        except PynamoDBException:
            raise
        except Exception as exc:
            logger.exception("merge failed")
            code, message = failure_of(exc)
            return record_failure(self.store, job.job_id, code, f"merging the segments failed: {message}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _claim(self, job_id: str, index: int, compute: str, run_id: str) -> Job:
        job = self.store.get(job_id)
        if job.status == JobStatus.QUEUED:  # the first segment to start starts the job
            # Another segment may get there first, or the job was cancelled: the claim then says which.
            with contextlib.suppress(TransitionConflict):
                self.store.transition(
                    job_id, JobStatus.RUNNING, expected=(JobStatus.QUEUED,), heartbeat_at=utcnow(), compute=compute
                )
        return self.store.claim_segment(job_id, index, run_id, self.max_attempts)

    def _execute(self, job: Job, index: int, compute: str, run_id: str, stop_at: float | None) -> Job | None:
        segment = next(s for s in job.segments or [] if s.index == index)
        scratch = Path(tempfile.mkdtemp(prefix=f"segment-{job.job_id}-{index}-", dir=self.work_dir))
        started = time.monotonic()
        try:
            record = self.registry.load(job.plugin_id)
            check_file_options(self._tool(job), job.options or {}, self.model_locations)
            media = job.media
            container = media.container if media else ""
            video = scratch / f"input{EXTENSIONS.get(container, '')}"
            size = media.bytes if media else 0
            bytes_read = fetch_segment_input(self.storage.source(job.input_key, size, job.input_etag), segment, video)
            args: dict[str, Any] = {
                "video_path": str(video),
                "progress_callback": SegmentProgress(
                    self.store, job.job_id, segment, run_id, self.progress_interval, stop_at
                ),
                "device": device_for(compute),
                "options": plugin_options(job),
                "frame_range": [segment.decode_from, segment.end_frame],
            }
            logger.info(
                "running segment",
                extra={"segment": index, "frames": [segment.start_frame, segment.end_frame], "bytes_read": bytes_read},
            )
            result = record.instance.run_tool(job.tool, args)
            path = scratch / "segment.json"
            header = {"job_id": job.job_id, "plugin_id": job.plugin_id, "tool": job.tool, "segment": index}
            owned = OwnFrames(segment)
            with path.open("w") as out:
                write_video_results(out, header, result, owned)
            if owned.count == 0:
                raise PluginFailed(f"the plugin reported none of the {segment.frames} frames it was given")
            self.storage.upload_file(path, segment_result_key(job.job_id, index), "application/json")
            job = self.store.finish_segment(job.job_id, index, run_id, time.monotonic() - started, bytes_read)
        except (JobCancelled, TransitionConflict) as exc:
            logger.info("segment stopped: %s", exc)
            return None
        except PynamoDBException:
            logger.exception("the job store failed; the segment is left to redelivery and the sweep")
            raise
        except Exception as exc:
            logger.exception("segment failed")
            return self._segment_failed(job, segment, exc, run_id)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if job.segments_done >= len(job.segments or []):
            return self.merge(job)
        return job

    def _segment_failed(self, job: Job, segment: Segment, exc: Exception, run_id: str) -> Job | None:
        attempt, (code, message) = segment.attempt, failure_of(exc)
        where = segment.describe(len(job.segments or []))
        if attempt < self.max_attempts and self.relaunch is not None and not isinstance(exc, DeadlineReached):
            try:
                job = self.store.requeue_segment(job.job_id, segment.index, run_id, message)
            except TransitionConflict as conflict:
                logger.info("could not retry the segment: %s", conflict)
                return None
            new_run = self.relaunch(job, segment.index)
            logger.info("segment retried", extra={"segment": segment.index, "attempt": attempt, "run_id": new_run})
            return job
        reason = f"{where} failed after {attempt} attempt{'s' if attempt != 1 else ''}: {message}"
        return record_failure(self.store, job.job_id, code, reason)

    def _tool(self, job: Job) -> dict[str, Any]:
        record = self.registry.load(job.plugin_id)
        tool: dict[str, Any] = next((t for t in record.manifest.get("tools", []) if t.get("id") == job.tool), {})
        return tool
