"""The API function behind a local HTTP server, called the way API Gateway calls it.

The server is the standard library's threaded HTTP server (it parses requests, keeps connections
alive, times out slow clients) with a real listen backlog, so a burst queues instead of being reset.
Requests call the handler in parallel, one thread each: the caller gives one that is safe to call
from many threads at once and bounds itself (the stack's is a pool of worker processes, one
invocation each, like Lambda's execution environments up to a reserved concurrency).

Routes, the API-key requirement and the CORS preflight come from template.yaml; each request
becomes a REST proxy event for ``api_app.lambda_handler``, whose response is written back. The web
page (``web/dist``, built by ``make install``) is served from ``/`` on the same origin, with a
``config.json`` naming this API, and its key when served on loopback only.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from forgesyte_core.observability import logger
from forgesyte_dev.local.events import api_event
from forgesyte_dev.local.routes import Route, docs_page, match, openapi

Handler = Callable[[dict[str, Any]], dict[str, Any]]
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
READ_TIMEOUT_S = 30.0  # a client that sends less than it declared gets a 408 after this long
BACKLOG = 1024  # connections the kernel holds while every thread is busy (the library's default is 5)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BodyRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Gateway:
    def __init__(
        self,
        host: str,
        port: int,
        api_key: str,
        routes: list[Route],
        cors: dict[str, str],
        handler: Handler,
        web_root: Path | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
        expose_api_key: bool = False,
    ) -> None:
        self.api_key, self.routes, self.cors, self.handler = api_key, routes, cors, handler
        # The page's config.json carries the key only where nobody else can read it: on loopback, or
        # when the user said so (forgesyte dev --expose-api-key); elsewhere the page asks for it.
        self.share_key = expose_api_key or is_loopback(host)
        self.web_root = web_root
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: with Nagle on, each keep-alive response
            # waits out the client's delayed ACK (40 ms a request).
            disable_nagle_algorithm = True
            timeout = read_timeout_s  # on the socket: a stalled body read raises instead of hanging

            def do_GET(self) -> None:
                gateway.serve(self)

            do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are logged as JSON by serve()

        class Server(ThreadingHTTPServer):
            request_queue_size = BACKLOG

        self.server = Server((host, port), RequestHandler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.spec = openapi(routes, self.url)
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        method = request.command
        try:
            body = self._read_body(request)
        except BodyRefused as refused:
            request.close_connection = True
            headers = {"Content-Type": "application/json", "Connection": "close"}
            return self._send(request, refused.status, headers, json.dumps({"message": refused.message}).encode())
        if parts.path == "/docs" and method == "GET":
            return self._send(request, 200, {"Content-Type": "text/html; charset=utf-8"}, docs_page(self.spec).encode())
        if parts.path == "/openapi.json" and method == "GET":
            return self._json(request, 200, self.spec)
        if method == "GET" and not parts.path.startswith("/v1/"):
            page = self._page(parts.path)
            if page is not None:
                return self._send(request, 200, *page)
        if method == "OPTIONS":  # API Gateway answers the preflight itself (a mock integration)
            return self._send(request, 200, dict(self.cors), b"")
        found = match(self.routes, method, parts.path)
        if found is None:
            return self._json(request, 403, {"message": "Missing Authentication Token"})
        route, path_parameters = found
        key = request.headers.get("X-API-Key")
        if route.api_key_required and key != self.api_key:
            return self._json(request, 403, {"message": "Forbidden"})
        event = api_event(
            method=method,
            path=parts.path,
            resource=route.path,
            path_parameters=path_parameters or None,
            query=parse_qs(parts.query),
            headers=dict(request.headers.items()),
            body=body,
            source_ip=request.client_address[0],
            api_key=key,
        )
        try:
            response = self.handler(event)
        except Exception:  # the function crashed or timed out: API Gateway's answer, never a reset
            logger.exception("api function failed", extra={"method": method, "path": parts.path})
            return self._json(request, 502, {"message": "Internal server error"})
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        logger.info("api request", extra={"method": method, "path": parts.path, "status": response["statusCode"]})
        self._send(request, int(response["statusCode"]), headers, data)

    @staticmethod
    def _read_body(request: BaseHTTPRequestHandler) -> bytes:
        """The body its Content-Length declares: 400 for a length that is not a number, 413 past API
        Gateway's limit, 408 when the client sends less and stalls, 400 when it sends less and closes."""
        declared = request.headers.get("Content-Length")
        if declared is None:
            return b""
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise BodyRefused(400, f"Content-Length must be a whole number of bytes, not {declared[:40]!r}")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise BodyRefused(413, f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
        try:
            body = request.rfile.read(length) if length else b""
        except TimeoutError:
            raise BodyRefused(408, f"the body did not arrive: {length} bytes declared") from None
        if len(body) < length:
            raise BodyRefused(400, f"the body ended after {len(body)} of the {length} bytes declared")
        return body

    def _page(self, path: str) -> tuple[dict[str, str], bytes] | None:
        """The web page's files, and its config: this API, this key (a local stack's, not a secret)."""
        if path == "/config.json":
            config = {"apiUrl": self.url, **({"apiKey": self.api_key} if self.share_key else {})}
            return {"Content-Type": "application/json"}, json.dumps(config).encode()
        if self.web_root is None:
            return None
        name = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (self.web_root / name).resolve()
        if not target.is_relative_to(self.web_root.resolve()) or not target.is_file():
            return None
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return {"Content-Type": kind, "Cache-Control": "no-cache"}, target.read_bytes()

    def _json(self, request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        self._send(request, status, {"Content-Type": "application/json"}, json.dumps(body).encode())

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], data: bytes) -> None:
        request.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
