"""A moto account with the alerts bucket, and alerts as the alerts queue hands them to the function."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from streamalert import logger
from streamalert.alerts import Alert
from streamalert.constants import alerts_bucket_name
from streamalert.sqs import QueueMessage
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import REGION

PREFIX = "acme"
ALERTS_BUCKET = alerts_bucket_name(PREFIX)
CREATED = datetime(2024, 5, 1, 12, 34, 56, 789000, tzinfo=timezone.utc)


def make_alert(number: int = 0, *, outputs: tuple[str, ...] = ("s3:alerts", "log"), **changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "rule_name": "root_account_use",
        "log_type": "cloudtrail:events",
        "record": {"eventName": "ConsoleLogin", "eventID": f"event-{number}"},
        "outputs": outputs,
        "origin": f"s3://acme-cloudtrail-logs/a.json.gz#1.{number}",
        "created": CREATED,
    }
    fields.update(changes)
    return Alert.create(**fields)


def messages(*bodies: str) -> list[QueueMessage]:
    return [QueueMessage(f"m{index}", f"r{index}", body) for index, body in enumerate(bodies)]


def sqs_event(*bodies: str) -> dict[str, Any]:
    """The event of the alerts queue's event source mapping."""
    return {
        "Records": [
            {
                "messageId": message.message_id,
                "receiptHandle": message.receipt_handle,
                "body": message.body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:acme_streamalert_alerts",
                "awsRegion": REGION,
            }
            for message in messages(*bodies)
        ]
    }


def log_entries(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


@dataclass
class Account:
    s3: Any
    calls: CallCounter = field(default_factory=CallCounter)

    def stored_alerts(self) -> dict[str, dict[str, Any]]:
        """key -> alert document, for every object of the alerts bucket."""
        listed = self.s3.list_objects_v2(Bucket=ALERTS_BUCKET).get("Contents", [])
        return {
            item["Key"]: json.loads(self.s3.get_object(Bucket=ALERTS_BUCKET, Key=item["Key"])["Body"].read())
            for item in listed
        }


@pytest.fixture
def account(moto: None) -> Account:
    logger.configure("info")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ALERTS_BUCKET)
    result = Account(s3=s3)
    result.calls.attach(s3)
    return result
