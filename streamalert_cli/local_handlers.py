"""Running the functions' handlers in-process against the embedded emulator, as Lambda would call them:
the events Lambda would build (S3 notification, SQS batch), a context with a deadline, the deployment's
config directory, and the handler's JSON logs and metrics kept in a file of the build directory."""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from streamalert.constants import ENV_CONFIG_DIR
from streamalert.s3_events import S3Object


class FakeLambdaContext:
    """What the handlers read of a Lambda context: the time left of the function's timeout."""

    def __init__(self, function_name: str, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.aws_request_id = f"local-{uuid.uuid4()}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set environment variables for the block (a None value unsets it), then restore them as they were."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_handler(
    app: str,
    event: Mapping[str, Any],
    *,
    config_dir: Path,
    timeout: int,
    log_path: Path,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Call a new handler of ``apps.<app>.main`` (what its ``new_handler()`` returns: warm state of its
    own, so that it reads the config of ``config_dir`` and the emulator's clients, not those of an earlier
    call) with ``event`` and a context; its output (JSON logs, EMF metrics) goes to ``log_path``."""
    new_handler: Callable[[], Callable[[dict[str, Any], Any], dict[str, Any]]]
    new_handler = importlib.import_module(f"apps.{app}.main").new_handler
    values = {ENV_CONFIG_DIR: str(config_dir.resolve()), **(extra_env or {})}
    with environment(**values), log_path.open("w", encoding="utf-8") as log:
        handler = new_handler()
        with redirect_stdout(log), redirect_stderr(log):
            return handler(dict(event), FakeLambdaContext(app, timeout))


def s3_event(s3_object: S3Object, size: int, region: str) -> dict[str, Any]:
    """The event S3 gives a function for one new object (the fields the handlers read, and a few more)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": s3_object.bucket, "arn": f"arn:aws:s3:::{s3_object.bucket}"},
                    # S3 URL-encodes the key in its events (a space as "+")
                    "object": {"key": quote_plus(s3_object.key, safe="/"), "size": size},
                },
            }
        ]
    }


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping gives a function for received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def one_line(result: Mapping[str, Any]) -> str:
    """A handler's result as compact JSON for a progress line."""
    return json.dumps(result, sort_keys=True, separators=(", ", ": "))
