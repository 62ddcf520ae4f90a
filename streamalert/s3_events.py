"""S3 event notifications as they arrive on SQS: parsed, unwrapped from SNS, keys decoded, deduplicated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from streamalert.constants import S3_FOLDER_SUFFIX
from streamalert.exceptions import StreamAlertError

_TEST_EVENT = "s3:TestEvent"
_CREATED_PREFIX = "ObjectCreated:"


class NotificationError(StreamAlertError):
    """A message body that is not an S3 event notification at all (kept for the dead-letter queue)."""


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class Notification:
    """What one message announces.

    ``objects`` are the new objects to register, unique and in order. ``skipped`` are objects with
    nothing to register (folder markers, non-create events). ``problems`` are records that could not
    be read: the message must then stay on the queue even if its good objects are registered.
    """

    objects: tuple[S3Object, ...] = ()
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    is_test_event: bool = False


def parse_notification(body: str) -> Notification:
    """Read one SQS message body (an S3 notification, possibly wrapped by SNS).

    Raises NotificationError when the body is not JSON or holds no S3 records.
    """
    document = _load_json(body)
    if isinstance(document, dict) and document.get("Type") == "Notification" and "Message" in document:
        message = document["Message"]
        if not isinstance(message, str):
            raise NotificationError("SNS notification whose Message is not a string")
        document = _load_json(message)
    if not isinstance(document, dict):
        raise NotificationError(f"body is JSON {type(document).__name__}, not an object")
    if document.get("Event") == _TEST_EVENT:
        return Notification(is_test_event=True)
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise NotificationError("body holds no Records")
    return _read_records(records)


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise NotificationError(f"body is not JSON: {err}") from err


def _read_records(records: list[Any]) -> Notification:
    objects: dict[S3Object, None] = {}
    skipped: list[str] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        try:
            s3_object, event_name = _read_record(record)
        except NotificationError as err:
            problems.append(f"record {index}: {err}")
            continue
        if not event_name.startswith(_CREATED_PREFIX):
            skipped.append(f"{s3_object}: {event_name} is not an object creation")
        elif s3_object.key.endswith((S3_FOLDER_SUFFIX, "/")):
            skipped.append(f"{s3_object}: folder marker")
        else:
            objects[s3_object] = None
    if not objects and not skipped:
        raise NotificationError("body holds no S3 records: " + "; ".join(problems))
    return Notification(objects=tuple(objects), skipped=tuple(skipped), problems=tuple(problems))


def _read_record(record: Any) -> tuple[S3Object, str]:
    if not isinstance(record, dict):
        raise NotificationError("not an object")
    if record.get("eventSource") != "aws:s3":
        raise NotificationError(f"eventSource {record.get('eventSource')!r} is not aws:s3")
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
    except (KeyError, TypeError) as err:
        raise NotificationError(f"S3 record without bucket name or object key ({err!r})") from err
    event_name = record.get("eventName", "")
    if not isinstance(bucket, str) or not isinstance(key, str) or not isinstance(event_name, str):
        raise NotificationError("S3 record whose bucket, key or eventName is not a string")
    if not bucket or not key:
        raise NotificationError("S3 record with an empty bucket name or object key")
    return S3Object(bucket=bucket, key=unquote_plus(key)), event_name
