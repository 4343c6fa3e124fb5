"""Invoke a function's real handler with an event, as Lambda would, in this process."""

from __future__ import annotations

import importlib
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from forgesyte_dev.template import ROOT

HANDLERS = {
    "api": "api_app",
    "ingest": "ingest_app",
    "runner": "runner_app",
    "reconcile": "reconcile_app",
    "webhook": "webhook_app",
}


@dataclass
class LocalContext:
    """The LambdaContext fields powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def handler_module(function: str) -> Any:
    folder = str(ROOT / "functions" / function)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(HANDLERS[function])


def invoke(function: str, event: dict[str, Any]) -> Any:
    return handler_module(function).lambda_handler(event, LocalContext(f"forgesyte-local-{function}"))
