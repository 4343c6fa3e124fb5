"""Request bodies parsed defensively: a body the API cannot take is a 4xx with the reason, never a crash.

JSON is parsed without Python's NaN/Infinity extensions (DynamoDB cannot store them), nesting
deeper than the interpreter allows is refused rather than raised, and options are bounded in size
and depth (DynamoDB allows 32 levels and 400 KB an item) and must be valid UTF-8 text throughout.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from forgesyte_core.errors import BadRequest, PayloadTooLarge, Unprocessable


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def body_text(body: str | None, base64_encoded: bool) -> str | None:
    """The body as text. API Gateway base64-encodes a body it cannot pass as UTF-8 text; one that is
    not UTF-8 once decoded is a 400, not a crash in the decoder."""
    if body is None or not base64_encoded:
        return body
    try:
        return base64.b64decode(body).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not UTF-8 text: send a JSON object encoded as UTF-8") from None


def parse_json(text: str | None) -> Any:
    if text is None or not text.strip():
        raise BadRequest("the request body is empty: send a JSON object")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from None


def depth_of(value: Any, limit: int) -> int:
    """Levels of objects and arrays (``{}`` is 1, ``{"a": []}`` is 2), counting no further than past ``limit``."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check_text(value: Any, where: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest(f"{where} holds text that is not valid UTF-8 (a lone surrogate)") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_options(options: dict[str, Any], max_bytes: int, max_depth: int) -> None:
    """Raise 422 past ``max_depth`` levels, 413 past ``max_bytes`` of JSON, 400 for text DynamoDB refuses."""
    depth = depth_of(options, max_depth)
    if depth > max_depth:
        raise Unprocessable(f"options are nested more than {max_depth} levels deep; the limit is {max_depth}")
    size = len(json.dumps(options, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise PayloadTooLarge(f"options are {size} bytes of JSON; the limit is {max_bytes}")
    check_text(options, "options")
