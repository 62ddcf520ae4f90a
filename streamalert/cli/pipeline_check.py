"""The proof at the end of ``scripts/deploy --local``: an alert object goes into the alerts bucket, its S3
notification lands on the queue, the refresh handler runs in-process as the schedule would, and what it
changed is read back: partitions from the catalog (Glue sources), statements from the emulator (Athena modes,
which the emulator records without running them)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from config_schemas.models import AthenaRefreshConfig, Config, RefreshType
from streamalert import aws
from streamalert.cli.common import Progress, StepFailed
from streamalert.constants import (
    ALERTS_KEY_PREFIX,
    ENV_CONFIG_DIR,
    ENV_RECEIVE_WAIT_SECONDS,
    alerts_bucket_name,
    athena_queue_name,
)
from streamalert.s3_events import NotificationError, S3Object, parse_notification

_NOTIFICATION_WAIT_SECONDS = 10
HANDLER_LOG = "refresh-handler.log"


class FakeLambdaContext:
    """What the handler reads of a Lambda context: the time left of the function's timeout."""

    def __init__(self, function_name: str, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.aws_request_id = f"local-{uuid.uuid4()}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def prove_pipeline(deployment: Any, progress: Progress) -> None:
    """Run the proof against the emulator the deployment used (its endpoint is in the environment)."""
    config: Config = deployment.config
    block = config.athena_refresh
    if block is None or not any(p.cli_name == "athena" for p in deployment.selected):
        progress.say("pipeline check: skipped (the Athena Partition Refresh was not deployed)")
        return
    bucket = alerts_bucket_name(config.account.prefix)
    if not any(route.source.bucket == bucket for route in block.routes):
        progress.say(f"pipeline check: skipped ({bucket} is not a source in lambda.json's refresh_type)")
        return
    settings = aws.AwsSettings(region=config.account.region)
    with progress.step("write alert") as step:
        key = _write_alert(aws.s3_client(settings), bucket)
        step.detail = f"s3://{bucket}/{key}"
    with progress.step("notification on the queue") as step:
        queue = athena_queue_name(config.account.prefix)
        step.detail = _peek_notification(aws.sqs_client(settings), queue, S3Object(bucket, key))
    log_path = deployment.workdir / HANDLER_LOG
    with progress.step("refresh handler") as step, log_path.open("w", encoding="utf-8") as log:
        with redirect_stdout(log), redirect_stderr(log):  # its JSON logs and metrics, as CloudWatch gets them
            result = run_refresh_handler(deployment.options.config_dir, config)
        step.detail = f"{json.dumps(result, sort_keys=True)}, its logs in {log_path}"
    for line in changes(block, settings):
        progress.say(line)


def _write_alert(s3: Any, bucket: str) -> str:
    now = datetime.now(timezone.utc)
    alert_id = str(uuid.uuid4())
    key = f"{ALERTS_KEY_PREFIX}/dt={now:%Y-%m-%d-%H}/{alert_id}.json"
    alert = {  # the shape of streamalert.alerts.Alert.to_dict()
        "id": alert_id,
        "rule_name": "local_deploy_check",
        "log_type": "local:check",
        "record": {"written_by": "scripts/deploy --local", "bucket": bucket},
        "created": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "outputs": ["s3:alerts"],
    }
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(alert).encode())
    return key


def _peek_notification(sqs: Any, queue_name: str, s3_object: S3Object) -> str:
    """Find the object's notification without taking it (visibility 0): the handler receives it next."""
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    deadline = time.monotonic() + _NOTIFICATION_WAIT_SECONDS
    while time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
        )
        for message in response.get("Messages", []):
            if s3_object in _announced(message.get("Body", "")):
                return f"{queue_name} holds the ObjectCreated notification of {s3_object}"
    raise StepFailed("notification on the queue", f"no notification of {s3_object} reached {queue_name}")


def _announced(body: str) -> tuple[S3Object, ...]:
    try:
        return parse_notification(body).objects
    except NotificationError:
        return ()


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_refresh_handler(config_dir: Path, config: Config) -> dict[str, Any]:
    """Call ``apps.athena_refresh.main.handler({}, context)`` in-process, as the schedule would."""
    from apps.athena_refresh import main

    block = config.athena_refresh
    timeout = block.timeout if block else 60
    values = {ENV_CONFIG_DIR: str(config_dir.resolve()), ENV_RECEIVE_WAIT_SECONDS: "0"}
    with _environment(**values):
        main.warm_config.cache_clear()
        main.warm_refresher.cache_clear()
        try:
            result: dict[str, Any] = main.handler({}, FakeLambdaContext("local", timeout))
        finally:
            main.warm_config.cache_clear()
            main.warm_refresher.cache_clear()
    return result


def changes(block: AthenaRefreshConfig, settings: aws.AwsSettings) -> list[str]:
    """What the refresh left behind: catalog partitions of Glue tables, statements of Athena tables."""
    lines = []
    glue = aws.glue_client(settings)
    glue_tables = sorted({r.table for r in block.routes if r.refresh_type is RefreshType.ADD_GLUE_PARTITION})
    for table in glue_tables:
        response = glue.get_partitions(DatabaseName=block.database_name, TableName=table)
        for partition in response.get("Partitions", []):
            location = partition.get("StorageDescriptor", {}).get("Location", "")
            lines.append(f"glue partition {block.database_name}.{table} {partition['Values']} at {location}")
    if any(r.refresh_type is not RefreshType.ADD_GLUE_PARTITION for r in block.routes):
        athena = aws.athena_client(settings)
        for execution_id in athena.list_query_executions().get("QueryExecutionIds", []):
            execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            query = " ".join(execution["Query"].split())
            lines.append(
                f"athena statement ({execution['Status']['State']}, recorded by the emulator, "
                f"not run): {query}"
            )
    if not lines:
        lines.append("the refresh changed nothing in the catalog")
    return lines
