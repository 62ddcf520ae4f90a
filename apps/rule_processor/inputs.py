"""What invoked the rule processor: S3 notifications of new log objects, or a batch of Kinesis records."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from streamalert.s3_events import Notification, NotificationError, read_notification

_S3_SOURCE = "aws:s3"
_KINESIS_SOURCE = "aws:kinesis"
_SNS_SOURCE = "aws:sns"


@dataclass(frozen=True)
class KinesisRecord:
    """One record of a Kinesis batch: its decoded data, or why it has none."""

    stream: str
    sequence_number: str
    data: bytes = b""
    problem: str = ""

    @property
    def origin(self) -> str:
        return f"kinesis:{self.stream}#{self.sequence_number}"


def _records(event: Any, source: str) -> list[dict[str, Any]] | None:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return None
    # Lambda spells it eventSource for S3 and Kinesis, EventSource for SNS
    if not all(
        isinstance(record, dict) and source in (record.get("eventSource"), record.get("EventSource"))
        for record in records
    ):
        return None
    return records


def s3_notification(event: Any) -> Notification | None:
    """The objects an S3 event announces, directly or through an SNS topic (a bucket whose notifications
    fan out to several consumers), or None for any other event.

    Raises NotificationError for an event without a single readable S3 record.
    """
    if _records(event, _S3_SOURCE) is not None:
        # The same reading as the refresh function's: keys decoded, folder markers and deletions skipped
        return read_notification(json.dumps(event))
    messages = _records(event, _SNS_SOURCE)
    if messages is None:
        return None
    notifications: list[Notification] = []
    problems: list[str] = []
    for index, record in enumerate(messages):
        try:
            notifications.append(read_notification(_sns_message(record)))
        except NotificationError as err:
            problems.append(f"SNS record {index}: {err}")
    if not notifications:
        raise NotificationError("; ".join(problems))
    return Notification(
        objects=tuple(dict.fromkeys(obj for n in notifications for obj in n.objects)),
        skipped=tuple(skipped for n in notifications for skipped in n.skipped),
        problems=(*problems, *(problem for n in notifications for problem in n.problems)),
        is_test_event=all(n.is_test_event for n in notifications),
    )


def _sns_message(record: dict[str, Any]) -> str:
    sns = record.get("Sns")
    message = sns.get("Message") if isinstance(sns, dict) else None
    if not isinstance(message, str):
        raise NotificationError("SNS record without a Message string")
    return message


def kinesis_records(event: Any) -> list[KinesisRecord] | None:
    """The records of a Kinesis event with their data decoded, or None for any other event."""
    records = _records(event, _KINESIS_SOURCE)
    if records is None:
        return None
    return [_kinesis_record(record) for record in records]


def _kinesis_record(record: dict[str, Any]) -> KinesisRecord:
    arn = record.get("eventSourceARN")
    stream = arn.partition("/")[2] if isinstance(arn, str) and "/" in arn else "unknown"
    kinesis = record.get("kinesis")
    if not isinstance(kinesis, dict):
        return KinesisRecord(stream, str(record.get("eventID", "")), problem="no kinesis object")
    sequence_number = str(kinesis.get("sequenceNumber", ""))
    data = kinesis.get("data")
    if not isinstance(data, str):
        return KinesisRecord(stream, sequence_number, problem="kinesis.data is not a string")
    try:
        return KinesisRecord(stream, sequence_number, base64.b64decode(data, validate=True))
    except binascii.Error as err:
        return KinesisRecord(stream, sequence_number, problem=f"kinesis.data is not base64: {err}")
