"""An optional webhook per job: ``callback_url`` on submit gets a POST when the job ends.

HTTPS only, and never to a private, loopback, link-local or otherwise internal address: the host is
resolved and every address checked at submit and again right before each delivery (a name can be
pointed somewhere else in between). The body is
signed with HMAC-SHA256 using WEBHOOK_SECRET: ``ForgeSyte-Signature: t=<unix time>,v1=<hex of
HMAC(secret, "<t>.<body>")>``, so a receiver checks it came from this stack and is recent. A failed
delivery (network error, timeout, non-2xx) is retried with backoff; the last failure is raised so
the caller's own retries (EventBridge's to the webhook function) and dead-letter queue take over.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from forgesyte_core.errors import BadRequest

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
ATTEMPTS = 3
TIMEOUT_S = 5.0
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_callback_url(url: str, resolver: Resolver = resolve, allow_localhost: bool = False) -> list[str]:
    """The public addresses ``url``'s host resolves to; BadRequest saying why it cannot be called.

    ``allow_localhost`` (WEBHOOK_ALLOW_LOCALHOST, which only the local stack sets) also lets
    http://127.0.0.1 or localhost through, so a developer's own receiver works; nothing else private.
    """
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"callback_url must be an https URL of at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if allow_localhost and parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS:
        return [parts.hostname]
    if parts.scheme != "https" or not parts.hostname:
        raise BadRequest("callback_url must be an https:// URL")
    if parts.username or parts.password:
        raise BadRequest("callback_url must not carry credentials: sign requests with WEBHOOK_SECRET instead")
    try:
        addresses = resolver(parts.hostname, parts.port or 443)
    except OSError:
        raise BadRequest(f"callback_url's host {parts.hostname!r} does not resolve") from None
    private = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global]
    if private or not addresses:
        raise BadRequest(f"callback_url's host {parts.hostname!r} is not a public address ({', '.join(private)})")
    return addresses


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Webhooks:
    def __init__(
        self,
        secret: str,
        post: Callable[[str, bytes, dict[str, str], float], int] | None = None,
        resolver: Resolver = resolve,
        retry_delay_s: float = 1.0,
        allow_localhost: bool = False,
    ) -> None:
        self.secret, self.resolver, self.retry_delay_s = secret, resolver, retry_delay_s
        self.allow_localhost = allow_localhost
        self.post = post or _post

    def deliver(self, detail: dict[str, Any]) -> int:
        """POST the job's event detail to its callback_url; returns the receiver's status."""
        url = str(detail.get("callback_url") or "")
        body = json.dumps({"type": "job.status", "job": detail}, sort_keys=True).encode()
        error = ""
        for attempt in range(1, ATTEMPTS + 1):
            check_callback_url(url, self.resolver, self.allow_localhost)  # the name may point elsewhere by now
            now = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "ForgeSyte-Webhook/1",
                "ForgeSyte-Event-Id": f"{detail.get('job_id')}:{detail.get('status')}",
                "ForgeSyte-Signature": signature(self.secret, now, body),
            }
            try:
                status = self.post(url, body, headers, TIMEOUT_S)
                if 200 <= status < 300:
                    return status
                error = f"HTTP {status}"
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("webhook attempt %d failed: %s", attempt, error, extra={"job_id": detail.get("job_id")})
            if attempt < ATTEMPTS:
                time.sleep(self.retry_delay_s * 2 ** (attempt - 1))
        raise ConnectionError(f"webhook to {urlsplit(url).hostname} failed {ATTEMPTS} times: {error}")


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (https checked)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
