"""S3 event notifications as they arrive on SQS: parsed, unwrapped from SNS, keys decoded, deduplicated.

A refresh reads thousands of bodies a run, so the usual body (every record a readable S3 record)
takes a fast path when msgspec is installed: it decodes only the fields that matter and skips the rest
unread. A body the fast path does not read outright is read again with the standard library, which
alone decides what is an error and what is a problem: both paths give the same result for every body.
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
except ImportError:  # no msgspec: the standard library reads every body
    _s3_fast = None  # type: ignore[assignment]

_TEST_EVENT = "s3:TestEvent"
_CREATED_PREFIX = "ObjectCreated:"
_MAX_DECODED_FOLDERS = 10_000
_new_tuple = tuple.__new__  # builds an Announced without the keyword handling of its __new__


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
    """A ``Notification`` in plain tuples, for loops over thousands of messages. ``objects`` holds
    ``(bucket, folder, name)``: the key is ``folder + name``, split after its last '/'."""

    objects: tuple[tuple[str, str, str], ...]
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    is_test_event: bool = False


def parse_notification(body: str) -> Notification:
    """Read one SQS message body (an S3 notification, possibly wrapped by SNS).

    Raises NotificationError when the body is not JSON or holds no S3 records.
    """
    announced = read_announced(body)
    return Notification(
        objects=tuple(S3Object(bucket, folder + name) for bucket, folder, name in announced.objects),
        skipped=announced.skipped,
        problems=announced.problems,
        is_test_event=announced.is_test_event,
    )


def read_announced(body: str) -> Announced:
    """``parse_notification`` without building objects: what the body announces, as tuples.

    Raises NotificationError when the body is not JSON or holds no S3 records.
    """
    announced = _read_fast(body) if _s3_fast is not None else None
    if announced is not None:
        return announced
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


def split_key(raw: str) -> tuple[str, str]:
    """The object key of a notification, URL-decoded as ``unquote_plus`` does, as (folder, name):
    split after the decoded key's last '/', so that ``folder`` is '' or ends with '/'.

    Thousands of objects share a folder, so a folder is decoded once and the same string returned
    for it: percent escapes never span a '/', so decoding folder and name apart gives the same key.
    """
    raw_folder, slash, name = raw.rpartition("/")
    folder = _DECODED_FOLDERS.get(raw_folder) if slash else ""
    if folder is None:
        folder = _decode_folder(raw_folder)
    if "%" in name or "+" in name:
        return _decode_name(folder, name)
    return folder, name


def _decode_folder(raw_folder: str) -> str:
    """The decoded folder of a raw folder (given without its last '/'), remembered."""
    if len(_DECODED_FOLDERS) >= _MAX_DECODED_FOLDERS:
        _DECODED_FOLDERS.clear()
    folder = _DECODED_FOLDERS[raw_folder] = unquote_plus(raw_folder + "/")
    return folder


def _decode_name(folder: str, raw_name: str) -> tuple[str, str]:
    name = unquote_plus(raw_name)
    if "/" in name:  # an escaped '/' in the last segment: the folder ends further on
        key = folder + name
        cut = key.rfind("/") + 1
        return key[:cut], key[cut:]
    return folder, name


def decode_key(raw: str) -> str:
    """The object key of a notification, URL-decoded as ``unquote_plus`` does."""
    folder, name = split_key(raw)
    return folder + name


_DECODED_FOLDERS: dict[str, str] = {}


def _read_fast(body: str) -> Announced | None:
    """What the body announces, if msgspec reads it outright; None for the standard path to decide."""
    try:
        document = _s3_fast.decode_body(body)
        if document.Event is not _s3_fast.UNSET:
            return None
        message = document.Message
        if message is not _s3_fast.UNSET and document.Type == "Notification":
            document = _s3_fast.decode_body(message)
            if document.Event is not _s3_fast.UNSET:
                return None
    except _s3_fast.DECODE_ERRORS:
        return None
    records = document.Records
    if records is _s3_fast.UNSET or not records:
        return None
    if len(records) == 1:  # the usual body, the shortest way
        record = records[0]
        s3 = record.s3
        bucket = s3.bucket.name
        raw_key = s3.object.key
        if record.eventSource != "aws:s3" or not bucket or not raw_key:
            return None
        if record.eventName.startswith(_CREATED_PREFIX):
            raw_folder, slash, name = raw_key.rpartition("/")  # split_key, the usual way inline
            folder = _DECODED_FOLDERS.get(raw_folder) if slash else ""
            if folder is None or "%" in name or "+" in name:
                folder, name = split_key(raw_key)
            if name and not name.endswith(S3_FOLDER_SUFFIX):
                return _new_tuple(Announced, (((bucket, folder, name),), (), (), False))
    return _read_fast_records(records)


def _read_fast_records(records: list[_s3_fast.Record]) -> Announced | None:
    plain: list[tuple[str, str, str]] = []
    for record in records:
        s3 = record.s3
        bucket = s3.bucket.name
        raw_key = s3.object.key
        if record.eventSource != "aws:s3" or not bucket or not raw_key:
            return None
        plain.append((bucket, raw_key, record.eventName))
    objects: dict[tuple[str, str, str], None] = {}
    skipped: list[str] = []
    for bucket, raw_key, event_name in plain:
        _sort_object(bucket, *split_key(raw_key), event_name, objects=objects, skipped=skipped)
    return Announced(objects=tuple(objects), skipped=tuple(skipped))


def _sort_object(
    bucket: str,
    folder: str,
    name: str,
    event_name: str,
    *,
    objects: dict[tuple[str, str, str], None],
    skipped: list[str],
) -> None:
    if not event_name.startswith(_CREATED_PREFIX):
        skipped.append(f"s3://{bucket}/{folder}{name}: {event_name} is not an object creation")
    elif not name or name.endswith(S3_FOLDER_SUFFIX):  # the key ends with '/' or '_$folder$'
        skipped.append(f"s3://{bucket}/{folder}{name}: folder marker")
    else:
        objects[(bucket, folder, name)] = None


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as err:
        raise NotificationError(f"body is not JSON: {err}") from err
    except RecursionError as err:
        raise NotificationError("body is JSON nested deeper than can be read") from err


def _read_records(records: list[Any]) -> Announced:
    objects: dict[tuple[str, str, str], None] = {}
    skipped: list[str] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        try:
            bucket, raw_key, event_name = _read_record(record)
        except NotificationError as err:
            problems.append(f"record {index}: {err}")
            continue
        _sort_object(bucket, *split_key(raw_key), event_name, objects=objects, skipped=skipped)
    if not objects and not skipped:
        raise NotificationError("body holds no S3 records: " + "; ".join(problems))
    return Announced(objects=tuple(objects), skipped=tuple(skipped), problems=tuple(problems))


def _read_record(record: Any) -> tuple[str, str, str]:
    """(bucket, raw key, event name) of a readable S3 record; NotificationError says what is wrong."""
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
    return bucket, key, event_name
