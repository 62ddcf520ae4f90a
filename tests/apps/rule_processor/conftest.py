"""A moto account with log buckets and the alerts queue, and rule processors wired to it."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from apps.rule_processor.classifier import Classifier
from apps.rule_processor.processor import RuleProcessor
from apps.rule_processor.rule_engine import RuleEngine
from apps.rule_processor.sender import AlertSender
from config_schemas.models import LogType, ValueType
from streamalert import logger
from streamalert.constants import alerts_queue_name
from streamalert.rules import RuleRegistry, load_rules
from streamalert.s3_objects import S3ObjectReader
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import REGION, REPO, s3_record

PREFIX = "acme"
BUCKET = "acme-cloudtrail-logs"
QUEUE = alerts_queue_name(PREFIX)
NOW = datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=timezone.utc)
SAMPLES = REPO / "tests" / "fixtures" / "logs" / "cloudtrail"

CLOUDTRAIL = LogType(
    "cloudtrail:events",
    (("eventName", ValueType.STRING), ("eventSource", ValueType.STRING), ("userIdentity", ValueType.OBJECT)),
)
APP_LOG = LogType("app:events", (("event", ValueType.STRING), ("level", ValueType.STRING)))


def sample(name: str) -> list[dict[str, Any]]:
    """The records of a sample CloudTrail file of tests/fixtures/logs/cloudtrail."""
    records: list[dict[str, Any]] = json.loads((SAMPLES / f"{name}.json").read_text())["Records"]
    return records


def cloudtrail_file(records: list[dict[str, Any]]) -> bytes:
    """Records as CloudTrail delivers them: one gzip JSON document on one line."""
    return gzip.compress(json.dumps({"Records": records}).encode())


def s3_event(*keys: str, bucket: str = BUCKET) -> dict[str, Any]:
    """The event S3 sends a Lambda function for new objects."""
    return {"Records": [s3_record(bucket, key) for key in keys]}


def kinesis_event(*payloads: bytes | str, stream: str = "acme_stream") -> dict[str, Any]:
    """The event of a Kinesis event source mapping; a str payload is sent as is (not base64)."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "1",
                    "sequenceNumber": f"4959{index:04d}",
                    "data": payload if isinstance(payload, str) else base64.b64encode(payload).decode(),
                    "approximateArrivalTimestamp": 1714566896.789,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:4959{index:04d}",
                "eventName": "aws:kinesis:record",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:kinesis:{REGION}:123456789012:stream/{stream}",
            }
            for index, payload in enumerate(payloads)
        ]
    }


def log_entries(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


@dataclass
class Account:
    s3: Any
    sqs: Any
    queue_url: str
    calls: CallCounter = field(default_factory=CallCounter)

    def put(self, key: str, body: bytes, bucket: str = BUCKET) -> str:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        return key

    def queued_alerts(self) -> list[dict[str, Any]]:
        """Every message on the alerts queue, parsed, taken off the queue."""
        alerts: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return alerts
            alerts.extend(json.loads(message["Body"]) for message in messages)
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


@pytest.fixture
def json_logs() -> None:
    """The project's logs as JSON lines on stderr, debug level included (read them with log_entries)."""
    logger.configure("debug")


@pytest.fixture
def account(moto: None, json_logs: None) -> Account:
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    result = Account(s3=s3, sqs=sqs, queue_url=queue_url)
    result.calls.attach(s3, sqs)
    return result


@pytest.fixture
def make_processor(account: Account) -> Callable[..., RuleProcessor]:
    """A processor on the account's clients: the shipped rules and two log types unless overridden."""

    def build(
        registry: RuleRegistry | None = None,
        log_types: tuple[LogType, ...] = (CLOUDTRAIL, APP_LOG),
        **overrides: Any,
    ) -> RuleProcessor:
        parts: dict[str, Any] = {
            "reader": S3ObjectReader(account.s3),
            "classifier": Classifier(log_types),
            "engine": RuleEngine(registry or load_rules(), clock=lambda: NOW),
            "sender": AlertSender(account.sqs, QUEUE),
        }
        parts.update(overrides)
        return RuleProcessor(**parts)

    return build
