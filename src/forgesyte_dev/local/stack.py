"""The embedded local stack: everything template.yaml deploys, on this machine, with no AWS or Docker.

- a moto server on 127.0.0.1 for S3, DynamoDB and SQS, with the bucket, table, queues, DLQs and the
  bucket → queue notification created from template.yaml (or an existing one to attach to);
- the API function behind a local gateway (API-key check, CORS, /docs);
- pollers feeding the upload queue to the ingest handler and the work queue to the runner handler,
  each in worker processes, and the work DLQ to the reconcile handler;
- the local stand-in for AWS Batch (``LOCAL_BATCH_COMMAND``) and the reconcile schedule.

Only the launchers differ from the cloud; handlers, settings and resources are template.yaml's.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from forgesyte_core.observability import logger
from forgesyte_dev.local.gateway import Gateway
from forgesyte_dev.local.invoke import invoke
from forgesyte_dev.local.lambda_image import ImageFunction
from forgesyte_dev.local.moto_server import MotoServer
from forgesyte_dev.local.outputs import FAKE_CREDENTIALS, publish_outputs
from forgesyte_dev.local.routes import api_routes, cors_headers
from forgesyte_dev.local.s3_events import with_sequencers
from forgesyte_dev.local.workers import FunctionPool, QueuePoller
from forgesyte_dev.template import load_template, provision

MOTO_START_S = 30.0

SCHEDULE_EVENT = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 0  # 0: a free port
    moto_port: int = 0
    moto_url: str | None = None  # attach to a running moto server instead of starting one
    prefix: str = "forgesyte-local"
    state_dir: Path = Path(".local-stack")
    api_key: str = "forgesyte-local-dev-key"
    runner_workers: int = 2
    api_workers: int = 4  # API invocations at once (its reserved concurrency in the cloud); more queue
    ingest_workers: int = 1
    sweep_interval_s: float = 60.0
    region: str = "us-east-1"
    env_json: Path | None = Path("env.json")  # for sam local invoke --env-vars
    batch_image: str | None = None  # run Batch jobs in this image (podman) instead of a local process
    lambda_image: str | None = None  # serve the work queue with this runner Lambda image (podman)
    moto_host: str | None = None  # bind the moto server here instead of ``host`` (the container bridge)
    container_host: str = "host.docker.internal"  # how containers (sam local) reach moto_host
    extra_env: dict[str, str] = field(default_factory=dict)
    web_root: Path | None = None  # the built web page (web/dist), served at the API's origin
    expose_api_key: bool = False  # put the key in the page's config.json even off loopback
    functions_by_sam: bool = False  # ingest and the runner are `sam local invoke`'s: nothing polls their queues
    webhook_secret: str = "local-webhook-secret"  # noqa: S105 (the local stack's, not a secret)


WEBHOOK_STATUSES = ("completed", "failed", "cancelled")


def _deliver_webhook(event: dict[str, Any]) -> None:
    try:
        invoke("webhook", event)
    except Exception:  # EventBridge would retry and dead-letter; here the log says what happened
        logger.exception("webhook not delivered", extra={"job_id": event.get("detail", {}).get("job_id")})


def _job_event_queue(sqs: Any, bus: str, prefix: str) -> str:
    """A rule on the job event bus into a queue, as a user would add one (moto's EventBridge)."""
    events = boto3.client("events")
    url: str = sqs.create_queue(QueueName=f"{prefix}-job-events-log")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=f"{prefix}-all-job-events", EventBusName=bus, EventPattern=json.dumps({"source": ["forgesyte"]})
    )
    events.put_targets(Rule=f"{prefix}-all-job-events", EventBusName=bus, Targets=[{"Id": "log", "Arn": arn}])
    return url


