"""Queue pollers and the worker processes they feed, standing in for Lambda's SQS event sources.

A poller receives only as many messages as its pool has free workers (bounded concurrency, like
an event source's maximum concurrency), keeps in-flight messages invisible while they run, deletes
those the handler did not report as failures, and leaves failures to come back (then the DLQ,
from the queue's redrive policy in template.yaml).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from forgesyte_core.observability import logger
from forgesyte_dev.local.events import sqs_event
from forgesyte_dev.local.invoke import handler_module, invoke

VISIBILITY_S = 30


def _start_worker(env: dict[str, str], function: str) -> None:
    os.environ.update(env)  # what modules read at import (powertools' switches)
    handler_module(function)  # import once per worker, as a warm Lambda container does


def _invoke_in(env: dict[str, str], function: str, event: dict[str, Any]) -> Any:
    if any(os.environ.get(name) != value for name, value in env.items()):
        os.environ.update(env)
    return invoke(function, event)


def _noop() -> None:
    pass


class FunctionPool:
    """Worker processes running one function's handler.

    ``env`` is the function's environment, set when a worker starts and handed over with each event:
    a pool can start (and import) with part of it, before the stack knows its resources' names. A
    worker that dies (killed, out of memory) breaks a process pool for good; this pool replaces it, so
    later events run, and tells ``on_crash`` which event was in flight, as Lambda would end that
    invocation with an error.
    """

    def __init__(
        self,
        function: str,
        env: dict[str, str],
        workers: int,
        on_crash: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.function = function
        self.env = env
        self.workers = workers
        self.slots = threading.Semaphore(workers)
        self.replaced = 0
        self._on_crash = on_crash
        self._lock = threading.Lock()
        self.executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.env, self.function),
        )

    def warm(self) -> None:
        """Start every worker now rather than on the first message."""
        for future in [self.executor.submit(_noop) for _ in range(self.workers)]:
            future.result()

    def worker_pids(self) -> list[int]:
        return [process.pid for process in list(getattr(self.executor, "_processes", {}).values())]

    def submit(self, event: dict[str, Any]) -> Future[Any]:
        with self._lock:
            try:
                future = self.executor.submit(_invoke_in, self.env, self.function, event)
            except BrokenProcessPool:
                self._replace(self.executor)
                future = self.executor.submit(_invoke_in, self.env, self.function, event)
        future.add_done_callback(lambda done: self._check(done, event))
        return future

    def _check(self, future: Future[Any], event: dict[str, Any]) -> None:
        if not isinstance(future.exception(), BrokenProcessPool):
            return
        logger.warning("a %s worker died; replacing the pool", self.function)
        broken = self.executor
        with self._lock:
            if self.executor is broken:
                self._replace(broken)
        if self._on_crash is not None:
            try:
                self._on_crash(event)
            except Exception:
                logger.exception("could not record the crash")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        broken.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_executor()
        self.replaced += 1

    def kill(self) -> None:
        """Stop at once, as a crash would: running jobs are left half-done (the next stack's recovery ends them)."""
        self._on_crash = None
        for process in list(getattr(self.executor, "_processes", {}).values()):
            process.kill()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class QueuePoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        run: Callable[[dict[str, Any]], Future[Any] | Any],
        slots: threading.Semaphore,
        batch_size: int,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"poll-{queue_url.rsplit('/', 1)[-1]}", daemon=True)
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.run_event, self.slots, self.batch_size, self.stop = run, slots, batch_size, stop

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.slots.acquire(timeout=0.2):
                continue
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    VisibilityTimeout=VISIBILITY_S,
                    AttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the moto server is stopping, or a hiccup: try again
                self.slots.release()
                if not self.stop.wait(0.5):
                    logger.exception("receive failed", extra={"queue": self.queue_url})
                continue
            if not messages:
                self.slots.release()
                continue
            self._dispatch(messages)

    def _dispatch(self, messages: list[dict[str, Any]]) -> None:
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_invisible, args=(messages, done), daemon=True)
        keeper.start()
        try:
            outcome = self.run_event(sqs_event(messages, self.queue_arn))
        except Exception:
            logger.exception("handler could not start")
            done.set()
            self.slots.release()
            return
        if isinstance(outcome, Future):
            outcome.add_done_callback(lambda future: self._finish(messages, done, future.result))
        else:
            self._finish(messages, done, lambda: outcome)

    def _finish(self, messages: list[dict[str, Any]], done: threading.Event, result: Callable[[], Any]) -> None:
        done.set()
        self.slots.release()
        try:
            response = result()
        except Exception as exc:  # the whole batch failed: every message comes back later
            logger.warning("handler failed; messages will be retried", extra={"error": str(exc)})
            return
        failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if entries and not self.stop.is_set():
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def _keep_invisible(self, messages: list[dict[str, Any]], done: threading.Event) -> None:
        while not done.wait(VISIBILITY_S / 3):
            for message in messages:
                try:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=VISIBILITY_S
                    )
                except Exception:
                    return
