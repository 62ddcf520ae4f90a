"""Test building blocks: S3 notification bodies, fake Lambda contexts, fault injection (AWS calls are counted
by streamalert_cli.testing.calls, the benchmarks' counter too)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

REPO = Path(__file__).resolve().parents[1]
VALID_CONFIG_DIR = REPO / "tests" / "fixtures" / "config" / "valid"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2))


def s3_record(
    bucket: str, key: str, event_name: str = "ObjectCreated:Put", *, encode: bool = True
) -> dict[str, Any]:
    """One record as S3 writes it: the key URL-encoded (spaces as '+')."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key, safe="/") if encode else key, "size": 10},
        },
    }


def s3_body(*objects: tuple[str, str]) -> str:
    """A message body announcing the (bucket, key) objects."""
    return json.dumps({"Records": [s3_record(bucket, key) for bucket, key in objects]})


def sns_wrapped(body: str) -> str:
    """The body as SQS receives it from an S3 -> SNS -> SQS fan-out (raw delivery off)."""
    return json.dumps(
        {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:::t", "Message": body}
    )


def eventbridge_event(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
    """An S3 event as EventBridge delivers it to an SQS target: the key as it is, not URL-encoded."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 10, "etag": "b1946ac92492d2347c6235b4d2611184"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT_ID,
            "reason": "PutObject",
        },
    }


def eventbridge_body(bucket: str, key: str, detail_type: str = "Object Created") -> str:
    return json.dumps(eventbridge_event(bucket, key, detail_type))


S3_TEST_EVENT = json.dumps(
    {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-01-01T00:00:00Z", "Bucket": "b"}
)


class FakeContext:
    """A Lambda context whose remaining time goes down by ``tick_ms`` on every read."""

    def __init__(self, remaining_ms: float = 60_000, tick_ms: float = 0) -> None:
        self.remaining_ms = remaining_ms
        self.tick_ms = tick_ms
        self.function_name = "test"
        self.aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms = max(0.0, self.remaining_ms - self.tick_ms)
        return int(self.remaining_ms)


class FaultyClient:
    """A real client with some operations replaced: ``FaultyClient(sqs, delete_message_batch=fn)``.

    Each replacement receives the real client's method first, so it can call through or not.
    """

    def __init__(self, client: Any, **overrides: Callable[..., Any]) -> None:
        self._client = client
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            real = getattr(self._client, name)
            override = self._overrides[name]
            return lambda **kwargs: override(real, **kwargs)
        return getattr(self._client, name)


def declare_existing_tables(block: dict[str, Any]) -> dict[str, Any]:
    """A copy of a refresh block (``athena_partition_refresh_config``) whose routed tables, but
    ``alerts``, are declared ``"existing": true`` in ``tables``, for tests whose subject is not the tables
    (validate-config refuses a table it does not know). A block with ``tables`` is left as it is."""
    refresh_type = block.get("refresh_type")
    if "tables" in block or not isinstance(refresh_type, dict):
        return block
    names = [
        table
        for sources in refresh_type.values()
        if isinstance(sources, dict)
        for table in sources.values()
        if isinstance(table, str) and re.fullmatch(r"[a-z_][a-z0-9_]{0,254}", table) and table != "alerts"
    ]
    if not names:
        return block
    return {**block, "tables": {name: {"existing": True} for name in dict.fromkeys(names)}}
