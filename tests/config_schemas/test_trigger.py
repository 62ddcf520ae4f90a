"""The refresh block's trigger: ``trigger`` and the queue's ``event_source``, checked as the loader checks
them, and the arithmetic behind the default batch size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config_schemas.models import DEFAULT_EVENT_SOURCE, AthenaRefreshConfig, EventSourceSettings, Trigger
from config_schemas.trigger import LAMBDA_PAYLOAD_BYTES, LARGEST_DELIVERED_BATCH, NOTIFICATION_RECORD_BYTES
from streamalert.config import ConfigValidationError, validate_documents
from streamalert_cli.local_handlers import sqs_event

VALID_DIR = Path(__file__).parents[1] / "fixtures" / "config" / "valid"
BLOCK = "athena_partition_refresh_config"
PATH = f"lambda.json: {BLOCK}"
ALERTS_ONLY = {"add_glue_partition": {"<prefix>.streamalerts": "alerts"}}


def documents(**block: Any) -> dict[str, Any]:
    """A valid config whose refresh block holds ``block`` (and a source)."""
    loaded = {name: json.loads((VALID_DIR / name).read_text()) for name in ("global.json", "lambda.json")}
    loaded["lambda.json"][BLOCK] = {"refresh_type": ALERTS_ONLY, **block}
    return loaded


def athena(**block: Any) -> AthenaRefreshConfig:
    loaded = validate_documents(documents(**block)).athena_refresh
    assert loaded is not None
    return loaded


def errors(**block: Any) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(documents(**block))
    return caught.value.lines


def test_the_schedule_is_the_default_trigger() -> None:
    assert athena().trigger is Trigger.SCHEDULE


def test_the_queue_trigger_takes_the_default_event_source() -> None:
    block = athena(trigger="queue")

    assert block.trigger is Trigger.QUEUE
    assert block.event_source == DEFAULT_EVENT_SOURCE == EventSourceSettings(1000, 10, 5)


def test_the_queue_trigger_takes_its_settings_and_defaults_the_rest() -> None:
    block = athena(trigger="queue", event_source={"batch_size": 10, "maximum_batching_window_seconds": 0})

    assert block.event_source == EventSourceSettings(
        batch_size=10, maximum_batching_window_seconds=0, maximum_concurrency=5
    )


@pytest.mark.parametrize(
    ("key", "value", "expectation"),
    [
        ("batch_size", 0, "must be an integer from 1 to 10000, got 0 (an integer)"),
        ("batch_size", 10001, "must be an integer from 1 to 10000, got 10001 (an integer)"),
        ("maximum_batching_window_seconds", 301, "must be an integer from 0 to 300, got 301 (an integer)"),
        ("maximum_batching_window_seconds", -1, "must be an integer from 0 to 300, got -1 (an integer)"),
        ("maximum_concurrency", 1, "must be an integer from 2 to 1000, got 1 (an integer)"),
        ("maximum_concurrency", 1001, "must be an integer from 2 to 1000, got 1001 (an integer)"),
        ("maximum_concurrency", "5", 'must be an integer from 2 to 1000, got "5" (a string)'),
    ],
)
def test_settings_out_of_awss_ranges_are_refused(key: str, value: Any, expectation: str) -> None:
    assert errors(trigger="queue", event_source={key: value}) == [f"{PATH}.event_source.{key}: {expectation}"]


def test_a_batch_over_ten_without_a_window_is_refused_with_the_way_out() -> None:
    assert errors(trigger="queue", event_source={"batch_size": 11, "maximum_batching_window_seconds": 0}) == [
        f"{PATH}.event_source.maximum_batching_window_seconds: must be at least 1 when batch_size is over 10 "
        "(got batch_size 11): AWS fills a larger batch only within a window; set a window, or a batch_size "
        "of 10 or less"
    ]


def test_an_unknown_trigger_or_event_source_key_is_refused() -> None:
    assert errors(trigger="sqs") == [
        f'{PATH}.trigger: must be one of "schedule", "queue", got "sqs" (a string)'
    ]
    [unknown] = errors(trigger="queue", event_source={"batchsize": 5})
    assert unknown.startswith(f"{PATH}.event_source.batchsize: unknown key")
    assert "batch_size, maximum_batching_window_seconds, maximum_concurrency" in unknown


def test_the_queues_settings_with_the_schedule_are_refused() -> None:
    expected = [
        f'{PATH}.event_source: is a setting of the queue trigger, and "trigger" is "schedule": set '
        '"trigger": "queue", or remove it'
    ]
    assert errors(event_source={"batch_size": 100}) == expected
    assert errors(trigger="schedule", event_source={}) == expected


def test_the_schedules_interval_with_the_queue_is_refused() -> None:
    assert errors(trigger="queue", refresh_interval="rate(5 minutes)") == [
        f'{PATH}.refresh_interval: is a setting of the schedule, and "trigger" is "queue" (the queue invokes '
        'the function, no schedule runs): remove it, or set "trigger": "schedule"'
    ]


def test_every_problem_is_reported_at_once() -> None:
    assert (
        len(errors(trigger="queue", refresh_interval="rate(5 minutes)", event_source={"batch_size": 0})) == 2
    )


def cloudtrail_record() -> dict[str, Any]:
    """The SQS event record of one S3 notification of a CloudTrail object, with AWS's field lengths."""
    key = (
        "AWSLogs/o-a1b2c3d4e5/123456789012/CloudTrail/ap-southeast-2/2026/11/29/"
        "123456789012_CloudTrail_ap-southeast-2_20261129T2355Z_AbCdEfGhIjKlMnOp.json.gz"
    )
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "ap-southeast-2",
                "eventTime": "2026-11-29T23:55:01.123Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLEEXAMPLEEX:regionalDeliverySession"},
                "requestParameters": {"sourceIPAddress": "203.0.113.200"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "athena_refresh:acme-organisation-cloudtrail-logs/AWSLogs",
                    "bucket": {
                        "name": "acme-organisation-cloudtrail-logs",
                        "ownerIdentity": {"principalId": "A3NL1KOZZKEXAMPLE"},
                        "arn": "arn:aws:s3:::acme-organisation-cloudtrail-logs",
                    },
                    "object": {
                        "key": key,
                        "size": 18234,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                        "sequencer": "0055AED6DCD90281E5",
                    },
                },
            }
        ]
    }
    message = {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "AQEB" + "x" * 396,  # AWS's are a few hundred characters
        "Body": json.dumps(notification, separators=(",", ":")),
        "MD5OfBody": "098f6bcd4621d373cade4e832627b4f6",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AROAEXAMPLEEXAMPLEEX:S3-PROD-END",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
            "AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
        },
    }
    queue_arn = "arn:aws:sqs:ap-southeast-2:123456789012:acme_streamalert_athena_data_bucket_notifications"
    [record] = sqs_event([message], queue_arn, "ap-southeast-2")["Records"]
    return record


def test_a_notifications_record_fits_the_size_the_default_batch_is_computed_from() -> None:
    size = len(json.dumps(cloudtrail_record(), separators=(",", ":")).encode())

    assert 2000 < size <= NOTIFICATION_RECORD_BYTES - 400  # room for keys 400 bytes longer
    assert LARGEST_DELIVERED_BATCH == 2457
    assert DEFAULT_EVENT_SOURCE.batch_size * NOTIFICATION_RECORD_BYTES <= LAMBDA_PAYLOAD_BYTES // 2
