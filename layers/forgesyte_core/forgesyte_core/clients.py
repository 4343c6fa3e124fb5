"""boto3 clients created on first use and reused across warm invocations.

Functions pass these into the services; tests pass their own (moto, Stubber). The endpoint comes
from boto3's own ``AWS_ENDPOINT_URL`` handling, which the local stack sets.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from forgesyte_core.settings import get_settings


@lru_cache(maxsize=8)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, signature_version="s3v4")
    session: Any = boto3.session.Session()  # untyped: the service name is only known at run time
    return session.client(service, region_name=get_settings().region, config=config)


def reset_clients() -> None:
    client.cache_clear()
