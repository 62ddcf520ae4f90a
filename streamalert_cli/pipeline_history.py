"""The history part of the ``scripts/deploy --local`` proof: data whose notifications never reached the
refresh is invisible to it, and ``scripts/backfill`` (its Python API, in this process, against the
emulator) finds and registers it; a second pass registers nothing.

The simulation is of expired messages: alert objects are written into older hourly folders of the alerts
bucket, and their notifications are taken off the refresh queue unread, as SQS drops a message older than
the queue's retention period. The refresh handler then runs again from its zip and the catalog is read:
those partitions are absent. Only a Glue-mode table can show this end to end (the emulator's Athena
records statements without running them, so an Athena-mode second pass would find nothing registered)."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from config_schemas.models import Config, RefreshType, TableRoute
from streamalert import aws
from streamalert.alerts import Alert
from streamalert.constants import alerts_bucket_name, athena_queue_name
from streamalert.s3_events import NotificationError, S3Object, read_notification
from streamalert_cli.backfill import backfill_tables, refresh_block, select_routes
from streamalert_cli.backfill_display import BackfillProgress, TableCounts
from streamalert_cli.backfill_walk import DateRange
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.local_handlers import DeployedHandlers
from streamalert_cli.processors import by_name

__all__ = [
    "HISTORY_HANDLER_LOG",
    "History",
    "describe",
    "expire_notifications",
    "history_alerts",
    "prove_history",
    "unregistered_history",
]

HISTORY_HANDLER_LOG = "refresh-handler-history.log"
# How far back the history is written (at least; an earlier day when a former proof on the same emulator
# registered that one), and how many objects go into each of its hourly folders
HISTORY_DAYS_AGO = 2
HISTORY_DAYS_TRIED = 30
OBJECTS_PER_HOUR = (2, 1)
_NOTIFICATION_WAIT_SECONDS = 10
# Long enough for the loop to look at every other message once before it shows again
_LOOK_SECONDS = 30


@dataclass(frozen=True)
class History:
    """The alerts written into older hourly folders, whose notifications the refresh never reads."""

    alerts: tuple[Alert, ...]

    @property
    def hours(self) -> tuple[str, ...]:
        """The ``dt`` values of their partitions, in order."""
        return tuple(sorted({f"{alert.created:%Y-%m-%d-%H}" for alert in self.alerts}))

    def objects(self, bucket: str) -> set[S3Object]:
        return {S3Object(bucket, alert.s3_key) for alert in self.alerts}

    def folders(self) -> str:
        return ", ".join(f"dt={hour}" for hour in self.hours)


def prove_history(deployment: Any, progress: Progress, handlers: DeployedHandlers) -> None:
    """Write history the refresh never hears of, show it unregistered after a refresh, backfill it, and
    backfill again (nothing registered). Skipped, with a line saying why, when the alerts bucket is not
    the source of a Glue-mode table."""
    config: Config = deployment.config
    settings = aws.AwsSettings(region=config.account.region)
    route = _alerts_route(config)
    if route is None or route.refresh_type is not RefreshType.ADD_GLUE_PARTITION:
        progress.say(
            "pipeline check: history skipped (the backfill's second pass is shown on a Glue table: the "
            "alerts bucket is not the source of an add_glue_partition table)"
        )
        return
    s3, sqs, glue = aws.s3_client(settings), aws.sqs_client(settings), aws.glue_client(settings)
    database = refresh_block(config).database_name
    with progress.step("history: write") as step:
        registered = _catalog_values(glue, database, route.table)
        history = unregistered_history(datetime.now(timezone.utc), registered)
        for alert in history.alerts:
            s3.put_object(Bucket=route.source.bucket, Key=alert.s3_key, Body=alert.to_json().encode())
        step.detail = (
            f"{len(history.alerts)} alert objects in {len(history.hours)} older hourly folders of "
            f"s3://{route.source.bucket}/alerts/ ({history.folders()})"
        )
    queue = athena_queue_name(config.account.prefix)
    with progress.step("history: notifications expire") as step:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        removed = expire_notifications(sqs, url, history.objects(route.source.bucket))
        retention = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"][
                "MessageRetentionPeriod"
            ]
        )
        step.detail = (
            f"their {removed} notification(s) taken off {queue} unread, as SQS drops a message older "
            f"than the queue's retention period ({_duration(retention)}): the refresh never sees them"
        )
    log_path = deployment.workdir / HISTORY_HANDLER_LOG
    with progress.step("history: refresh handler") as step:
        run = handlers.invoke(by_name("athena"), {}, step="history: refresh handler", log_path=log_path)
        present = [hour for hour in history.hours if (hour,) in _catalog_values(glue, database, route.table)]
        if present:
            raise StepFailed("history: refresh handler", f"the catalog already holds dt={', '.join(present)}")
        step.detail = (
            f"{json.dumps(run.result, sort_keys=True)}; the catalog holds none of {history.folders()}; "
            f"its logs in {log_path}"
        )
    routes = select_routes(refresh_block(config), (route.table,))
    with progress.step("history: backfill") as step:
        counts = _backfill(config, routes, "history: backfill")
        absent = [h for h in history.hours if (h,) not in _catalog_values(glue, database, route.table)]
        if absent:
            raise StepFailed("history: backfill", f"the catalog still lacks dt={', '.join(absent)}")
        step.detail = f"{describe(counts)}; the catalog now holds {history.folders()}"
    with progress.step("history: backfill again") as step:
        again = _backfill(config, routes, "history: backfill again")
        if again.registered or again.missing:
            raise StepFailed("history: backfill again", f"a second pass registered: {describe(again)}")
        step.detail = describe(again)


def history_alerts(day: datetime, per_hour: Sequence[int] = OBJECTS_PER_HOUR) -> History:
    """Alerts created in the first hours of ``day`` (UTC), ``per_hour[n]`` of them in hour ``n``."""
    start = day.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return History(
        tuple(
            Alert.create(
                rule_name="local_deploy_history",
                log_type="local:check",
                record={"written_by": "scripts/deploy --local", "as": "history the refresh never read"},
                outputs=["s3:alerts"],
                origin=str(uuid.uuid4()),
                created=start + timedelta(hours=hour, minutes=index),
            )
            for hour, count in enumerate(per_hour)
            for index in range(count)
        )
    )


def unregistered_history(now: datetime, registered: set[tuple[str, ...]]) -> History:
    """The history of the latest day, ``HISTORY_DAYS_AGO`` or more before ``now``, none of whose hours the
    catalog holds (a redeploy on the same emulator proves on a day its former proof did not register).
    StepFailed when the days tried are all taken."""
    for days_ago in range(HISTORY_DAYS_AGO, HISTORY_DAYS_AGO + HISTORY_DAYS_TRIED):
        history = history_alerts(now - timedelta(days=days_ago))
        if not any((hour,) in registered for hour in history.hours):
            return history
    raise StepFailed(
        "history: write",
        f"the catalog holds a partition on each of the {HISTORY_DAYS_TRIED} days before the last "
        f"{HISTORY_DAYS_AGO}: no day is left to show a backfill on",
    )


def expire_notifications(sqs: Any, url: str, objects: set[S3Object]) -> int:
    """Take the notifications of ``objects`` off the queue, unread by the refresh (what SQS does to a
    message past its retention period); any other message is made visible again at once. The number of
    messages taken; StepFailed when a notification did not arrive within a few seconds."""
    waiting = set(objects)
    removed = 0
    deadline = time.monotonic() + _NOTIFICATION_WAIT_SECONDS
    while waiting and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=_LOOK_SECONDS
        )
        for message in response.get("Messages", []):
            named = _objects_of(message.get("Body", ""))
            if named and named <= objects:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                waiting -= named
                removed += 1
            else:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    if waiting:
        names = ", ".join(sorted(map(str, waiting)))
        raise StepFailed("history: notifications expire", f"no notification of {names} reached the queue")
    return removed


def _objects_of(body: str) -> set[S3Object]:
    try:
        return set(read_notification(body).objects)
    except NotificationError:
        return set()


def _catalog_values(glue: Any, database: str, table: str) -> set[tuple[str, ...]]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    return {tuple(p["Values"]) for page in pages for p in page.get("Partitions", [])}


def _backfill(config: Config, routes: dict[str, list[TableRoute]], step: str) -> TableCounts:
    """One pass of the backfill over the table, its own lines kept (the proof prints one line a pass);
    a rejected folder or a failed partition fails the step."""
    counts = backfill_tables(config, routes, BackfillProgress("backfill", io.StringIO()), DateRange())[0]
    problems = [f"{r.location}: {r.reason}" for r in (*counts.rejected, *counts.failed)]
    if problems:
        raise StepFailed(step, describe(counts), problems)
    return counts


def describe(counts: TableCounts) -> str:
    """A pass of the backfill on one line."""
    return (
        f"{counts.table}: {counts.folders_listed} folders listed, {counts.found} partitions found, "
        f"{counts.already} already there, {counts.registered} registered ({counts.refresh_type})"
    )


def _alerts_route(config: Config) -> TableRoute | None:
    block = config.athena_refresh
    if block is None:
        return None
    bucket = alerts_bucket_name(config.account.prefix)
    return next((route for route in block.routes if route.source.bucket == bucket), None)


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    return f"{days} day{'' if days == 1 else 's'}" if days and not rest else f"{seconds:,} seconds"
