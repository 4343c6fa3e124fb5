"""A container-image Lambda run locally: the image's own entrypoint, fed through the Lambda Runtime API.

AWS runs an image function by starting its ENTRYPOINT + CMD with ``AWS_LAMBDA_RUNTIME_API`` set;
the runtime interface client inside polls ``/2018-06-01/runtime/invocation/next`` for an event and
posts the handler's answer to ``.../invocation/{id}/response`` (or ``/error``). This module serves
those routes on 127.0.0.1 and runs the image with podman on the host network, so the local stack
can drive the real runner image exactly as Lambda would, one invocation at a time per container.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
import uuid
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
LAMBDA_USER = "993:990"  # Lambda runs functions as an unprivileged user (sbx_user1051)
DEADLINE_S = 900


class InvocationError(RuntimeError):
    """The function reported an error (the runtime's /error route), or its container died."""


class RuntimeApi:
    """The Runtime API's invocation routes, backed by a queue of pending events."""

    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn
        self.pending: queue.Queue[tuple[str, dict[str, Any], Future[Any]]] = queue.Queue()
        self.in_flight: dict[str, Future[Any]] = {}
        self.polled = threading.Event()  # set once the runtime asked for its first event
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> RuntimeApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for future in self.in_flight.values():
            if not future.done():
                future.set_exception(InvocationError("the runtime stopped before answering"))

    def invoke(self, event: dict[str, Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self.pending.put((str(uuid.uuid4()), event, future))
        return future

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet, like Lambda
                return

            def _reply(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404)
                    return
                api.polled.set()
                request_id, event, future = api.pending.get()  # long poll, as the real API does
                api.in_flight[request_id] = future
                headers = {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int((time.time() + DEADLINE_S) * 1000)),
                    "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                    "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                }
                self._reply(200, json.dumps(event).encode(), headers)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_error = body.decode(errors="replace")
                    self._reply(202)
                    return
                if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                    self._reply(404)
                    return
                future = api.in_flight.pop(parts[1], None)
                if future is None:
                    self._reply(400, b'{"errorMessage": "unknown request id"}')
                    return
                self._reply(202)
                if parts[2] == "response":
                    future.set_result(json.loads(body) if body else None)
                else:
                    future.set_exception(InvocationError(body.decode(errors="replace")))

        return Handler

    init_error: str | None = None


class ImageFunction:
    """One warm container of a Lambda image; ``submit`` has FunctionPool's shape for the queue pollers."""

    def __init__(self, function: str, image: str, env: dict[str, str]) -> None:
        self.function = function
        self.image = image
        self.slots = threading.Semaphore(1)
        self.api = RuntimeApi(f"arn:aws:lambda:local:000000000000:function:forgesyte-local-{function}").start()
        self.name = f"forgesyte-lambda-{function}-{uuid.uuid4().hex[:8]}"
        lambda_env = {
            **env,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": f"forgesyte-local-{function}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
        env_args = [arg for name, value in lambda_env.items() for arg in ("-e", f"{name}={value}")]
        from forgesyte_dev.images import podman_env

        # The image's own ENTRYPOINT and CMD, nothing replaced, as Lambda starts it: an unprivileged user,
        # a read-only file system and a writable /tmp (Lambda's 512 MB default), so a plugin that writes
        # anywhere else fails here as it would there.
        sandbox = ["--user", LAMBDA_USER, "--read-only", "--tmpfs", "/tmp:rw,size=512m,mode=1777"]
        self.process = subprocess.Popen(
            ["podman", "run", "--rm", "--name", self.name, "--network", "host", *sandbox, *env_args, image],
            env=podman_env(),
        )

    def warm(self, timeout_s: float = 60) -> None:
        """Wait until the runtime inside has started and asked for its first event."""
        deadline = time.monotonic() + timeout_s
        while not self.api.polled.wait(0.2):
            if self.process.poll() is not None:
                raise InvocationError(
                    f"{self.image} exited {self.process.returncode} before polling: {self.api.init_error}"
                )
            if time.monotonic() > deadline:
                raise InvocationError(f"{self.image} did not poll the Runtime API within {timeout_s:.0f} s")

    def submit(self, event: dict[str, Any]) -> Future[Any]:
        if self.process.poll() is not None:
            raise InvocationError(f"the {self.function} container exited {self.process.returncode}")
        return self.api.invoke(event)

    def close(self) -> None:
        from forgesyte_dev.images import podman

        podman("rm", "--force", "--time", "2", self.name, check=False, capture=True)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.api.stop()

    kill = close
