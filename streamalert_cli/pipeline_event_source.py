"""The queue trigger's part of the ``--local`` proof. The emulator holds the event source mapping that the
deploy created, switched off (enabled, it would run the function in a container for each message sent); the
proof plays the mapping's part: it receives a batch from the queue as the mapping would, gives it to the
refresh handler as the SQS event Lambda builds, then deletes what the handler did not report failed (Lambda
deletes a batch's successes itself; the failures come back after the visibility timeout)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from config_schemas.models import EventSourceSettings
from streamalert import aws
from streamalert.constants import SQS_MAX_BATCH
from streamalert_cli.common import Progress, StepFailed
from streamalert_cli.local_handlers import DeployedHandlers, one_line, sqs_event
from streamalert_cli.processors import by_name

__all__ = ["delete_delivered", "describe_mapping", "prove_event_source", "receive_batch"]

# The proof's batching window: what the mapping would wait for a batch to fill, kept short
_BATCH_WAIT_SECONDS = 5
MAPPING_STEP = "event source mapping"
HANDLER_STEP = "refresh handler"


def prove_event_source(
    settings: EventSourceSettings,
    progress: Progress,
    handlers: DeployedHandlers,
    aws_settings: aws.AwsSettings,
    *,
    queue: str,
    expected: int,
    log_path: Path,
) -> dict[str, Any]:
    """Show the queue's mapping, then run the refresh handler on the batch it would deliver: the ``expected``
    messages the queue holds (up to the batch size). Returns the handler's answer."""
    sqs = aws.sqs_client(aws_settings)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with progress.step(MAPPING_STEP) as step:
        listed = aws.client("lambda", aws_settings).list_event_source_mappings(EventSourceArn=queue_arn)
        mappings = listed.get("EventSourceMappings", [])
        if not mappings:
            raise StepFailed(
                MAPPING_STEP,
                f"no event source mapping reads {queue}: the deploy made none",
            )
        step.detail = describe_mapping(mappings[0], queue)
    with progress.step(HANDLER_STEP) as step:
        batch = receive_batch(sqs, url, limit=settings.batch_size, expected=expected)
        event = sqs_event(batch, queue_arn, aws_settings.region)
        result: dict[str, Any] = handlers.invoke(
            by_name("athena"), event, step=HANDLER_STEP, log_path=log_path
        ).result
        failed = {item.get("itemIdentifier") for item in result.get("batchItemFailures", [])}
        deleted = delete_delivered(sqs, url, batch, failed)
        if failed:
            raise StepFailed(
                HANDLER_STEP,
                f"{len(failed)} of {len(batch)} messages reported failed: {one_line(result)}; see {log_path}",
            )
        step.detail = (
            f"{one_line(result)} for a batch of {len(batch)} message(s), as the mapping delivers them (the "
            f"{expected} above): {deleted} deleted as Lambda does, none reported failed; its logs in "
            f"{log_path}"
        )
    return result


def describe_mapping(mapping: Mapping[str, Any], queue_name: str) -> str:
    """One line of what the mapping is set to."""
    concurrency = mapping.get("ScalingConfig", {}).get("MaximumConcurrency", "unlimited")
    state = mapping.get("State", "?")
    note = " (on the emulator: the proof delivers its batch)" if state == "Disabled" else ""
    return (
        f"{queue_name} -> {mapping.get('FunctionArn', '?')}, {state}{note}; batches of up to "
        f"{mapping.get('BatchSize')} within {mapping.get('MaximumBatchingWindowInSeconds', 0)} s, at most "
        f"{concurrency} at once, answers {', '.join(mapping.get('FunctionResponseTypes', [])) or 'none'}"
    )


def receive_batch(sqs: Any, url: str, *, limit: int, expected: int) -> list[dict[str, Any]]:
    """The messages one batch of the mapping would hold: received (with their SQS attributes, as Lambda
    gives them) until ``expected`` arrived, ``limit`` is reached or a short window passed."""
    batch: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + _BATCH_WAIT_SECONDS
    wanted = min(limit, expected)
    while len(batch) < wanted and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(SQS_MAX_BATCH, wanted - len(batch)),
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        )
        for message in response.get("Messages", []):
            batch.setdefault(message["MessageId"], message)
    if not batch:
        raise StepFailed(HANDLER_STEP, "the queue gave no message for the mapping's batch")
    return list(batch.values())


def delete_delivered(sqs: Any, url: str, batch: Sequence[Mapping[str, Any]], failed: set[Any]) -> int:
    """Delete the batch's messages that the handler did not report failed, as Lambda does: how many."""
    delivered = [message for message in batch if message["MessageId"] not in failed]
    for message in delivered:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(delivered)
