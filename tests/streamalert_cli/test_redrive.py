"""scripts/redrive: count first, then move dead-lettered messages back, losing none."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamalert.config import load_config
from streamalert.constants import (
    alerts_dead_letter_queue_name,
    alerts_queue_name,
    athena_dead_letter_queue_name,
    athena_queue_name,
)
from streamalert_cli import redrive
from streamalert_cli.redrive import RedriveOptions
from tests.helpers import REGION

# Each --processor choice: the queue its function reads, and that queue's dead-letter queue
QUEUE_NAMES = {
    "athena": (athena_queue_name, athena_dead_letter_queue_name),
    "alert": (alerts_queue_name, alerts_dead_letter_queue_name),
}


@pytest.fixture
def queues(moto: None, config_dir: Path) -> tuple[Any, str, str]:
    return filled_queues(config_dir, "athena")


def filled_queues(config_dir: Path, processor: str) -> tuple[Any, str, str]:
    """The processor's queue, empty, and its dead-letter queue holding 12 messages."""
    queue_name, dead_letter_name = QUEUE_NAMES[processor]
    prefix = load_config(config_dir).account.prefix
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=queue_name(prefix))["QueueUrl"]
    dead_letters = sqs.create_queue(QueueName=dead_letter_name(prefix))["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=dead_letters, MessageBody=f"message {n}")
    return sqs, queue, dead_letters


def depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def options(config_dir: Path, **changes: Any) -> RedriveOptions:
    return RedriveOptions(
        **{
            "processor": "athena",
            "yes": False,
            "limit": 1000,
            "config_dir": config_dir,
            "debug": False,
            **changes,
        }
    )


def test_dry_run_counts_and_moves_nothing(queues: tuple[Any, str, str], config_dir: Path) -> None:
    sqs, queue, dead_letters = queues
    out = io.StringIO()

    assert redrive.redrive(options(config_dir), out) == 0

    assert "holds about 12 messages" in out.getvalue()
    assert "dry run: would move up to 12 messages" in out.getvalue()
    assert depth(sqs, dead_letters) == 12
    assert depth(sqs, queue) == 0


@pytest.mark.parametrize("processor", sorted(QUEUE_NAMES))
def test_yes_moves_every_message_back(moto: None, config_dir: Path, processor: str) -> None:
    sqs, queue, dead_letters = filled_queues(config_dir, processor)
    out = io.StringIO()

    assert redrive.redrive(options(config_dir, processor=processor, yes=True), out) == 0

    assert "12 moved" in out.getvalue()
    assert depth(sqs, queue) == 12
    assert depth(sqs, dead_letters) == 0


def test_credentials_of_another_account_are_refused(
    queues: tuple[Any, str, str],
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqs, _, dead_letters = queues
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")

    code = redrive.main(["--yes", "--config-dir", str(config_dir)])

    assert code == 1
    assert "refusing to redrive" in capsys.readouterr().err
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "123456789012")
    assert depth(sqs, dead_letters) == 12


@pytest.mark.parametrize("argv", [["--max", "0"], ["--processor", "rule"], ["--bogus"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert redrive.main(argv) == 2
