"""The context of ``rule_processor.tf.j2``: the function, its dead-letter queue, its S3 and Kinesis triggers.

S3 sources are wired by the shared per-bucket notification (the module gives the invoke permission and the
notification entries); Kinesis streams by one event source mapping each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config_schemas.models import Config, RuleProcessorConfig
from streamalert.constants import (
    QUEUE_RETENTION_SECONDS,
    alerts_queue_name,
    lambda_log_group_name,
    rule_processor_dead_letter_queue_name,
)
from streamalert_cli.terraform.context import (
    AWS_TARGET,
    FUNCTION_DESTINATION,
    REPORT_BATCH_ITEM_FAILURES,
    Arns,
    BucketSubscription,
    DeployTarget,
    ModuleContext,
    allow,
    dead_letter_alarm,
    function_context,
    log_group_context,
    missing_block,
    module_tags,
    object_arns,
)

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor

# S3 invokes the function asynchronously: Lambda retries a failed event twice, then sends it to the DLQ
ASYNC_MAX_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60
# Kinesis: bounded retries (the batch is split on errors first), then the failed range goes to the DLQ
KINESIS_BATCH_SIZE = 100
KINESIS_MAX_RETRY_ATTEMPTS = 3
KINESIS_MAX_RECORD_AGE_SECONDS = 24 * 60 * 60
KINESIS_STARTING_POSITION = "LATEST"
KINESIS_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class DeadLetterQueueContext:
    name: str
    retention_seconds: int


@dataclass(frozen=True)
class AsyncInvokeContext:
    """Lambda's retries of an asynchronous (S3) invocation before the event goes to the DLQ."""

    max_retry_attempts: int
    max_event_age_seconds: int


@dataclass(frozen=True)
class S3PermissionContext:
    """An input bucket of this account may invoke the function's alias."""

    statement_id: str
    source_arn: str
    source_account: str


@dataclass(frozen=True)
class KinesisMappingContext:
    """The event source mapping of one Kinesis stream (``resource``: its Terraform name)."""

    resource: str
    name: str
    arn: str
    batch_size: int
    starting_position: str
    max_retry_attempts: int
    max_record_age_seconds: int
    function_response_types: tuple[str, ...]
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class RuleProcessorContext(ModuleContext):
    """The rule processor's module: its DLQ, its S3 permissions and Kinesis mappings; ``local``: each
    stream gets a stand-in."""

    local: bool
    dead_letter_queue: DeadLetterQueueContext
    async_invoke: AsyncInvokeContext
    s3_permissions: tuple[S3PermissionContext, ...]
    kinesis: tuple[KinesisMappingContext, ...]


def rule_processor_context(
    processor: Processor, config: Config, target: DeployTarget = AWS_TARGET
) -> RuleProcessorContext:
    """The function, alias, role, log group and DLQ; S3 permissions and notifications; Kinesis mappings.
    On the local target each Kinesis stream gets a stand-in (an AWS account already has its streams)."""
    block = config.rule_processor
    if block is None:
        raise missing_block(processor)
    prefix = config.account.prefix
    arns = Arns(config)
    log_group = lambda_log_group_name(processor.function_name(prefix))
    dead_letter_name = rule_processor_dead_letter_queue_name(prefix)
    return RuleProcessorContext(
        module=processor.module,
        local=target.local,
        tags=module_tags(processor, prefix),
        function=function_context(
            processor,
            prefix,
            block,
            policy=_rule_policy(
                block,
                arns,
                log_group,
                dead_letter_name,
                alerts_queue_name(prefix),
                keys=input_key_arns(block, target),
            ),
        ),
        log_group=log_group_context(log_group),
        dead_letter_queue=DeadLetterQueueContext(
            name=dead_letter_name, retention_seconds=QUEUE_RETENTION_SECONDS
        ),
        alarms=(dead_letter_alarm(dead_letter_name),),
        async_invoke=AsyncInvokeContext(
            max_retry_attempts=ASYNC_MAX_RETRY_ATTEMPTS,
            max_event_age_seconds=ASYNC_MAX_EVENT_AGE_SECONDS,
        ),
        s3_permissions=tuple(
            S3PermissionContext(
                statement_id=f"S3Notifications_{_NOT_IDENTIFIER.sub('_', bucket)}",
                source_arn=arns.bucket(bucket),
                source_account=arns.account,
            )
            for bucket in block.buckets
        ),
        kinesis=tuple(
            KinesisMappingContext(
                resource="stream_" + _NOT_IDENTIFIER.sub("_", stream),
                name=stream,
                arn=arns.regional("kinesis", f"stream/{stream}"),
                batch_size=KINESIS_BATCH_SIZE,
                starting_position=KINESIS_STARTING_POSITION,
                max_retry_attempts=KINESIS_MAX_RETRY_ATTEMPTS,
                max_record_age_seconds=KINESIS_MAX_RECORD_AGE_SECONDS,
                function_response_types=(REPORT_BATCH_ITEM_FAILURES,),
                enabled=block.enabled,
            )
            for stream in sorted(block.inputs.kinesis)
        ),
        notifications=tuple(
            BucketSubscription(
                bucket=source.bucket,
                id=f"{processor.module}:{source}",
                filter_prefix=source.filter_prefix,
                destination=FUNCTION_DESTINATION,
            )
            for source in sorted(block.inputs.s3)
        ),
    )


def _rule_policy(
    block: RuleProcessorConfig,
    arns: Arns,
    log_group: str,
    dead_letter_name: str,
    alerts_queue: str,
    *,
    keys: tuple[str, ...],
) -> dict[str, Any]:
    """What the rule processor calls: GetObject on its sources (and Decrypt on their ``keys``, which S3
    calls with the reader's rights), GetQueueUrl and SendMessage(Batch) on the alerts queue; what Lambda
    does with its role: send failed events to the DLQ, read the streams."""
    statements: list[dict[str, Any]] = [
        allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [arns.log_group(log_group)]),
        allow("SendAlerts", ["sqs:GetQueueUrl", "sqs:SendMessage"], [arns.regional("sqs", alerts_queue)]),
        allow("SendFailedEvents", ["sqs:SendMessage"], [arns.regional("sqs", dead_letter_name)]),
    ]
    if block.inputs.s3:
        statements.append(allow("ReadInputObjects", ["s3:GetObject"], object_arns(arns, block.inputs.s3)))
    if keys:
        statements.append(allow("DecryptInputObjects", ["kms:Decrypt"], list(keys)))
    if block.inputs.kinesis:
        streams = sorted(arns.regional("kinesis", f"stream/{name}") for name in block.inputs.kinesis)
        statements.append(allow("ReadInputStreams", list(KINESIS_READ_ACTIONS), streams))
    return {"Version": "2012-10-17", "Statement": statements}


def input_key_arns(block: RuleProcessorConfig, target: DeployTarget) -> tuple[str, ...]:
    """The KMS keys the rule processor decrypts its objects with (S3 asks KMS with the reader's rights):
    those of lambda.json's ``inputs.kms_keys`` and those the target's buckets name, of its input buckets
    only, sorted. None on the local target, whose stand-in buckets are not encrypted with KMS."""
    if target.local:
        return ()
    buckets = set(block.buckets)
    keys = (*block.inputs.kms_keys, *target.input_keys)
    return tuple(sorted({key.key_arn for key in keys if key.bucket in buckets}))
