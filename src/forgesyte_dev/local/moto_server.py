"""The local stack's moto server, in a process of its own, as AWS's services are not the caller's.

In the stack's own process, moto shared one GIL with the gateway, the queue pollers and the
webhooks: under 1,000 parallel ``GET /v1/jobs`` that process spent 3 ms of CPU a request on one
core while the other waited. Its own process gives it the other core (bench/load.py: p95 from
3.3 s to 2.3 s on this 2-core machine, all else equal).

The child serves moto's own app, with the patches of ``moto_patches`` (atomic DynamoDB items, the
speed-ups), on cheroot (CherryPy's WSGI server) rather than the werkzeug development server moto's
``ThreadedMotoServer`` uses: werkzeug closes every connection after one request and starts a thread
for each, so every boto3 call paid a TCP connect, an accept and a thread start, and a burst left
thousands of sockets in TIME-WAIT. cheroot keeps connections alive and serves from a pool of threads:
under 1,000 parallel reads, moto's CPU a request fell by a quarter and p95 by a sixth (bench/load.py,
interleaved runs).

The child says which port it bound (or why it could not) on a pipe, and exits when that pipe closes:
when the stack stops, or when the stack's process dies without stopping it (killed, crashed), so no
server is left behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection
from typing import Any

from forgesyte_dev.local.children import ctrl_c_blocked

THREADS = 32  # requests served at once: the queue pollers' long polls hold one each, for up to a second
BACKLOG = 1024  # connections the kernel holds while every thread is busy


def _with_raw_uri(app: Any) -> Any:
    """moto reads the path as sent (an S3 key's encoded slash) from ``RAW_URI``, which werkzeug and
    gunicorn set; cheroot names it ``REQUEST_URI``."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        return app(environ, start_response)

    return wrapped


def _serve(host: str, port: int, parent: Connection) -> None:  # pragma: no cover - runs in the child
    from cheroot import wsgi
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from forgesyte_dev.local import moto_patches

    moto_patches.install()
    app = _with_raw_uri(DomainDispatcherApplication(create_backend_app))
    server = wsgi.Server((host, port), app, numthreads=THREADS, request_queue_size=BACKLOG, server_name="moto")
    try:
        server.prepare()  # binds and listens
        reply: tuple[str, Any] = ("port", server.bind_addr[1])
    except OSError as exc:
        reply = ("error", f"the moto server could not listen on {host}:{port} (in use?): {exc}")
    try:
        parent.send(reply)
    except OSError:  # BrokenPipeError: the stack stopped (Ctrl-C) while this server was starting
        return
    if reply[0] == "error":
        return

    def exit_with_the_stack() -> None:
        with contextlib.suppress(EOFError, OSError):
            parent.recv()  # nothing is ever sent: this returns (EOFError) when the stack's end closes
        os._exit(0)  # threads serving requests are the stack's; none may outlive it

    threading.Thread(target=exit_with_the_stack, name="parent-watch", daemon=True).start()
    server.serve()


class MotoServer:
    """``start()`` returns the server's URL once it listens; ``stop()`` ends it (and every item in it)."""

    def __init__(self, host: str, port: int = 0, start_timeout_s: float = 30.0) -> None:
        self.host, self.port, self.start_timeout_s = host, port, start_timeout_s
        self.process: Any = None
        self._pipe: Connection | None = None
        self._listening = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> str:
        for package in ("moto", "cheroot"):  # the extra `local`: say so here, not in the child's traceback
            if importlib.util.find_spec(package) is None:
                raise ModuleNotFoundError(f"No module named {package!r}", name=package)
        context = multiprocessing.get_context("spawn")  # a fork would copy the stack's threads and locks
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(self.host, self.port, theirs), name="moto", daemon=True)
        self._pipe = ours  # stop() closes it, even if Ctrl-C ends start() as the child starts
        try:
            with ctrl_c_blocked():  # Ctrl-C is the stack's to handle; it closes the pipe
                self.process.start()
        finally:
            theirs.close()
        if not ours.poll(self.start_timeout_s):
            self.stop()
            raise RuntimeError(f"the moto server did not start within {self.start_timeout_s:.0f} s")
        try:
            kind, value = ours.recv()
        except EOFError:
            self.process.join(timeout=5)
            code = self.process.exitcode
            self.stop()
            raise RuntimeError(f"the moto server exited while starting (exit code {code})") from None
        if kind == "error":
            self.stop()
            raise RuntimeError(value)
        self._listening = True
        return f"http://{self.host}:{value}"

    def stop(self) -> None:
        if self._pipe is not None:
            self._pipe.close()  # the child's watcher sees EOF and exits
            self._pipe = None
        if self.process is not None and self.process.pid is not None:  # None: it never started
            # A server still starting reads its pipe only once it listens: it has nothing to finish.
            self.process.join(timeout=5 if self._listening else 0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None
        self._listening = False
