"""msgspec's fast path reads every body as the standard library path does, and keys decode as
``unquote_plus`` decodes them."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock
from urllib.parse import quote, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamalert import s3_events
from streamalert.s3_events import NotificationError, read_notification, split_key

pytest.importorskip("msgspec")

KEY_PARTS = [
    "a",
    "dt=2024-01-01-05",
    "/",
    "%3D",
    "%2F",
    "%2f",
    "%C3%A9",
    "%C3",
    "%",
    "%zz",
    "+",
    "_%24folder%24",
    " ",
    "é",
]


def stdlib_only() -> AbstractContextManager[object]:
    """read_notification as it reads bodies where msgspec is not installed."""
    return mock.patch.object(s3_events, "_s3_fast", None)


def outcome(body: object) -> tuple[str, object]:
    try:
        return "read", read_notification(body)  # type: ignore[arg-type]
    except NotificationError as err:
        return "refused", str(err)


# S3's object creations, and one it may announce some day: the fast path decodes only the known ones
CREATED_EVENTS = [
    "ObjectCreated:Put",
    "ObjectCreated:Post",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectCreated:Future",
]
raw_keys = st.lists(st.sampled_from(KEY_PARTS), min_size=1, max_size=8).map("".join)
# A readable S3 record, or one with a single thing wrong (or odd) about it
RECORD_CHANGES = [
    None,
    None,
    None,
    None,
    ("eventSource", "aws:sqs"),
    ("eventSource", None),
    ("eventSource", 5),
    ("eventName", "ObjectRemoved:Delete"),
    ("eventName", ""),
    ("eventName", None),
    ("eventName", 3),
    ("bucket", ""),
    ("bucket", 7),
    ("bucket", None),
    ("key", ""),
    ("key", None),
    ("key", 9),
    ("s3", []),
    ("s3", "text"),
    ("s3", {"bucket": "b", "object": {"key": "k"}}),
    ("record", "just a string"),
    ("record", 4),
]


@st.composite
def records(draw: st.DrawFn) -> object:
    bucket: dict[str, Any] = {"name": draw(st.sampled_from(["acme-data", "b"])), "arn": "arn"}
    s3_object: dict[str, Any] = {"key": draw(raw_keys), "size": 3}
    record: dict[str, Any] = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": draw(st.sampled_from(CREATED_EVENTS)),
        "s3": {"bucket": bucket, "object": s3_object},
    }
    change = draw(st.sampled_from(RECORD_CHANGES))
    if change is not None:
        field, value = change
        if field == "record":
            return value
        target = {"bucket": bucket, "key": s3_object}.get(field, record)
        target["name" if field == "bucket" else field] = value
    if draw(st.integers(0, 9)) == 0:  # a field missing altogether
        field = draw(st.sampled_from(["eventSource", "eventName", "s3", "name", "key"]))
        for holder in (record, bucket, s3_object):
            holder.pop(field, None)
    return record


# An S3 event as EventBridge delivers it, or one with a single thing wrong (or odd) about it
EVENTBRIDGE_CHANGES: list[tuple[tuple[str, ...], object] | None] = [
    None,
    None,
    None,
    (("detail-type",), "Object Deleted"),
    (("detail-type",), "Object Restore Completed"),
    (("detail-type",), None),
    (("source",), "aws.ec2"),
    (("detail",), "text"),
    (("detail",), []),
    (("detail", "bucket"), None),
    (("detail", "bucket", "name"), ""),
    (("detail", "object", "key"), 5),
    (("detail", "object", "key"), ""),
    (("Records",), []),
]


@st.composite
def eventbridge_events(draw: st.DrawFn) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": draw(st.sampled_from(["acme-data", "b"]))},
        "object": {"key": draw(raw_keys), "size": 3},
        "reason": "PutObject",
    }
    event: dict[str, Any] = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "resources": ["arn"],
        "detail": detail,
    }
    change = draw(st.sampled_from(EVENTBRIDGE_CHANGES))
    if change is not None:
        path, value = change
        holder: Any = event
        for field in path[:-1]:
            holder = holder[field]
        holder[path[-1]] = value
    return event


@st.composite
def bodies(draw: st.DrawFn) -> str:
    count = draw(st.sampled_from([1, 1, 1, 2, 3, 0]))
    document: object = {"Records": draw(st.lists(records(), min_size=count, max_size=count))}
    kind = draw(st.sampled_from(["plain", "plain", "sns", "test-event", "eventbridge", "odd"]))
    if kind == "eventbridge":
        document = draw(eventbridge_events())
        if draw(st.booleans()):
            document = {"Type": "Notification", "Message": json.dumps(document), "MessageId": "m"}
    elif kind == "sns":
        document = {"Type": "Notification", "Message": json.dumps(document), "MessageId": "m"}
    elif kind == "test-event":
        document = {"Event": draw(st.sampled_from(["s3:TestEvent", "other", 3])), **document}  # type: ignore[dict-item]
    elif kind == "odd":
        document = draw(
            st.sampled_from(
                [
                    {"Records": {}},
                    {"Records": None},
                    {},
                    [],
                    "x",
                    {"Type": 3, **document},
                    {"Type": "Notification", "Message": 7},
                ]
            )  # type: ignore[dict-item]
        )
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    mutation = draw(st.sampled_from(["none", "none", "none", "cut", "nan", "junk"]))
    if mutation == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif mutation == "nan":
        text = text.replace('"size": 3', '"size": NaN')
    elif mutation == "junk":
        text += draw(st.sampled_from([" ", "x", "{}", "\n"]))
    return text


@st.composite
def non_string_bodies(draw: st.DrawFn) -> object:
    """What an event-source record's ``body`` may hold that is no string: null, a number, or a body
    (readable or not) as bytes or already decoded."""
    text = draw(bodies())
    try:
        decoded: object = json.loads(text)
    except ValueError:
        decoded = None
    return draw(
        st.sampled_from(
            [None, 0, 7, 1.5, True, False, [], [text], {}, decoded, text.encode(), bytearray(text.encode())]
        )
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(bodies(), non_string_bodies()))
def test_fast_and_standard_paths_read_every_body_alike(body: object) -> None:
    fast = outcome(body)
    with stdlib_only():
        standard = outcome(body)

    assert fast == standard


def body_with(s3_fields: str) -> str:
    record = '{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {' + s3_fields + "}}"
    return '{"Records": [' + record + "]}"


@pytest.mark.parametrize(
    "body",
    [
        body_with('"bucket": {"name": "\\ud800"}, "object": {"key": "k"}'),
        body_with('"bucket": {"name": "b", "name": 5}, "object": {"key": "k"}'),
        body_with('"bucket": {"name": "b"}, "object": {"key": "k", "size": 1e999}'),
        body_with('"bucket": {"name": "b"}, "object": {"key": "a/dt%3D1/x"}')[:-1] + ', "Records": []}',
    ],
    ids=["lone-surrogate", "duplicate-field", "huge-number", "duplicate-records"],
)
def test_bodies_where_json_parsers_differ_read_as_the_standard_library_reads_them(body: str) -> None:
    fast = outcome(body)
    with stdlib_only():
        assert fast == outcome(body)


percent_encoded = st.lists(
    st.one_of(
        st.sampled_from(["/", "+", "a", "=", "%", "%2"]),
        st.binary(min_size=1, max_size=3).map(lambda b: quote(b, safe="")),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(percent_encoded)
def test_split_key_decodes_as_unquote_plus_and_splits_after_the_last_slash(raw: str) -> None:
    folder, name = split_key(raw)

    assert folder + name == unquote_plus(raw)
    assert "/" not in name
    assert folder == "" or folder.endswith("/")
