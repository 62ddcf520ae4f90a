"""The proof at the end of ``scripts/deploy --local``: one line a hop, each handler run from the zip this
deploy uploaded, in a fresh interpreter of the functions' runtime (the emulator runs no function code; see
``streamalert_cli.local_handlers``).

With the rule and alert processors deployed: a sample CloudTrail log goes into a rule processor input bucket,
the rule handler reads it (the S3 event built for the object) and queues its alert, the alert handler takes
the queue's messages (an SQS event built from them) and writes the alert object. With the refresh function
deployed (alone, an alert object is written directly): the object's S3 notification lands on its queue, the
refresh handler runs as its trigger would run it (the schedule: an empty event; the queue: the batch its
event source mapping would deliver, ``streamalert_cli.pipeline_event_source``), and what it changed is read
back: partitions from the catalog (Glue sources), statements from the emulator (Athena modes, recorded
without being run)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from config_schemas.models import AthenaRefreshConfig, Config, RefreshType, Trigger
from streamalert import aws
from streamalert.alerts import Alert
from streamalert.constants import (
    ALERTS_KEY_PREFIX,
    alerts_bucket_name,
    alerts_queue_name,
    athena_queue_name,
)
from streamalert.s3_events import NotificationError, S3Object, read_notification
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.local_handlers import DeployedHandlers, one_line, s3_event, sqs_event
from streamalert_cli.packaging import Package
from streamalert_cli.pipeline_event_source import prove_event_source
from streamalert_cli.pipeline_history import prove_history
from streamalert_cli.pipeline_tables import prove_data_table
from streamalert_cli.processors import by_name
from streamalert_cli.zip_runner import LambdaRuntime

__all__ = ["changes", "prove_pipeline"]

_NOTIFICATION_WAIT_SECONDS = 10
_ALERTS_WAIT_SECONDS = 5
HANDLER_LOG = "refresh-handler.log"
RULE_HANDLER_LOG = "rule-handler.log"
ALERT_HANDLER_LOG = "alert-handler.log"
# A CloudTrail log that the shipped rule root_account_use matches
SAMPLE_LOG = Path(__file__).resolve().parent / "samples" / "cloudtrail_root_account_use.json"


def prove_pipeline(deployment: Any, progress: Progress, packages: Mapping[str, Package]) -> None:
    """Run the proof against the emulator the deployment used (its endpoint is in the environment), each
    handler from the zip of ``packages`` (by Terraform module) that this deploy uploaded."""
    config: Config = deployment.config
    selected = {p.cli_name for p in deployment.selected}
    settings = aws.AwsSettings(region=config.account.region)
    handlers = _deployed_handlers(deployment, progress, packages, settings)
    alert_key = None
    if {"rule", "alert"} <= selected:
        alert_key = _prove_rule_and_alert(deployment, progress, settings, handlers)
        if alert_key is None:
            return
    block = config.athena_refresh
    if block is None or "athena" not in selected:
        progress.say("pipeline check: refresh skipped (the Athena Partition Refresh was not deployed)")
        return
    bucket = alerts_bucket_name(config.account.prefix)
    if not any(route.source.bucket == bucket for route in block.routes):
        progress.say(
            f"pipeline check: refresh skipped ({bucket} is not a source in lambda.json's refresh_type)"
        )
        return
    if alert_key is None:
        with progress.step("write alert") as step:
            alert_key = _write_alert(aws.s3_client(settings), bucket)
            step.detail = f"s3://{bucket}/{alert_key}"
    with progress.step("notification on the queue") as step:
        queue = athena_queue_name(config.account.prefix)
        queued = _peek_notification(aws.sqs_client(settings), queue, S3Object(bucket, alert_key))
        step.detail = f"{queue} holds {queued.describe()}"
    log_path = deployment.workdir / HANDLER_LOG
    if block.trigger is Trigger.QUEUE:  # the batch the queue's event source mapping would deliver
        prove_event_source(
            block.event_source,
            progress,
            handlers,
            settings,
            queue=queue,
            expected=queued.messages,
            log_path=log_path,
        )
    else:
        with progress.step("refresh handler") as step:  # as the schedule invokes it: an empty event
            run = handlers.invoke(by_name("athena"), {}, step="refresh handler", log_path=log_path)
            step.detail = (
                f"{json.dumps(run.result, sort_keys=True)} (received: the {queued.messages} message(s) "
                f"above), its logs in {log_path}"
            )
    for line in changes(block, settings):
        progress.say(line)
    prove_history(deployment, progress, handlers)  # the backfill: data the refresh never heard of
    prove_data_table(deployment, progress, handlers)  # a table created from logs.json takes a partition


def _deployed_handlers(
    deployment: Any, progress: Progress, packages: Mapping[str, Package], settings: aws.AwsSettings
) -> DeployedHandlers:
    with progress.step("lambda runtime") as step:
        runtime = LambdaRuntime.find()
        step.detail = f"{runtime.python}, boto3 of {runtime.libraries}"
    return DeployedHandlers(
        lambda_client=aws.client("lambda", settings),
        s3_client=aws.s3_client(settings),
        source_bucket=deployment.source_bucket,
        packages=packages,
        runtime=runtime,
        prefix=deployment.config.account.prefix,
        endpoint=deployment.endpoint,
        region=settings.region,
    )


def _prove_rule_and_alert(
    deployment: Any, progress: Progress, settings: aws.AwsSettings, handlers: DeployedHandlers
) -> str | None:
    """Log in, rule handler, alerts queue, alert handler: the key of the alert object written (None when
    the rule processor has no S3 input to drop the sample into)."""
    config: Config = deployment.config
    rule_block, alert_block = config.rule_processor, config.alert_processor
    if rule_block is None or alert_block is None or not rule_block.inputs.s3:
        progress.say("pipeline check: rule and alert skipped (the rule processor has no S3 input)")
        return None
    source = sorted(rule_block.inputs.s3)[0]
    s3 = aws.s3_client(settings)
    with progress.step("write log") as step:
        data = SAMPLE_LOG.read_bytes()
        log_object = S3Object(source.bucket, f"{source.filter_prefix}local-check/{uuid.uuid4()}.json")
        s3.put_object(Bucket=log_object.bucket, Key=log_object.key, Body=data)
        step.detail = f"{log_object} (CloudTrail, root account use)"
    with progress.step("rule handler") as step:
        log_path = deployment.workdir / RULE_HANDLER_LOG
        event = s3_event(log_object, len(data), config.account.region)
        result = handlers.invoke(by_name("rule"), event, step="rule handler", log_path=log_path).result
        if not result.get("alerts_sent"):
            raise StepFailed("rule handler", f"no alert sent: {one_line(result)}; see {log_path}")
        step.detail = (
            f"{result.get('records')} records, alerts {one_line(result.get('alerts', {}))}, "
            f"{result['alerts_sent']} sent; its logs in {log_path}"
        )
    sqs = aws.sqs_client(settings)
    queue_name = alerts_queue_name(config.account.prefix)
    with progress.step("alerts queue") as step:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        messages = _receive_all(sqs, url, int(result["alerts_sent"]))
        step.detail = f"{len(messages)} alert messages received from {queue_name}"
    with progress.step("alert handler") as step:
        log_path = deployment.workdir / ALERT_HANDLER_LOG
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        event = sqs_event(messages, queue_arn, config.account.region)
        result = handlers.invoke(by_name("alert"), event, step="alert handler", log_path=log_path).result
        failed = {item.get("itemIdentifier") for item in result.get("batchItemFailures", [])}
        delivered = [m for m in messages if m["MessageId"] not in failed]
        for message in delivered:  # what the event source mapping does for a successful batch item
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if failed or not delivered:
            raise StepFailed("alert handler", f"{len(failed)} messages failed; see {log_path}")
        keys = [Alert.from_json(m["Body"]).s3_key for m in delivered]
        bucket = alerts_bucket_name(config.account.prefix)
        step.detail = f"{len(keys)} alerts written, s3://{bucket}/{keys[0]}; its logs in {log_path}"
    return keys[0]


def _receive_all(sqs: Any, url: str, expected: int) -> list[dict[str, Any]]:
    """The messages of the queue (at least ``expected`` of them, or what arrived within a few seconds)."""
    messages: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + _ALERTS_WAIT_SECONDS
    while len(messages) < expected and time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            messages.setdefault(message["MessageId"], message)
    if not messages:
        raise StepFailed("alerts queue", "no alert reached the alerts queue")
    return list(messages.values())


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


@dataclass(frozen=True)
class QueueCensus:
    """What the refresh queue holds before the handler runs, so that its count can be explained: S3 sends
    a test event when a bucket's notifications are set up, beside the notifications of new objects."""

    test_events: int
    objects: tuple[S3Object, ...]
    other: int

    @property
    def messages(self) -> int:
        return self.test_events + len(self.objects) + self.other

    def describe(self) -> str:
        parts = [f"{len(self.objects)} ObjectCreated notification(s) ({', '.join(map(str, self.objects))})"]
        if self.test_events:
            parts.append(
                f"{self.test_events} S3 test event(s), sent when a bucket's notifications were set up"
            )
        if self.other:
            parts.append(f"{self.other} other message(s)")
        return f"{self.messages} message(s): " + "; ".join(parts)


def census(bodies: Iterable[str]) -> QueueCensus:
    """Sort message bodies as the refresh reads them."""
    test_events = other = 0
    objects: list[S3Object] = []
    for body in bodies:
        try:
            notification = read_notification(body)
        except NotificationError:
            other += 1
            continue
        if notification.is_test_event:
            test_events += 1
        elif notification.objects:
            objects.extend(notification.objects)
        else:
            other += 1
    return QueueCensus(test_events, tuple(objects), other)


def _peek_notification(sqs: Any, queue_name: str, s3_object: S3Object) -> QueueCensus:
    """Wait for the object's notification and read what the queue holds beside it, without taking
    anything (visibility 0): the handler receives it all next."""
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    deadline = time.monotonic() + _NOTIFICATION_WAIT_SECONDS
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
        )
        messages = response.get("Messages", [])
        new = {m["MessageId"]: m.get("Body", "") for m in messages if m["MessageId"] not in seen}
        seen.update(new)
        found = s3_object in census(seen.values()).objects
        if found and not new:  # the object's notification is there, and a poll found nothing more
            return census(seen.values())
    if s3_object in census(seen.values()).objects:
        return census(seen.values())
    raise StepFailed("notification on the queue", f"no notification of {s3_object} reached {queue_name}")


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
