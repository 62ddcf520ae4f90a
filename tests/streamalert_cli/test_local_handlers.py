"""The --local proof runs each handler as a cold container would (a new handler from the app's
``new_handler()``), with events the handlers' own parsers read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.rule_processor.inputs import s3_notification
from streamalert.constants import ENV_CONFIG_DIR
from streamalert.s3_events import S3Object
from streamalert.sqs import messages_from_event
from streamalert_cli.local_handlers import environment, run_handler, s3_event, sqs_event
from tests.helpers import ACCOUNT_ID, REGION, write_json


def test_the_s3_event_announces_the_object() -> None:
    s3_object = S3Object("acme-cloudtrail-logs", "local-check/a b+c.json")

    notification = s3_notification(s3_event(s3_object, 12, "us-east-1"))

    assert notification is not None
    assert notification.objects == (s3_object,)


def test_the_sqs_event_carries_every_message() -> None:
    received = [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"},
        {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "[]"},
    ]

    messages = messages_from_event(sqs_event(received, "arn:aws:sqs:us-east-1:1:q", "us-east-1"))

    assert messages is not None
    assert [(m.message_id, m.receipt_handle, m.body) for m in messages] == [
        ("m1", "r1", "{}"),
        ("m2", "r2", "[]"),
    ]


def test_a_variable_unset_for_the_block_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMALERT_TEST_VARIABLE", "kept")
    with environment(STREAMALERT_TEST_VARIABLE=None):
        assert "STREAMALERT_TEST_VARIABLE" not in os.environ

    assert os.environ["STREAMALERT_TEST_VARIABLE"] == "kept"


def test_the_environment_is_restored(tmp_path: Path) -> None:
    before = os.environ.get(ENV_CONFIG_DIR)
    with environment(**{ENV_CONFIG_DIR: str(tmp_path)}):
        assert os.environ[ENV_CONFIG_DIR] == str(tmp_path)

    assert os.environ.get(ENV_CONFIG_DIR) == before


def alert_config(directory: Path, *, enabled: bool) -> Path:
    directory.mkdir()
    write_json(
        directory / "global.json",
        {"account": {"aws_account_id": ACCOUNT_ID, "prefix": "acme", "region": REGION}},
    )
    write_json(
        directory / "lambda.json", {"alert_processor_config": {"outputs": ["s3:alerts"], "enabled": enabled}}
    )
    return directory


def test_each_run_is_a_cold_container_that_reads_its_own_config(tmp_path: Path) -> None:
    enabled = alert_config(tmp_path / "enabled", enabled=True)
    disabled = alert_config(tmp_path / "disabled", enabled=False)
    log_path = tmp_path / "handler.log"

    first = run_handler("alert_processor", {}, config_dir=enabled, timeout=5, log_path=log_path)
    logged = log_path.read_text()
    second = run_handler("alert_processor", {}, config_dir=disabled, timeout=5, log_path=log_path)

    assert first == {"batchItemFailures": []}
    assert "Not an SQS event" in logged
    assert second == {"enabled": False}
