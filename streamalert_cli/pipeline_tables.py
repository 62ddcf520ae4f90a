"""The data-table part of the ``scripts/deploy --local`` proof: a table the deploy created from a log type
of ``logs.json`` (the shipped ``cloudtrail``) takes a partition as ``alerts`` does. A CloudTrail log is
written under its source in the Firehose layout (``YYYY/MM/DD/HH/``), its notification reaches the refresh
queue, the refresh handler runs from its zip, and what it did for the table is read back: the catalog's
partition (add_glue_partition), or the statement it sent (the emulator's Athena records statements without
running them, so an Athena-mode partition can only be shown as the ``ALTER TABLE ... ADD`` it sent)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from config_schemas.models import Config, RefreshType, TableLayout, TableRoute
from streamalert import aws
from streamalert.constants import athena_queue_name
from streamalert.s3_events import NotificationError, S3Object, read_notification
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.local_handlers import DeployedHandlers
from streamalert_cli.processors import by_name

__all__ = ["DATA_HANDLER_LOG", "created_firehose_route", "firehose_key", "prove_data_table"]

DATA_HANDLER_LOG = "refresh-handler-data-table.log"
STEP = "data table"
_NOTIFICATION_WAIT_SECONDS = 10


def created_firehose_route(config: Config) -> TableRoute | None:
    """The first route of a table the deploy creates from a log type, in the Firehose layout."""
    block = config.athena_refresh
    if block is None:
        return None
    for route in block.routes:
        declared = block.declared(route.table)
        if declared is not None and not declared.existing and declared.layout is TableLayout.FIREHOSE:
            return route
    return None


def firehose_key(route: TableRoute, hour: datetime) -> str:
    """A key of the route's source in the Firehose layout: ``<prefix>/YYYY/MM/DD/HH/<name>``."""
    return f"{route.source.filter_prefix}{hour:%Y/%m/%d/%H}/local-check-{uuid.uuid4()}.json"


def prove_data_table(deployment: Any, progress: Progress, handlers: DeployedHandlers) -> None:
    """Write a CloudTrail log into a created table's source, run the refresh, show the partition it
    registered. Skipped, with a line saying why, when no created table has the Firehose layout."""
    config: Config = deployment.config
    block = config.athena_refresh
    route = created_firehose_route(config)
    if block is None or route is None:
        progress.say(
            "pipeline check: data table skipped (no refresh route feeds a table created from a log type "
            "of logs.json in the firehose layout)"
        )
        return
    settings = aws.AwsSettings(region=config.account.region)
    s3, sqs = aws.s3_client(settings), aws.sqs_client(settings)
    now = datetime.now(timezone.utc)
    data_object = S3Object(route.source.bucket, firehose_key(route, now))
    hour = f"{now:%Y-%m-%d-%H}"
    with progress.step(f"{STEP}: write") as step:
        # the proof's sample, named in one place (pipeline_check imports this module)
        from streamalert_cli.pipeline_check import SAMPLE_LOG

        s3.put_object(Bucket=data_object.bucket, Key=data_object.key, Body=SAMPLE_LOG.read_bytes())
        step.detail = f"{data_object} (a CloudTrail log, Firehose layout) for table {route.table}"
    queue = athena_queue_name(config.account.prefix)
    with progress.step(f"{STEP}: notification") as step:
        _wait_for_notification(sqs, queue, data_object)
        step.detail = f"{queue} holds the notification of {data_object}"
    log_path = deployment.workdir / DATA_HANDLER_LOG
    with progress.step(f"{STEP}: refresh handler") as step:
        run = handlers.invoke(by_name("athena"), {}, step=f"{STEP}: refresh handler", log_path=log_path)
        added = run.result.get("partitions_added", {}) if isinstance(run.result, dict) else {}
        if not added.get(route.table):
            summary = json.dumps(run.result, sort_keys=True)
            raise StepFailed(
                f"{STEP}: refresh handler", f"no partition of {route.table} added: {summary}; see {log_path}"
            )
        step.detail = f"{json.dumps(run.result, sort_keys=True)}; its logs in {log_path}"
    folder = f"s3://{data_object.bucket}/{data_object.folder}"
    registered = _registered(route, block.database_name, hour, folder, settings)
    progress.say(
        f"data table {block.database_name}.{route.table}: partition dt='{hour}' at {folder}, {registered}"
    )


def _wait_for_notification(sqs: Any, queue: str, data_object: S3Object) -> None:
    """Until the object's notification is on the queue (peeked at, visibility 0: the handler takes it)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    deadline = time.monotonic() + _NOTIFICATION_WAIT_SECONDS
    while time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
        )
        for message in response.get("Messages", []):
            try:
                if data_object in read_notification(message.get("Body", "")).objects:
                    return
            except NotificationError:
                continue  # not a notification: not the one awaited
    raise StepFailed(f"{STEP}: notification", f"no notification of {data_object} reached {queue}")


def _registered(route: TableRoute, database: str, hour: str, folder: str, settings: aws.AwsSettings) -> str:
    """How the partition is registered, as read back from the emulator; StepFailed when it is not."""
    if route.refresh_type is RefreshType.ADD_GLUE_PARTITION:
        glue = aws.glue_client(settings)
        partition = glue.get_partition(DatabaseName=database, TableName=route.table, PartitionValues=[hour])
        location = partition["Partition"]["StorageDescriptor"]["Location"]
        return f"in the catalog (glue partition at {location})"
    athena = aws.athena_client(settings)
    for execution_id in athena.list_query_executions().get("QueryExecutionIds", []):
        query = " ".join(
            athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Query"].split()
        )
        if route.table in query and (hour in query or route.refresh_type is RefreshType.REPAIR_HIVE_TABLE):
            return f"sent as the athena statement (recorded by the emulator, not run): {query}"
    raise StepFailed(STEP, f"no statement of table {route.table} for dt='{hour}' reached Athena")
