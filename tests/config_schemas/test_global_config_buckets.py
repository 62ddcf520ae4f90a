"""global.json's ``buckets``: per data bucket, how it announces new objects (S3 notifications or
EventBridge), checked alone and against the sources of lambda.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from config_schemas.models import BucketSettings, NotificationMode
from streamalert.config import ConfigValidationError, load_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VALID = FIXTURES / "config" / "valid"  # the refresh reads acme-firehose-data/cloudtrail, acme.streamalerts
ALL_PROCESSORS = FIXTURES / "terraform" / "configs" / "all_processors"


def config_with(tmp_path: Path, buckets: Any, source: Path = VALID) -> Path:
    config_dir = tmp_path / "conf"
    shutil.copytree(source, config_dir)
    global_json = json.loads((config_dir / "global.json").read_text())
    (config_dir / "global.json").write_text(json.dumps({**global_json, "buckets": buckets}))
    return config_dir


def problems(config_dir: Path) -> str:
    with pytest.raises(ConfigValidationError) as refused:
        load_config(config_dir)
    return str(refused.value)


def test_buckets_default_to_s3_notifications_and_load_sorted(tmp_path: Path) -> None:
    config = load_config(
        config_with(
            tmp_path, {"acme.streamalerts": {}, "acme-firehose-data": {"notifications": "eventbridge"}}
        )
    )

    assert config.global_config.buckets == (
        BucketSettings("acme-firehose-data", NotificationMode.EVENTBRIDGE),
        BucketSettings("acme.streamalerts", NotificationMode.S3),
    )
    assert config.global_config.notification_mode("acme-firehose-data") is NotificationMode.EVENTBRIDGE
    assert config.global_config.notification_mode("acme-elsewhere") is NotificationMode.S3


def test_without_buckets_every_bucket_uses_s3_notifications() -> None:
    config = load_config(VALID)

    assert config.global_config.buckets == ()
    assert config.global_config.notification_mode("acme-firehose-data") is NotificationMode.S3


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        (
            {"acme-firehose-data": {"notifications": "sns"}},
            'notifications: must be "s3" or "eventbridge", got "sns"',
        ),
        (
            {"acme-firehose-data": {"notification": "s3"}},
            "notification: unknown key; allowed keys: notifications",
        ),
        (
            {"acme-firehose-data": "eventbridge"},
            'acme-firehose-data: must be a JSON object, got "eventbridge"',
        ),
        ({"Not_A_Bucket": {}}, "Not_A_Bucket: Not a valid S3 bucket name"),
        (["acme-firehose-data"], "buckets: must be an object mapping bucket names to settings"),
    ],
)
def test_misshapen_bucket_settings_are_refused(tmp_path: Path, buckets: Any, expected: str) -> None:
    assert expected in problems(config_with(tmp_path, buckets))


def test_a_bucket_no_source_reads_is_refused(tmp_path: Path) -> None:
    message = problems(config_with(tmp_path, {"acme-unread": {"notifications": "eventbridge"}}))

    assert "global.json: buckets.acme-unread: no source of lambda.json reads bucket acme-unread" in message


def test_a_rule_processor_input_on_an_eventbridge_bucket_is_refused(tmp_path: Path) -> None:
    inputs = json.loads((ALL_PROCESSORS / "lambda.json").read_text())["rule_processor_config"]["inputs"]["s3"]
    bucket = inputs[0].split("/")[0].replace("<prefix>", "acme")

    message = problems(config_with(tmp_path, {bucket: {"notifications": "eventbridge"}}, ALL_PROCESSORS))

    assert f"buckets.{bucket}.notifications: the rule processor reads {bucket}" in message
    assert 'set "notifications": "s3" for this bucket' in message
