"""The context of ``athena_refresh.tf.j2``: the refresh function, its queue of S3 notifications, its
schedule and alarms, the alerts bucket, the catalog and the Athena workgroup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config_schemas.models import (
    AthenaRefreshConfig,
    Config,
    NotificationMode,
    RefreshType,
    TableRoute,
    Trigger,
)
from streamalert.constants import (
    ATHENA_METRICS_NAMESPACE,
    ATHENA_RESULTS_EXPIRATION_DAYS,
    DEAD_LETTER_MAX_RECEIVE_COUNT,
    QUEUE_RETENTION_SECONDS,
    alerts_bucket_name,
    athena_dead_letter_queue_name,
    athena_queue_name,
    athena_workgroup_name,
    lambda_log_group_name,
)
from streamalert_cli.terraform.context import (
    ALARM_PERIOD_SECONDS,
    AWS_TARGET,
    QUEUE_DESTINATION,
    REPORT_BATCH_ITEM_FAILURES,
    AlarmContext,
    Arns,
    BucketSubscription,
    DeployTarget,
    ModuleContext,
    QueueContext,
    allow,
    dead_letter_alarm,
    function_context,
    list_bucket_statements,
    log_group_context,
    missing_block,
    module_tags,
    object_arns,
    visibility_timeout,
)
from streamalert_cli.terraform.notifications import eventbridge_rule_name
from streamalert_cli.terraform.tables import TableContext, table_contexts

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor

# Data and catalog that scripts/destroy keeps (they also carry prevent_destroy in the template), with
# every table the module creates (``TableContext.resource``)
ATHENA_PROTECTED_RESOURCES = (
    "aws_s3_bucket.alerts",
    "aws_s3_bucket_server_side_encryption_configuration.alerts",
    "aws_s3_bucket_public_access_block.alerts",
    "aws_glue_catalog_database.streamalert",
)


@dataclass(frozen=True)
class NotificationQueueContext(QueueContext):
    """The queue of S3 notifications: only the configured buckets may send to it (``policy``)."""

    policy: dict[str, Any]


@dataclass(frozen=True)
class ScheduleContext:
    """The schedule trigger: a rule that runs the function, which drains the queue."""

    name: str
    description: str
    expression: str
    state: str


@dataclass(frozen=True)
class RefreshEventSourceContext:
    """The queue trigger: the mapping that hands the function batches of the queue's notifications.
    Disabled with the function, and on the local target: the emulator would run the function in a
    container for each message sent; the deploy's proof plays the mapping's part instead."""

    batch_size: int
    maximum_batching_window_seconds: int
    maximum_concurrency: int
    function_response_types: tuple[str, ...]
    enabled: bool


# What each trigger renders: a switch removes the other one's (scripts/deploy's policy allows both)
TRIGGER_RESOURCE_TYPES = {
    Trigger.SCHEDULE: ("aws_cloudwatch_event_rule", "aws_cloudwatch_event_target", "aws_lambda_permission"),
    Trigger.QUEUE: ("aws_lambda_event_source_mapping",),
}


@dataclass(frozen=True)
class ResultsBucketContext:
    name: str
    expiration_days: int


@dataclass(frozen=True)
class WorkgroupContext:
    name: str
    output_location: str


@dataclass(frozen=True, kw_only=True)
class AthenaRefreshContext(ModuleContext):
    """The refresh module: its queue, schedule, the alerts bucket, the tables it creates (``alerts``
    first), the Athena workgroup."""

    queue: NotificationQueueContext
    schedule: ScheduleContext | None
    event_source: RefreshEventSourceContext | None
    schedule_rule: str
    alerts_bucket: str
    database: str
    tables: tuple[TableContext, ...]
    results_bucket: ResultsBucketContext
    workgroup: WorkgroupContext


def athena_refresh_context(
    processor: Processor, config: Config, target: DeployTarget = AWS_TARGET
) -> AthenaRefreshContext:
    """The context of ``athena_refresh.tf.j2``: the function, its queue, its trigger (schedule or event
    source mapping), catalog and buckets. The same on every target, but that the mapping is disabled on the
    local one (``RefreshEventSourceContext``)."""
    block = config.athena_refresh
    if block is None:
        raise missing_block(processor)
    prefix = config.account.prefix
    arns = Arns(config)
    function_name = processor.function_name(prefix)
    queue_name = athena_queue_name(prefix)
    alerts_bucket = alerts_bucket_name(prefix)
    log_group = lambda_log_group_name(function_name)
    workgroup = athena_workgroup_name(prefix)
    tables = table_contexts(block, config.logs, alerts_bucket)
    return AthenaRefreshContext(
        module=processor.module,
        tags=module_tags(processor, prefix),
        function=function_context(
            processor,
            prefix,
            block,
            policy=_refresh_policy(block, arns, queue_name, log_group, workgroup),
        ),
        log_group=log_group_context(log_group),
        queue=NotificationQueueContext(
            name=queue_name,
            dead_letter_name=athena_dead_letter_queue_name(prefix),
            retention_seconds=QUEUE_RETENTION_SECONDS,
            visibility_timeout=visibility_timeout(block.timeout, _batching_window(block)),
            max_receive_count=DEAD_LETTER_MAX_RECEIVE_COUNT,
            policy=_queue_policy(block, config, arns, queue_name),
        ),
        schedule=_schedule(block, processor, prefix),
        event_source=_event_source(block, target),
        schedule_rule=function_name,
        alarms=(
            dead_letter_alarm(athena_dead_letter_queue_name(prefix)),
            AlarmContext(
                resource="refresh_failures",
                name=f"{function_name}_failures",
                description=f"{function_name} could not register partitions or read notifications",
                namespace=ATHENA_METRICS_NAMESPACE,
                metric="Failures",
                dimensions={"FunctionName": function_name},
                statistic="Sum",
                period=ALARM_PERIOD_SECONDS,
                threshold=0,
            ),
        ),
        alerts_bucket=alerts_bucket,
        database=block.database_name,
        tables=tables,
        results_bucket=ResultsBucketContext(
            name=block.results_bucket, expiration_days=ATHENA_RESULTS_EXPIRATION_DAYS
        ),
        workgroup=WorkgroupContext(name=workgroup, output_location=f"s3://{block.results_bucket}/refresh/"),
        owned_buckets=tuple(sorted({alerts_bucket, block.results_bucket})),
        protected=(*ATHENA_PROTECTED_RESOURCES, *(table.resource for table in tables)),
        notifications=tuple(
            BucketSubscription(
                bucket=route.source.bucket,
                id=f"{processor.module}:{route.source}",
                filter_prefix=route.source.filter_prefix,
                destination=QUEUE_DESTINATION,
            )
            for route in sorted(block.routes, key=lambda route: route.source)
        ),
    )


def _schedule(block: AthenaRefreshConfig, processor: Processor, prefix: str) -> ScheduleContext | None:
    """The schedule trigger's rule (None with the queue trigger). Switched off, not removed, when the
    function is disabled."""
    if block.trigger is not Trigger.SCHEDULE:
        return None
    return ScheduleContext(
        name=processor.function_name(prefix),
        description=f"Runs the {processor.title} of {prefix} {block.refresh_interval}",
        expression=block.refresh_interval,
        state="ENABLED" if block.enabled else "DISABLED",
    )


def _event_source(block: AthenaRefreshConfig, target: DeployTarget) -> RefreshEventSourceContext | None:
    """The queue trigger's event source mapping (None with the schedule)."""
    if block.trigger is not Trigger.QUEUE:
        return None
    settings = block.event_source
    return RefreshEventSourceContext(
        batch_size=settings.batch_size,
        maximum_batching_window_seconds=settings.maximum_batching_window_seconds,
        maximum_concurrency=settings.maximum_concurrency,
        function_response_types=(REPORT_BATCH_ITEM_FAILURES,),
        enabled=block.enabled and not target.local,
    )


