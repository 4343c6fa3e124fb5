"""One Logger and Metrics per process, shared by every function; the Tracer only where it pays.

The job id is the correlation id: :func:`bind_job` adds it to every log line that follows.

The X-Ray SDK behind powertools' Tracer builds two botocore clients when imported (about 190 ms,
measured by ``make bench``), more than the rest of a zip function's cold start. Zip functions rely
on Lambda's own active tracing (``Tracing: Active`` in template.yaml) and never import it; the
runner image, whose cold start OpenCV and the plugins dominate, uses :func:`get_tracer`.
"""

from __future__ import annotations

import logging
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "forgesyte"

logger = Logger(service=SERVICE)
# The library logs through logging.getLogger(__name__); its records get the same JSON formatter,
# and so the job id appended by bind_job.
logging.getLogger("forgesyte_core")
copy_config_to_registered_loggers(source_logger=logger, include={"forgesyte_core"})
metrics = Metrics(namespace="ForgeSyte", service=SERVICE)
# A status read records no metric; powertools warns about that on every such call.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def bind_job(job_id: str) -> None:
    logger.append_keys(job_id=job_id)
    logger.set_correlation_id(job_id)


def unbind_job() -> None:
    logger.remove_keys(["job_id"])
    logger.set_correlation_id(None)
