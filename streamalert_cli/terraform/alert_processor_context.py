"""The context of ``alert_processor.tf.j2``: the alerts queue (and its dead letters) the rule processor fills,
and the function that drains it into the alerts bucket (owned by the Athena module: never destroyed here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config_schemas.models import Config
from streamalert.constants import (
    ALERTS_KEY_PREFIX,
    DEAD_LETTER_MAX_RECEIVE_COUNT,
    QUEUE_RETENTION_SECONDS,
    SQS_MAX_BATCH,
    alerts_bucket_name,
    alerts_dead_letter_queue_name,
    alerts_queue_name,
    lambda_log_group_name,
)
from streamalert_cli.terraform.context import (
    AWS_TARGET,
    REPORT_BATCH_ITEM_FAILURES,
    Arns,
    DeployTarget,
    ModuleContext,
    QueueContext,
    allow,
    dead_letter_alarm,
    function_context,
    log_group_context,
    missing_block,
    module_tags,
    visibility_timeout,
)

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor


@dataclass(frozen=True)
class SqsEventSourceContext:
    """The mapping that invokes the function with batches of the alerts queue."""

    batch_size: int
    function_response_types: tuple[str, ...]
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class AlertProcessorContext(ModuleContext):
    """The alert processor's module: the alerts queue, and its event source mapping (None: local)."""

    queue: QueueContext
    event_source: SqsEventSourceContext | None


def alert_processor_context(
    processor: Processor, config: Config, target: DeployTarget = AWS_TARGET
) -> AlertProcessorContext:
    """The function, alias, role, log group, alerts queue and DLQ, and the queue's event source mapping.
    The local target gets no mapping: the emulator would try to run the function in a container."""
    block = config.alert_processor
    if block is None:
        raise missing_block(processor)
    prefix = config.account.prefix
    arns = Arns(config)
    log_group = lambda_log_group_name(processor.function_name(prefix))
    queue_name = alerts_queue_name(prefix)
    return AlertProcessorContext(
        module=processor.module,
        tags=module_tags(processor, prefix),
        function=function_context(
            processor,
            prefix,
            block,
            policy=_alert_policy(arns, log_group, queue_name, alerts_bucket_name(prefix)),
        ),
        log_group=log_group_context(log_group),
        queue=QueueContext(
            name=queue_name,
            dead_letter_name=alerts_dead_letter_queue_name(prefix),
            retention_seconds=QUEUE_RETENTION_SECONDS,
            visibility_timeout=visibility_timeout(block.timeout),
            max_receive_count=DEAD_LETTER_MAX_RECEIVE_COUNT,
        ),
        alarms=(dead_letter_alarm(alerts_dead_letter_queue_name(prefix)),),
        event_source=None
        if target.local
        else SqsEventSourceContext(
            batch_size=SQS_MAX_BATCH,
            function_response_types=(REPORT_BATCH_ITEM_FAILURES,),
            enabled=block.enabled,
        ),
    )


def _alert_policy(arns: Arns, log_group: str, queue_name: str, alerts_bucket: str) -> dict[str, Any]:
    """The event source mapping drains the queue with the function's role; the function writes alerts."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [arns.log_group(log_group)]),
            allow(
                "DrainAlertsQueue",
                [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                [arns.regional("sqs", queue_name)],
            ),
            allow("WriteAlerts", ["s3:PutObject"], [arns.bucket(f"{alerts_bucket}/{ALERTS_KEY_PREFIX}/*")]),
        ],
    }
