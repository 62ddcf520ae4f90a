"""S3 event notifications as they arrive on SQS: parsed, unwrapped from SNS, keys decoded, deduplicated.

A refresh reads thousands of bodies a run, so the common one (well-formed, every record an S3 record)
takes a fast path when msgspec is installed: it decodes only the four fields that matter and skips the
rest of the JSON unread. Anything the fast path does not accept outright is read again by the standard
library path, which alone decides what is an error: both give the same result for every body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from streamalert.constants import S3_FOLDER_SUFFIX
from streamalert.exceptions import StreamAlertError

try:
    from streamalert import _s3_fast
except ImportError:  # msgspec is not installed: the standard library path does everything
    _s3_fast = None  # type: ignore[assignment]

_TEST_EVENT = "s3:TestEvent"
_CREATED_PREFIX = "ObjectCreated:"
_FOLDER_MARKERS = (S3_FOLDER_SUFFIX, "/")
_MAX_DECODED_FOLDERS = 10_000


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


class Announced(NamedTuple):
    """A ``Notification`` in plain tuples, for loops over thousands of messages: ``objects`` holds
    ``(bucket, key)`` pairs, unique and in order; the other fields mean what they mean there."""

    objects: tuple[tuple[str, str], ...]
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    is_test_event: bool = False


def parse_notification(body: str) -> Notification:
    """Read one SQS message body (an S3 notification, possibly wrapped by SNS).

    Raises NotificationError when the body is not JSON or holds no S3 records.
    """
    announced = read_announced(body)
    return Notification(
        objects=tuple(S3Object(bucket, key) for bucket, key in announced.objects),
        skipped=announced.skipped,
        problems=announced.problems,
        is_test_event=announced.is_test_event,
    )


def read_announced(body: str) -> Announced:
    """``parse_notification`` without building objects: what the body announces, as tuples.

    Raises NotificationError when the body is not JSON or holds no S3 records.
    """
    records = _s3_fast.plain_records(body) if _s3_fast is not None else None
    if records is not None:
        return _classify(records)
    document = _load_json(body)
    if isinstance(document, dict) and document.get("Type") == "Notification" and "Message" in document:
        message = document["Message"]
        if not isinstance(message, str):
            raise NotificationError("SNS notification whose Message is not a string")
        document = _load_json(message)
    if not isinstance(document, dict):
        raise NotificationError(f"body is JSON {type(document).__name__}, not an object")
    if document.get("Event") == _TEST_EVENT:
        return Announced(objects=(), is_test_event=True)
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise NotificationError("body holds no Records")
    return _read_records(records)


def decode_key(raw: str) -> str:
    """The object key of a notification, URL-decoded as ``unquote_plus`` does.

    Thousands of objects share a folder, so the folder part is decoded once and remembered: percent
    escapes never span a '/', so decoding folder and name apart gives the same key.
    """
    if "%" not in raw:
        return raw.replace("+", " ")
    cut = raw.rfind("/") + 1
    folder = raw[:cut]
    decoded = _DECODED_FOLDERS.get(folder)
    if decoded is None:
        if len(_DECODED_FOLDERS) >= _MAX_DECODED_FOLDERS:
            _DECODED_FOLDERS.clear()
        decoded = _DECODED_FOLDERS[folder] = unquote_plus(folder)
    name = raw[cut:]
    return decoded + (unquote_plus(name) if "%" in name else name.replace("+", " "))


_DECODED_FOLDERS: dict[str, str] = {}


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise NotificationError(f"body is not JSON: {err}") from err


def _classify(records: list[tuple[str, str, str]]) -> Announced:
    """Announced objects of records already known to be readable: (bucket, raw key, event name)."""
    if len(records) == 1:  # the usual body: no set to keep objects unique
        bucket, raw_key, event_name = records[0]
        key = decode_key(raw_key)
        if event_name.startswith(_CREATED_PREFIX) and not key.endswith(_FOLDER_MARKERS):
            return Announced(objects=((bucket, key),))
    objects: dict[tuple[str, str], None] = {}
    skipped: list[str] = []
    for bucket, raw_key, event_name in records:
        _sort_object(bucket, decode_key(raw_key), event_name, objects, skipped)
    return Announced(objects=tuple(objects), skipped=tuple(skipped))


def _sort_object(
    bucket: str, key: str, event_name: str, objects: dict[tuple[str, str], None], skipped: list[str]
) -> None:
    if not event_name.startswith(_CREATED_PREFIX):
        skipped.append(f"s3://{bucket}/{key}: {event_name} is not an object creation")
    elif key.endswith(_FOLDER_MARKERS):
        skipped.append(f"s3://{bucket}/{key}: folder marker")
    else:
        objects[(bucket, key)] = None


def _read_records(records: list[Any]) -> Announced:
    objects: dict[tuple[str, str], None] = {}
    skipped: list[str] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        try:
            bucket, key, event_name = _read_record(record)
        except NotificationError as err:
            problems.append(f"record {index}: {err}")
            continue
        _sort_object(bucket, key, event_name, objects, skipped)
    if not objects and not skipped:
        raise NotificationError("body holds no S3 records: " + "; ".join(problems))
    return Announced(objects=tuple(objects), skipped=tuple(skipped), problems=tuple(problems))


def _read_record(record: Any) -> tuple[str, str, str]:
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
    return bucket, decode_key(key), event_name
