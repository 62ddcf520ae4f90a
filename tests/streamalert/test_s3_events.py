"""S3 event notifications: what one SQS message body announces, and which bodies are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from unittest import mock

import pytest

from streamalert import s3_events
from streamalert.s3_events import NotificationError, S3Object, read_notification
from tests.helpers import (
    S3_TEST_EVENT,
    eventbridge_body,
    eventbridge_event,
    s3_body,
    s3_record,
    sns_wrapped,
)

BUCKET = "acme-data"


def body_of(*records: object) -> str:
    return json.dumps({"Records": list(records)})


def test_plain_body_announces_its_object() -> None:
    notification = read_notification(s3_body((BUCKET, "cloudtrail/2024/01/02/03/file.gz")))

    assert notification.objects == (S3Object(BUCKET, "cloudtrail/2024/01/02/03/file.gz"),)
    assert notification.skipped == ()
    assert notification.problems == ()
    assert not notification.is_test_event


def test_sns_wrapped_body_is_unwrapped() -> None:
    notification = read_notification(sns_wrapped(s3_body((BUCKET, "alerts/dt=2024-01-01-05/a.json"))))

    assert notification.objects == (S3Object(BUCKET, "alerts/dt=2024-01-01-05/a.json"),)


def test_object_prints_as_s3_url() -> None:
    assert str(S3Object(BUCKET, "a/b.json")) == "s3://acme-data/a/b.json"


@pytest.mark.parametrize("body", [S3_TEST_EVENT, sns_wrapped(S3_TEST_EVENT)], ids=["plain", "sns"])
def test_s3_test_event_is_recognised(body: str) -> None:
    notification = read_notification(body)

    assert notification.is_test_event
    assert notification.objects == ()
    assert notification.problems == ()


@pytest.mark.parametrize(
    "key",
    [
        "cloudtrail/2024/01/02/03_$folder$",
        "alerts/dt=2024-01-01-05/",
        "alerts/",
    ],
)
def test_folder_markers_are_skipped_not_registered(key: str) -> None:
    notification = read_notification(s3_body((BUCKET, key)))

    assert notification.objects == ()
    assert len(notification.skipped) == 1
    assert "folder marker" in notification.skipped[0]
    assert notification.problems == ()


@pytest.mark.parametrize(
    "event_name", ["ObjectRemoved:Delete", "ObjectRestore:Completed", "LifecycleExpiration:Delete", ""]
)
def test_events_other_than_object_creation_are_skipped(event_name: str) -> None:
    body = body_of(s3_record(BUCKET, "a/dt=1/x.json", event_name))

    notification = read_notification(body)

    assert notification.objects == ()
    assert len(notification.skipped) == 1
    assert "not an object creation" in notification.skipped[0]


@pytest.mark.parametrize(
    "event_name",
    [
        "ObjectCreated:Put",
        "ObjectCreated:Post",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
    ],
)
def test_every_kind_of_object_creation_is_registered(event_name: str) -> None:
    notification = read_notification(body_of(s3_record(BUCKET, "a/dt=1/x.json", event_name)))

    assert notification.objects == (S3Object(BUCKET, "a/dt=1/x.json"),)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("not json at all", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('"a string"', "JSON str, not an object"),
        ("{}", "no Records"),
        ('{"Records": []}', "no Records"),
        ('{"Records": {"s3": {}}}', "no Records"),
        (sns_wrapped("not json"), "not JSON"),
        (sns_wrapped("[]"), "not an object"),
        (json.dumps({"Type": "Notification", "Message": {"Records": []}}), "Message is not a string"),
    ],
    ids=[
        "text",
        "empty",
        "array",
        "string",
        "no-records",
        "empty-records",
        "records-not-a-list",
        "sns-text",
        "sns-array",
        "sns-message-object",
    ],
)
def test_bodies_that_are_no_s3_notification_are_refused(body: str, match: str) -> None:
    with pytest.raises(NotificationError, match=match):
        read_notification(body)


def test_non_s3_record_beside_a_good_one_keeps_the_good_object_and_records_a_problem() -> None:
    foreign = {"eventSource": "aws:sqs", "body": "{}"}
    body = body_of(foreign, s3_record(BUCKET, "a/dt=1/x.json"))

    notification = read_notification(body)

    assert notification.objects == (S3Object(BUCKET, "a/dt=1/x.json"),)
    assert len(notification.problems) == 1
    assert notification.problems[0].startswith("record 0:")
    assert "aws:sqs" in notification.problems[0]


def _without(path: tuple[str, ...]) -> dict[str, object]:
    record = s3_record(BUCKET, "a/dt=1/bad.json")
    parent = record
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return record


@pytest.mark.parametrize(
    ("bad_record", "match"),
    [
        (_without(("s3", "bucket", "name")), "without bucket name or object key"),
        (_without(("s3", "object", "key")), "without bucket name or object key"),
        (_without(("s3",)), "without bucket name or object key"),
        (s3_record("", "a/dt=1/x.json"), "empty bucket name or object key"),
        (s3_record(BUCKET, "", encode=False), "empty bucket name or object key"),
        ({**s3_record(BUCKET, "k"), "s3": {"bucket": {"name": 7}, "object": {"key": "k"}}}, "not a string"),
        ("just a string", "not an object"),
    ],
    ids=["no-bucket", "no-key", "no-s3", "empty-bucket", "empty-key", "bucket-not-string", "not-a-dict"],
)
def test_unreadable_record_is_a_problem_beside_good_objects(bad_record: object, match: str) -> None:
    body = body_of(s3_record(BUCKET, "a/dt=1/good.json"), bad_record)

    notification = read_notification(body)

    assert notification.objects == (S3Object(BUCKET, "a/dt=1/good.json"),)
    assert len(notification.problems) == 1
    assert notification.problems[0].startswith("record 1:")
    assert match in notification.problems[0]


def test_body_whose_every_record_is_unreadable_is_refused_with_the_reasons() -> None:
    body = body_of(_without(("s3", "object", "key")), {"eventSource": "aws:sns"})

    with pytest.raises(NotificationError, match=r"record 0: .*; record 1: .*aws:sns"):
        read_notification(body)


def test_body_with_only_skipped_records_is_not_an_error() -> None:
    body = body_of(
        s3_record(BUCKET, "a/dt=1/", "ObjectCreated:Put"),
        s3_record(BUCKET, "a/dt=1/x.json", "ObjectRemoved:Delete"),
    )

    notification = read_notification(body)

    assert notification.objects == ()
    assert len(notification.skipped) == 2


@pytest.mark.parametrize(
    ("encoded_key", "decoded_key"),
    [
        ("waf/region%3Dus-east-1/dt%3D2024-01-01-05/x.json", "waf/region=us-east-1/dt=2024-01-01-05/x.json"),
        ("a/dt=2024/my+file.json", "a/dt=2024/my file.json"),
        ("a%2Fdt%3D2024%2Fx.json", "a/dt=2024/x.json"),
        ("donn%C3%A9es/dt=2024/x.json", "données/dt=2024/x.json"),
        ("a/dt=2024/c%2B%2B.json", "a/dt=2024/c++.json"),
    ],
)
def test_keys_are_url_decoded_as_s3_encodes_them(encoded_key: str, decoded_key: str) -> None:
    record = s3_record(BUCKET, encoded_key, encode=False)

    notification = read_notification(body_of(record))

    assert notification.objects == (S3Object(BUCKET, decoded_key),)


def test_encoded_folder_marker_is_skipped_after_decoding() -> None:
    notification = read_notification(body_of(s3_record(BUCKET, "a/_%24folder%24", encode=False)))

    assert notification.objects == ()
    assert notification.skipped == (f"s3://{BUCKET}/a/_$folder$: folder marker",)


def test_key_helper_round_trip_decodes_spaces_and_unicode() -> None:
    notification = read_notification(s3_body((BUCKET, "a/dt=2024/résumé de mai.json")))

    assert notification.objects == (S3Object(BUCKET, "a/dt=2024/résumé de mai.json"),)


def test_several_records_in_one_notification_are_kept_in_order_without_duplicates() -> None:
    body = s3_body(
        (BUCKET, "a/dt=1/x.json"),
        (BUCKET, "a/dt=2/y.json"),
        (BUCKET, "a/dt=1/x.json"),
        ("other-bucket", "a/dt=1/x.json"),
        (BUCKET, "a/dt=2/y.json"),
    )

    notification = read_notification(body)

    assert notification.objects == (
        S3Object(BUCKET, "a/dt=1/x.json"),
        S3Object(BUCKET, "a/dt=2/y.json"),
        S3Object("other-bucket", "a/dt=1/x.json"),
    )


def test_same_key_encoded_differently_is_one_object() -> None:
    body = body_of(
        s3_record(BUCKET, "a/dt%3D1/x.json", encode=False),
        s3_record(BUCKET, "a/dt=1/x.json", encode=False),
    )

    assert read_notification(body).objects == (S3Object(BUCKET, "a/dt=1/x.json"),)


@pytest.fixture(params=["msgspec", "stdlib"])
def reader_path(request: pytest.FixtureRequest) -> Iterator[None]:
    """Both ways a body is read: msgspec's fast path (where installed) and the standard library's."""
    if request.param == "msgspec":
        pytest.importorskip("msgspec")
        yield
    else:
        with mock.patch.object(s3_events, "_s3_fast", None):
            yield


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize(
    "body",
    [
        body_of(s3_record(BUCKET, "a/dt%3D1/x+y.json", encode=False)),
        body_of(s3_record(BUCKET, "a/dt=1/x y.json"), s3_record(BUCKET, "a/dt=1/x y.json")),
        sns_wrapped(s3_body((BUCKET, "a/dt=1/x y.json"))),
    ],
    ids=["one record", "one object twice", "sns"],
)
def test_one_new_object_is_read_alone_on_either_path(body: str) -> None:
    notification = read_notification(body)

    assert notification.objects == (S3Object(BUCKET, "a/dt=1/x y.json"),)
    assert notification.objects[0].folder == "a/dt=1/"
    assert (notification.skipped, notification.problems) == ((), ())


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            s3_body((BUCKET, "a/x.json"), (BUCKET, "b/y.json")),
            (S3Object(BUCKET, "a/x.json"), S3Object(BUCKET, "b/y.json")),
        ),
        (s3_body((BUCKET, "a/")), ()),
        (body_of(s3_record(BUCKET, "a/x.json", "ObjectRemoved:Delete")), ()),
        (body_of(s3_record(BUCKET, "a/x.json"), {"eventSource": "aws:sqs"}), (S3Object(BUCKET, "a/x.json"),)),
        (S3_TEST_EVENT, ()),
    ],
    ids=["two objects", "folder marker", "removal", "a problem beside", "test event"],
)
def test_every_other_body_is_read_whole_on_either_path(body: str, expected: tuple[object, ...]) -> None:
    assert read_notification(body).objects == expected


@pytest.mark.parametrize(
    "body",
    [
        s3_body((BUCKET, "a/dt=1/x y.json")),
        body_of(s3_record(BUCKET, "a/dt=1/x.json", "ObjectCreated:CompleteMultipartUpload")),
        sns_wrapped(s3_body((BUCKET, "a/dt=1/x.json"))),
        s3_body((BUCKET, "a/dt=1/x.json"), (BUCKET, "a/dt=2/y.json")),
        s3_body((BUCKET, "a/dt=1/"), (BUCKET, "a/dt=2/y.json")),
    ],
    ids=["one record", "multipart upload", "sns", "two records", "folder marker beside"],
)
def test_msgspec_reads_the_bodies_s3_writes_without_the_standard_path(
    body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("msgspec")
    expected = read_notification(body)

    def refuse(_body: str) -> None:
        raise AssertionError("read the standard way")

    monkeypatch.setattr(s3_events, "_read_standard", refuse)

    assert read_notification(body) == expected


@pytest.mark.parametrize("fast_path", [True, False], ids=["msgspec", "standard-library"])
@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (None, "NoneType"),
        (5, "int"),
        (1.5, "float"),
        (True, "bool"),
        (s3_body((BUCKET, "a/dt=1/x.json")).encode(), "bytes"),
        (bytearray(s3_body((BUCKET, "a/dt=1/x.json")).encode()), "bytearray"),
        ([s3_body((BUCKET, "a/dt=1/x.json"))], "list"),
        ({"Records": [s3_record(BUCKET, "a/dt=1/x.json")]}, "dict"),
    ],
    ids=["null", "int", "float", "bool", "bytes", "bytearray", "list", "dict"],
)
def test_body_that_is_not_a_string_is_refused_by_either_reader(
    body: object, kind: str, fast_path: bool
) -> None:
    if fast_path:
        pytest.importorskip("msgspec")
    reader = s3_events._s3_fast if fast_path else None
    with (
        mock.patch.object(s3_events, "_s3_fast", reader),
        pytest.raises(NotificationError, match=f"body is {kind}, not a string"),
    ):
        read_notification(body)  # type: ignore[arg-type]


# EventBridge: S3's events as an EventBridge rule delivers them to the queue


@pytest.mark.usefixtures("reader_path")
def test_eventbridge_object_created_announces_its_object() -> None:
    notification = read_notification(eventbridge_body(BUCKET, "logs/dt=2024-01-01-05/x.json"))

    assert notification.objects == (S3Object(BUCKET, "logs/dt=2024-01-01-05/x.json"),)
    assert notification.objects[0].folder == "logs/dt=2024-01-01-05/"
    assert (notification.skipped, notification.problems, notification.is_test_event) == ((), (), False)


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize("key", ["a/dt=1/x+y.json", "a/dt%3D1/x.json", "a/dt=1/50%.json", "a/b c/é.json"])
def test_eventbridge_keys_are_taken_as_they_are_not_url_decoded(key: str) -> None:
    # EventBridge sends the key itself (moto's _send_event_bridge_message: key.name); decoding it as a
    # notification's key would turn '+' into ' ' and '%3D' into '=' and register a folder that is not there
    assert read_notification(eventbridge_body(BUCKET, key)).objects == (S3Object(BUCKET, key),)


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize(
    "detail_type", ["Object Deleted", "Object Restore Completed", "Object Tags Added", "Object ACL Updated"]
)
def test_eventbridge_events_other_than_object_created_are_skipped(detail_type: str) -> None:
    notification = read_notification(eventbridge_body(BUCKET, "a/x.json", detail_type))

    assert notification.objects == ()
    assert notification.skipped == (f"s3://{BUCKET}/a/x.json: {detail_type} is not an object creation",)
    assert notification.problems == ()


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize("key", ["a/dt=1/", "a/dt=1_$folder$"])
def test_eventbridge_folder_markers_are_skipped(key: str) -> None:
    notification = read_notification(eventbridge_body(BUCKET, key))

    assert notification.objects == ()
    assert notification.skipped == (f"s3://{BUCKET}/{key}: folder marker",)


@pytest.mark.usefixtures("reader_path")
def test_eventbridge_event_wrapped_by_sns_is_unwrapped() -> None:
    body = sns_wrapped(eventbridge_body(BUCKET, "a/x.json"))

    assert read_notification(body).objects == (S3Object(BUCKET, "a/x.json"),)


def _eventbridge_with(path: tuple[str, ...], value: object) -> str:
    event = eventbridge_event(BUCKET, "a/x.json")
    holder = event
    for field in path[:-1]:
        holder = holder[field]
    if value is _DELETE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return json.dumps(event)


_DELETE = object()


@pytest.mark.usefixtures("reader_path")
@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("detail",), _DELETE, "EventBridge S3 event without bucket name or object key"),
        (("detail",), "text", "without bucket name or object key"),
        (("detail", "object"), _DELETE, "without bucket name or object key"),
        (("detail", "bucket", "name"), 5, "bucket, key or detail-type is not a string"),
        (("detail", "object", "key"), None, "bucket, key or detail-type is not a string"),
        (("detail-type",), _DELETE, "bucket, key or detail-type is not a string"),
        (("detail", "object", "key"), "", "empty bucket name or object key"),
    ],
    ids=["no detail", "detail text", "no object", "bucket int", "key null", "no detail-type", "empty key"],
)
def test_unreadable_eventbridge_events_are_refused(path: tuple[str, ...], value: object, match: str) -> None:
    with pytest.raises(NotificationError, match=match):
        read_notification(_eventbridge_with(path, value))


@pytest.mark.usefixtures("reader_path")
def test_event_of_another_source_is_not_read_as_s3() -> None:
    event = eventbridge_event(BUCKET, "a/x.json")
    event["source"] = "aws.ec2"

    with pytest.raises(NotificationError, match="holds no Records"):
        read_notification(json.dumps(event))
