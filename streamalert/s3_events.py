"""S3 event notifications as they arrive on SQS: parsed, unwrapped from SNS, keys decoded, deduplicated.

Three shapes announce an object: S3's own notification (``Records``, keys URL-encoded), the same
wrapped by SNS, and the event S3 sends through EventBridge (``"source": "aws.s3"`` with a
``detail-type`` and a ``detail``), whose ``detail.object.key`` is the key itself, not URL-encoded. S3's
"Event message structure" page says a notification's key is URL-encoded ("red flower.jpg" becomes
"red+flower.jpg"); its "EventBridge event message structure" page says no such thing, and events
captured from EventBridge show keys as they are (a key's ':' unescaped, where a notification has
'%3A'); moto's ``_send_event_bridge_message`` sends ``key.name`` where its notifications send
``quote_plus(key.name)``. So an EventBridge key is never decoded: a '+' or '%' in it is part of the name.

A refresh reads thousands of bodies a run, so the usual body (every record a readable S3 record of one
of the object creations S3 announces) takes a fast path when msgspec is installed: it decodes only the
fields that matter and skips the rest unread. A body the fast path does not read outright is read
again with the standard library, which alone decides what is an error and what is a problem: both
paths give the same result for every body. A body that is not a string at all (an event-source record
with ``"body": null``) is refused by both.
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
_EVENTBRIDGE_SOURCE = "aws.s3"
_EVENTBRIDGE_CREATED = "Object Created"
_MAX_DECODED_FOLDERS = 10_000


class NotificationError(StreamAlertError):
    """A message body that is not an S3 event notification at all (kept for the dead-letter queue)."""


@dataclass(frozen=True, slots=True)
class S3Object:
    bucket: str
    key: str

    @property
    def folder(self) -> str:
        """The key up to its last '/' included ('' for a key at the bucket's root)."""
        return self.key[: self.key.rfind("/") + 1]

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


_NewObject = tuple[str, str, str]
"""One new object as ``(bucket, folder, name)`` while a body is read: the key is ``folder + name``."""


class _Announced(NamedTuple):
    """What a body announces, in plain tuples while it is read."""

    objects: tuple[_NewObject, ...]
    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    is_test_event: bool = False


def read_notification(body: str) -> Notification:
    """Read one SQS message body: an S3 event notification, possibly wrapped by SNS, or an S3 event
    delivered by EventBridge. The one reader of a body, for every function.

    Raises NotificationError when the body is not a string, not JSON, or holds no S3 records nor an
    S3 EventBridge event.
    """
    read = _read(body)
    if isinstance(read, _Announced):
        return Notification(
            objects=tuple(S3Object(bucket, folder + name) for bucket, folder, name in read.objects),
            skipped=read.skipped,
            problems=read.problems,
            is_test_event=read.is_test_event,
        )
    bucket, folder, name = read
    return Notification(objects=(S3Object(bucket, folder + name),))


def _read(body: str) -> _NewObject | _Announced:
    """What the body announces; the usual body (one new object, nothing skipped, no problem) as its
    object alone, read the shortest way."""
    if _s3_fast is None or not isinstance(body, str):  # msgspec would read bytes, and fail on None
        return _read_standard(body)
    try:
        document = _s3_fast.decode_body(body)
    except _s3_fast.DECODE_ERRORS:
        return _read_standard(body)
    records = document.Records
    if document.Type is _s3_fast.UNSET and document.Event is _s3_fast.UNSET and len(records) == 1:
        # the usual body, the shortest way: one record, as S3 writes it, of a new object
        record = records[0]
        s3 = record.s3
        bucket = s3.bucket.name
        raw_key = s3.object.key
        if bucket and raw_key and record.eventName:  # eventName is "" or an object creation
            raw_folder, slash, name = raw_key.rpartition("/")  # split_key, the usual way inline
            folder = _DECODED_FOLDERS.get(raw_folder) if slash else ""
            if folder is None or "%" in name or "+" in name:
                folder, name = split_key(raw_key)
            if name and not name.endswith(S3_FOLDER_SUFFIX):
                return bucket, folder, name
    read = _read_fast(document)  # SNS envelope, several records, or something to skip
    return _read_standard(body) if read is None else read


def _read_standard(body: str) -> _NewObject | _Announced:
    """What the body announces, read with the standard library: the path that decides every case."""
    if not isinstance(body, str):  # json.loads would read bytes: a body is text, as SQS delivers it
        raise NotificationError(f"body is {type(body).__name__}, not a string")
    document = _load_json(body)
    if isinstance(document, dict) and document.get("Type") == "Notification" and "Message" in document:
        message = document["Message"]
        if not isinstance(message, str):
            raise NotificationError("SNS notification whose Message is not a string")
        document = _load_json(message)
    if not isinstance(document, dict):
        raise NotificationError(f"body is JSON {type(document).__name__}, not an object")
    if document.get("Event") == _TEST_EVENT:
        return _Announced(objects=(), is_test_event=True)
    if "Records" not in document and document.get("source") == _EVENTBRIDGE_SOURCE:
        return _read_eventbridge(document)
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise NotificationError("body holds no Records")
    return _read_records(records)


def _read_eventbridge(event: dict[str, Any]) -> _NewObject | _Announced:
    """What an S3 event delivered by EventBridge announces: its one object when it is an
    ``Object Created``, skipped for any other detail-type (Object Deleted, Object Restore ...). The
    key is taken as it is (see the module's docstring): EventBridge does not URL-encode it."""
    detail_type = event.get("detail-type")
    detail: Any = event.get("detail")
    try:
        bucket = detail["bucket"]["name"]
        key = detail["object"]["key"]
    except (KeyError, TypeError) as err:
        raise NotificationError(f"EventBridge S3 event without bucket name or object key ({err!r})") from err
    if not isinstance(bucket, str) or not isinstance(key, str) or not isinstance(detail_type, str):
        raise NotificationError("EventBridge S3 event whose bucket, key or detail-type is not a string")
    if not bucket or not key:
        raise NotificationError("EventBridge S3 event with an empty bucket name or object key")
    cut = key.rfind("/") + 1
    objects: dict[_NewObject, None] = {}
    skipped: list[str] = []
    created = detail_type == _EVENTBRIDGE_CREATED
    _classify_object(bucket, key[:cut], key[cut:], detail_type, created, objects=objects, skipped=skipped)
    return _result(objects, skipped, [])


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


_DECODED_FOLDERS: dict[str, str] = {}


def _read_fast(document: _s3_fast.Body) -> _NewObject | _Announced | None:
    """What a body msgspec decoded announces, if it reads outright; None for the standard path to decide."""
    if document.Event is not _s3_fast.UNSET:
        return None
    if document.Message is not _s3_fast.UNSET and document.Type == "Notification":
        try:
            document = _s3_fast.decode_body(document.Message)
        except _s3_fast.DECODE_ERRORS:
            return None
        if document.Event is not _s3_fast.UNSET:
            return None
    records = document.Records
    if not records:
        return None
    return _read_fast_records(records)


def _read_fast_records(records: list[_s3_fast.Record]) -> _NewObject | _Announced | None:
    plain: list[tuple[str, str, str]] = []
    for record in records:
        s3 = record.s3
        bucket = s3.bucket.name
        raw_key = s3.object.key
        if not bucket or not raw_key:
            return None
        plain.append((bucket, raw_key, record.eventName))
    objects: dict[_NewObject, None] = {}
    skipped: list[str] = []
    for bucket, raw_key, event_name in plain:
        created = event_name.startswith(_CREATED_PREFIX)
        _classify_object(bucket, *split_key(raw_key), event_name, created, objects=objects, skipped=skipped)
    return _result(objects, skipped, [])


def _classify_object(
    bucket: str,
    folder: str,
    name: str,
    event_name: str,
    created: bool,
    *,
    objects: dict[_NewObject, None],
    skipped: list[str],
) -> None:
    """Put the object with the new ones, or say why it is skipped (``event_name`` is S3's eventName
    or EventBridge's detail-type; ``created`` whether it names an object creation)."""
    if not created:
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


def _read_records(records: list[Any]) -> _NewObject | _Announced:
    objects: dict[_NewObject, None] = {}
    skipped: list[str] = []
    problems: list[str] = []
    for index, record in enumerate(records):
        try:
            bucket, raw_key, event_name = _read_record(record)
        except NotificationError as err:
            problems.append(f"record {index}: {err}")
            continue
        created = event_name.startswith(_CREATED_PREFIX)
        _classify_object(bucket, *split_key(raw_key), event_name, created, objects=objects, skipped=skipped)
    if not objects and not skipped:
        raise NotificationError("body holds no S3 records: " + "; ".join(problems))
    return _result(objects, skipped, problems)


def _result(
    objects: dict[_NewObject, None], skipped: list[str], problems: list[str]
) -> _NewObject | _Announced:
    """What ``_read`` gives: the object alone when it is all the body announces."""
    if len(objects) == 1 and not skipped and not problems:
        return next(iter(objects))
    return _Announced(objects=tuple(objects), skipped=tuple(skipped), problems=tuple(problems))


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
