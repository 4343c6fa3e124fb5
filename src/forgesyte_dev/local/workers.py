"""Queue pollers and the worker processes they feed, standing in for Lambda's SQS event sources.

A poller receives only as many messages as its pool has free workers (bounded concurrency, like
an event source's maximum concurrency), keeps in-flight messages invisible while they run, deletes
those the handler did not report as failures, and leaves failures to come back (then the DLQ,
from the queue's redrive policy in template.yaml).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from forgesyte_core.observability import logger
from forgesyte_dev.local.children import ctrl_c_blocked
from forgesyte_dev.local.events import sqs_event
from forgesyte_dev.local.invoke import handler_module, invoke

VISIBILITY_S = 30


class WorkerDied(RuntimeError):
    """The worker process ended mid-invocation (killed, out of memory), as a Lambda environment can."""


def _serve(function: str, pipe: Connection) -> None:  # pragma: no cover - runs in the worker
    """A worker's life: import the handler once, as a warm Lambda container does, then take one
    invocation at a time, ``(env, event)``, until the pool's end of the pipe closes."""
    imported = False
    while True:
        try:
            env, event = pipe.recv()
        except (EOFError, OSError):
            return  # the pool closed, or the stack's process died: nothing may outlive it
        if env is not None:  # the function's environment, sent again only when it changed
            os.environ.update(env)  # what modules read at import (powertools' switches)
        if not imported:
            handler_module(function)
            imported = True
        try:
            answer: tuple[bool, Any] = (True, invoke(function, event) if event is not None else None)
        except Exception as exc:  # the handler raised: its caller gets the error, as Lambda's would
            answer = (False, exc)
        try:
            pipe.send(answer)
        except Exception as exc:  # an answer or an error that does not pickle
            pipe.send((False, RuntimeError(f"{function} returned what cannot be sent back: {exc!r}")))


class _Worker:
    """One execution environment: a process taking one invocation at a time over its own pipe."""

    def __init__(self, function: str) -> None:
        context = multiprocessing.get_context("spawn")  # a fork would copy the stack's threads and locks
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(function, theirs), name=f"{function}-worker", daemon=True)
        with ctrl_c_blocked():  # Ctrl-C is the stack's to handle; it closes the pipe
            self.process.start()
        theirs.close()
        self.env: dict[str, str] | None = None  # the environment this worker has

    def call(self, env: dict[str, str], event: dict[str, Any] | None) -> Any:
        try:
            self.pipe.send((env if env is not self.env else None, event))
            self.env = env
            ok, value = self.pipe.recv()
        except (EOFError, OSError) as exc:
            raise WorkerDied(f"the worker process {self.process.pid} died ({exc.__class__.__name__})") from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Only for a worker at rest: its recv() ends and it exits."""
        self.pipe.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class FunctionPool:
    """Worker processes running one function's handler, each one invocation at a time, like Lambda's
    execution environments up to a reserved concurrency.

    ``call`` invokes on the caller's thread (the gateway's: no hand-off but the worker's pipe);
    ``submit`` does it on one of the pool's threads and returns a future (the queue pollers'). ``env``
    is the function's environment, sent to a worker with its first event and again when it changes: a
    pool can start (and import) with part of it, before the stack knows its resources' names.

    A worker that dies (killed, out of memory) ends only its own invocation, with ``WorkerDied``: it
    is replaced, and ``on_crash`` learns which event was in flight, as Lambda would end that
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
        self.slots = threading.Semaphore(workers)  # the pollers receive no more than this many batches
        self.replaced = 0
        self._on_crash = on_crash
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(workers):
            self._idle.put(None)  # started on first use, or by warm()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix=f"{function}-invoke")

    def _start(self) -> _Worker:
        worker = _Worker(self.function)
        with self._lock:
            self._all.append(worker)
        return worker

    def call(self, event: dict[str, Any]) -> Any:
        worker = self._idle.get() or self._start()  # waits while every worker is busy
        try:
            return worker.call(self.env, event)
        except WorkerDied:
            if self._closed:  # killed with the stack: nothing to replace or record
                raise
            logger.warning("a %s worker died; replacing it", self.function)
            with self._lock:
                self._all.remove(worker)
                self.replaced += 1
            worker.close()
            worker = self._start()
            if self._on_crash is not None:
                try:
                    self._on_crash(event)
                except Exception:
                    logger.exception("could not record the crash")
            raise
        finally:
            self._idle.put(worker)

    def submit(self, event: dict[str, Any]) -> Future[Any]:
        return self._threads.submit(self.call, event)

    def warm(self) -> None:
        """Start every worker now, and wait until each has imported its handler."""
        taken = [self._idle.get() or self._start() for _ in range(self.workers)]
        try:
            for worker in taken:
                worker.call(self.env, None)
        except WorkerDied:
            if not self._closed:
                raise  # a worker died importing its handler: the import's error is in the stack's output
        finally:
            for worker in taken:
                self._idle.put(worker)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._all if worker.process.pid is not None]

    def kill(self) -> None:
        """Stop at once, as a crash would: running jobs are left half-done (the next stack's recovery ends them)."""
        self._on_crash = None
        self._closed = True
        self._threads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for worker in self._all:
                worker.process.kill()
        self._release(wait_s=5)

    def close(self) -> None:
        """Stop once the running invocations have ended."""
        self._closed = True
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._release(wait_s=30)  # the gateway's calls, which run on its own threads

    def _release(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        for _ in range(self.workers):  # each worker, as its invocation hands it back
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if worker is not None:
                worker.close()
        with self._lock:
            stuck, self._all = [w for w in self._all if w.process.is_alive()], []
        for worker in stuck:  # still busy past the deadline
            worker.process.kill()


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