def _allow_origin(s3: Any, bucket: str, origin: str) -> None:
    """The page is served from the gateway's origin: let it upload to the bucket as CorsOrigins would."""
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    for rule in rules:
        rule["AllowedOrigins"] = sorted({*rule["AllowedOrigins"], origin, origin.replace("127.0.0.1", "localhost")})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.pools: dict[str, FunctionPool | ImageFunction] = {}
        self.moto: MotoServer | None = None
        self.gateway: Gateway | None = None
        self.env: dict[str, str] = {}
        self.info: dict[str, Any] = {}
        self.started_s = 0.0
        self._saved_environ: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalStack:
        """Start everything, or, when start-up fails or is interrupted (Ctrl-C), stop what it started."""
        self._saved_environ = dict(os.environ)
        try:
            return self._start()
        except BaseException:
            self.stop(crash=True)  # nothing has run yet: its workers and moto end at once
            raise

    def _start(self) -> LocalStack:
        began = time.perf_counter()
        config = self.config
        # The API's workers import while the resources are made, so the first request finds them warm;
        # powertools reads its switches at import, so those go with them from the start.
        quiet = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true", **config.extra_env}
        api_pool = FunctionPool("api", quiet, config.api_workers)
        self.pools = {"api": api_pool}  # stop() ends it, should start-up fail from here on
        threading.Thread(target=api_pool.warm, name="warm-api", daemon=True).start()
        moto_url = config.moto_url or self._start_moto()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": moto_url,
                "AWS_DEFAULT_REGION": config.region,
                "AWS_REGION": config.region,
                **FAKE_CREDENTIALS,
            }
        )
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        sqs: Any = boto3.client("sqs")
        self.sqs = sqs
        template = load_template()
        resources = provision(s3, dynamodb, sqs, prefix=config.prefix, region=config.region, template=template)
        work_dir = (config.state_dir / "work").resolve()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.label = f"{config.prefix}@{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        events = config.state_dir / "events.jsonl"
        if config.moto_url is None and events.is_file():  # a fresh moto server: the old jobs are gone
            events.replace(config.state_dir / "events.previous.jsonl")
        self.env = {
            **resources.environment(),
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_REGION": config.region,
            **FAKE_CREDENTIALS,
            "WORK_DIR": str(work_dir),
            "LOCAL_BATCH_COMMAND": " ".join(
                [
                    sys.executable,
                    "-m",
                    "forgesyte_dev.local.batch",
                    *(["--image", config.batch_image] if config.batch_image else []),
                ]
            ),
            # Webhooks on, to this machine's own receivers too (never set in the cloud).
            "WEBHOOKS_ENABLED": "true",
            "WEBHOOK_SECRET": config.webhook_secret,
            "WEBHOOK_ALLOW_LOCALHOST": "true",
            **quiet,
        }
        os.environ.update(self.env)
        api_pool.env = self.env
        _reset_layer()
        self._recover()

        upload_url, work_url, dlq_url, upload_dlq_url = (
            resources.physical[n] for n in ("UploadQueue", "WorkQueue", "WorkDeadLetterQueue", "UploadDeadLetterQueue")
        )
        self.pools = {
            "api": api_pool,
            "ingest": FunctionPool("ingest", self.env, config.ingest_workers),
            "runner": (
                ImageFunction("runner", config.lambda_image, container_environment(self.env))
                if config.lambda_image
                else FunctionPool("runner", self.env, config.runner_workers, on_crash=_runner_died)
            ),
        }
        reconcile_slot = threading.Semaphore(1)
        # Under sam local, `sam local invoke` stands in for the event source mappings of ingest and the
        # runner: their queues keep the messages for `forgesyte sam-events` to hand over.
        feeders = (
            []
            if config.functions_by_sam
            else [
                QueuePoller(
                    sqs,
                    upload_url,
                    resources.arns["UploadQueue"],
                    lambda event: self.pools["ingest"].submit(with_sequencers(event)),
                    self.pools["ingest"].slots,
                    10,
                    self.stop_event,
                ),
                QueuePoller(
                    sqs,
                    work_url,
                    resources.arns["WorkQueue"],
                    self.pools["runner"].submit,
                    self.pools["runner"].slots,
                    1,
                    self.stop_event,
                ),
            ]
        )
        self.threads = [
            *feeders,
            *(
                QueuePoller(
                    sqs,
                    url,
                    resources.arns[name],
                    lambda e: invoke("reconcile", with_sequencers(e)),
                    reconcile_slot,
                    10,
                    self.stop_event,
                )
                for name, url in (("WorkDeadLetterQueue", dlq_url), ("UploadDeadLetterQueue", upload_dlq_url))
            ),
            threading.Thread(target=self._schedule, name="reconcile-schedule", daemon=True),
            threading.Thread(
                target=self._log_job_events,
                args=(_job_event_queue(sqs, resources.physical["JobEventBus"], config.prefix),),
                name="job-events",
                daemon=True,
            ),
        ]
        for pool in (self.pools["ingest"], self.pools["runner"]):  # warm in the background: health answers at once
            if not config.functions_by_sam:
                threading.Thread(target=pool.warm, name=f"warm-{pool.function}", daemon=True).start()
        for thread in self.threads:
            thread.start()

        origins = self.env.get("CORS_ORIGINS", "").split(",")
        self.gateway = Gateway(
            config.host,
            config.api_port,
            config.api_key,
            api_routes(template),
            cors_headers(template, origins),
            api_pool.call,
            web_root=config.web_root,
            expose_api_key=config.expose_api_key,
        )
        self.gateway.start()
        _allow_origin(s3, resources.physical["MediaBucket"], self.gateway.url)
        publish_outputs(
            boto3.session.Session(),
            config.prefix,
            self.gateway.url,
            config.api_key,
            resources.physical,
            resources.parameters,
        )
        self.info = {
            "stack_name": config.prefix,
            "api_url": self.gateway.url,
            "api_key": config.api_key,
            "moto_url": moto_url,
            "region": config.region,
            "bucket": resources.physical["MediaBucket"],
            "table": resources.physical["JobsTable"],
            "queues": {
                n: resources.physical[n]
                for n in ("UploadQueue", "WorkQueue", "UploadDeadLetterQueue", "WorkDeadLetterQueue")
            },
            "pid": os.getpid(),
        }
        self._write_state(template)
        self.started_s = time.perf_counter() - began
        logger.info("local stack ready", extra={**self.info, "startup_s": round(self.started_s, 3)})
        return self

    def _log_job_events(self, queue_url: str) -> None:
        """What a user's rule on the job event bus would get: logged, and appended to events.jsonl
        in the state folder (`forgesyte events` shows it)."""
        path = self.config.state_dir / "events.jsonl"
        while not self.stop_event.is_set():
            try:
                batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the moto server is going away with the stack
                return
            for message in batch.get("Messages", []):
                event = json.loads(message["Body"])
                logger.info("job event", extra={"detail": event.get("detail")})
                with path.open("a") as out:  # each line says which stack's bus carried it
                    out.write(json.dumps({**event, "stack": self.label}) + "\n")
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                detail = event.get("detail") or {}
                if detail.get("callback_url") and detail.get("status") in WEBHOOK_STATUSES:
                    # What the template's EventBridge rule does: the webhook function, off this thread.
                    threading.Thread(target=_deliver_webhook, args=(event,), name="webhook", daemon=True).start()

    def stop(self, crash: bool = False) -> None:
        """Stop everything; ``crash`` kills the workers mid-job as a power cut would."""
        self.stop_event.set()
        if self.gateway:
            self.gateway.stop()
        for pool in self.pools.values():
            pool.kill() if crash else pool.close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.moto is not None:
            self.moto.stop()
        (self.config.state_dir / "stack.json").unlink(missing_ok=True)
        logger.info("local stack stopped", extra={"crash": crash})
        os.environ.clear()
        os.environ.update(self._saved_environ)
        _reset_layer()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- parts -------------------------------------------------------------------------------

    def _start_moto(self) -> str:
        # Port 0: the OS picks a free one as the server binds (a port picked first could be taken by
        # another process before the bind).
        self.moto = MotoServer(self.config.moto_host or self.config.host, self.config.moto_port, MOTO_START_S)
        return self.moto.start()

    def _recover(self) -> None:
        """Runs a previous stack left running died with its workers: each is retried while it has attempts
        left (a segment alone), as the cloud's heartbeat sweep would, else its job fails ``interrupted``."""
        from forgesyte_core import wiring
        from forgesyte_core.jobs.model import JobStatus, SegmentStatus

        reconciler = wiring.reconciler()
        reason = "the local stack stopped while the job ran"
        for job in wiring.job_store().iter_status(JobStatus.RUNNING):
            if job.segments:
                for segment in job.segments:
                    if segment.status == SegmentStatus.RUNNING:
                        reconciler.segments.segment_died(job, segment.index, "interrupted", reason)
                continue
            outcome = reconciler.run_died(job, "interrupted", reason)
            logger.info("recovered a job the last stack left running", extra={"job_id": job.job_id, "outcome": outcome})

    def _schedule(self) -> None:
        while not self.stop_event.wait(self.config.sweep_interval_s):
            try:
                invoke("reconcile", SCHEDULE_EVENT)
            except Exception:
                logger.exception("reconcile sweep failed")

    def _write_state(self, template: dict[str, Any]) -> None:
        state = self.config.state_dir
        state.mkdir(parents=True, exist_ok=True)
        (state / "stack.json").write_text(json.dumps(self.info, indent=2) + "\n")
        # sam local invoke runs functions in containers: the moto server is this machine's, seen from there.
        moto_host = self.config.moto_host or self.config.host
        docker_env = {
            **container_environment(self.env),
            "AWS_ENDPOINT_URL": self.info["moto_url"].replace(moto_host, self.config.container_host),
        }
        functions = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
        if self.config.env_json is not None:
            self.config.env_json.write_text(json.dumps(dict.fromkeys(functions, docker_env), indent=2) + "\n")


def _runner_died(event: dict[str, Any]) -> None:
    """A runner worker died mid-invocation: a job it had claimed can never finish, so it ends now.

    A job it had not claimed yet is still queued, and its message comes back to another worker. A
    segment it was running is retried alone while it has attempts left, as the work DLQ would have it.
    """
    from forgesyte_core import wiring
    from forgesyte_core.jobs.model import JobStatus

    for record in event.get("Records", []):
        message = json.loads(record["body"])
        job_id = str(message.get("job_id", ""))
        if message.get("segment") is not None:
            wiring.reconciler().dead_letter(job_id, int(message["segment"]))
            continue
        wiring.reconciler().fail(
            job_id,
            "runner_failed",
            "the runner process died while running the job (killed or out of memory); submit it again",
            expected=(JobStatus.RUNNING,),
        )


# Paths on this machine and the stand-in's own settings mean nothing inside a container.
HOST_ONLY = ("WORK_DIR", "LOCAL_BATCH_COMMAND", "PLUGIN_CATALOG_PATH")


def container_environment(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in HOST_ONLY}


def _reset_layer() -> None:
    from forgesyte_core import clients, settings, wiring

    settings.reset_settings()
    clients.reset_clients()
    wiring.reset()