def _batching_window(block: AthenaRefreshConfig) -> int:
    """How long a message may wait in a batch before the function runs (the schedule has no batches)."""
    return block.event_source.maximum_batching_window_seconds if block.trigger is Trigger.QUEUE else 0


def _queue_policy(block: AthenaRefreshConfig, config: Config, arns: Arns, queue_name: str) -> dict[str, Any]:
    """Only the configured buckets, and only in this account, may send to the queue: S3 for the buckets
    that notify it, and the EventBridge rule of each source of a bucket read through EventBridge."""
    queue = arns.regional("sqs", queue_name)
    mode = config.global_config.notification_mode
    notifying = [bucket for bucket in block.buckets if mode(bucket) is NotificationMode.S3]
    rules = sorted(
        {
            arns.regional(
                "events",
                f"rule/{eventbridge_rule_name(config.account.prefix, source.bucket, source.filter_prefix)}",
            )
            for source in (route.source for route in block.routes)
            if mode(source.bucket) is NotificationMode.EVENTBRIDGE
        }
    )
    statements: list[dict[str, Any]] = []
    if notifying:
        statements.append(
            {
                "Sid": "ConfiguredDataBucketsSendNotifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": [arns.bucket(bucket) for bucket in notifying]},
                    "StringEquals": {"aws:SourceAccount": arns.account},
                },
            }
        )
    if rules:
        statements.append(
            {
                "Sid": "EventBridgeRulesSendObjectCreated",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {"ArnEquals": {"aws:SourceArn": rules}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _refresh_policy(
    block: AthenaRefreshConfig, arns: Arns, queue_name: str, log_group: str, workgroup: str
) -> dict[str, Any]:
    """The actions the refresh code calls, on what it touches. Athena DDL and MSCK run with the caller's
    rights, so the catalog actions of ADD PARTITION / MSCK and reads of the data are granted too. The
    catalog actions name each configured table: the database may hold other deployments' tables."""
    statements: list[dict[str, Any]] = [
        allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arns.regional("logs", f"log-group:{log_group}:*")],
        ),
        allow(
            "DrainNotificationQueue",
            ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            [arns.regional("sqs", queue_name)],
        ),
        *_event_source_statements(block, arns, queue_name),
        allow(
            "ReadTablesAndRegisterPartitions",
            [
                "glue:BatchCreatePartition",
                "glue:BatchGetPartition",
                "glue:CreatePartition",
                "glue:GetDatabase",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:GetTable",
            ],
            arns.glue_tables(block.database_name, block.tables),
        ),
    ]
    athena_routes = [
        route for route in block.routes if route.refresh_type is not RefreshType.ADD_GLUE_PARTITION
    ]
    if athena_routes:
        statements.extend(_athena_statements(athena_routes, block.results_bucket, arns, workgroup))
    return {"Version": "2012-10-17", "Statement": statements}


def _event_source_statements(block: AthenaRefreshConfig, arns: Arns, queue_name: str) -> list[dict[str, Any]]:
    """With the queue trigger, Lambda's poller reads the queue with the function's role: it receives, deletes
    what the function did not report failed, and reads the queue's attributes (the function's code makes none
    of these calls then). AWS's managed AWSLambdaSQSQueueExecutionRole grants the same three."""
    if block.trigger is not Trigger.QUEUE:
        return []
    return [
        allow(
            "EventSourceMappingPollsQueue",
            ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            [arns.regional("sqs", queue_name)],
        )
    ]


def _athena_statements(
    routes: Sequence[TableRoute], results_bucket: str, arns: Arns, workgroup: str
) -> list[dict[str, Any]]:
    """Running ADD PARTITION and MSCK statements: the workgroup, reads of the routes' data (listings kept to
    the routes' folders), the results."""
    sources = [route.source for route in routes]
    buckets = sorted({source.bucket for source in sources})
    return [
        allow(
            "RunRefreshStatements",
            [
                "athena:GetQueryExecution",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            [arns.regional("athena", f"workgroup/{workgroup}")],
        ),
        allow("LocateDataBuckets", ["s3:GetBucketLocation"], [arns.bucket(bucket) for bucket in buckets]),
        *list_bucket_statements("ListData", arns, sources),
        allow("ReadDataObjects", ["s3:GetObject"], object_arns(arns, sources)),
        allow(
            "ListQueryResults",
            ["s3:GetBucketLocation", "s3:ListBucket"],
            [arns.bucket(results_bucket)],
        ),
        allow(
            "WriteQueryResults",
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            [arns.bucket(f"{results_bucket}/*")],
        ),
    ]
