"""Reading the invoking event: S3 (direct or through SNS), Kinesis, and anything else."""

from __future__ import annotations

import json

import pytest

from apps.rule_processor.inputs import kinesis_records, s3_notification
from streamalert.s3_events import NotificationError, S3Object
from tests.apps.rule_processor.conftest import BUCKET, kinesis_event, s3_event
from tests.helpers import s3_record


def test_s3_event_objects_with_decoded_keys() -> None:
    notification = s3_notification(s3_event("AWSLogs/a b.json.gz", "x/_$folder$"))

    assert notification is not None
    assert notification.objects == (S3Object(BUCKET, "AWSLogs/a b.json.gz"),)
    assert notification.skipped == (f"s3://{BUCKET}/x/_$folder$: folder marker",)


def test_s3_notifications_through_sns() -> None:
    messages = [json.dumps(s3_event("a.json")), "not json", json.dumps(s3_event("b.json"))]
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": message}} for message in messages]}

    notification = s3_notification(event)

    assert notification is not None
    assert notification.objects == (S3Object(BUCKET, "a.json"), S3Object(BUCKET, "b.json"))
    assert len(notification.problems) == 1
    assert notification.problems[0].startswith("SNS record 1: body is not JSON")


def test_sns_without_any_s3_notification_is_an_error() -> None:
    with pytest.raises(NotificationError):
        s3_notification({"Records": [{"EventSource": "aws:sns", "Sns": {}}]})


def test_kinesis_records_are_decoded() -> None:
    [good, bad] = kinesis_records(kinesis_event(b'{"a": 1}', "%%% not base64")) or []

    assert (good.stream, good.sequence_number, good.data, good.problem) == (
        "acme_stream",
        "49590000",
        b'{"a": 1}',
        "",
    )
    assert good.origin == "kinesis:acme_stream#49590000"
    assert bad.problem.startswith("kinesis.data is not base64")


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": []},
        {"source": "aws.events"},
        {"Records": [s3_record(BUCKET, "a"), {"eventSource": "aws:kinesis"}]},
        [],
    ],
)
def test_other_events_are_neither(event: object) -> None:
    assert s3_notification(event) is None
    assert kinesis_records(event) is None
