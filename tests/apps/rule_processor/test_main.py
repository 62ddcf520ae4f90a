"""The Lambda handler: config from STREAMALERT_CONFIG_DIR, warm containers, and the disabled switch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from apps.rule_processor import main
from streamalert import aws
from tests.apps.rule_processor.conftest import Account, cloudtrail_file, kinesis_event, s3_event, sample
from tests.helpers import ACCOUNT_ID, REGION, REPO, FakeContext, write_json


@pytest.fixture
def handler() -> main.Handler:
    """The handler of a cold container: warm state of its own."""
    return main.new_handler()


def write_config(directory: Path, **block: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(
        directory / "global.json",
        {"account": {"aws_account_id": ACCOUNT_ID, "prefix": "acme", "region": REGION}},
    )
    rule_block = {"log_level": "debug", "inputs": {"s3": ["acme-cloudtrail-logs"]}, **block}
    write_json(
        directory / "lambda.json",
        {"rule_processor_config": rule_block, "alert_processor_config": {"outputs": ["s3:alerts", "log"]}},
    )
    shutil.copy(REPO / "conf" / "logs.json", directory / "logs.json")
    return directory


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STREAMALERT_CONFIG_DIR", str(tmp_path / "conf"))
    return write_config(tmp_path / "conf")


def test_an_s3_invocation_queues_alerts(handler: main.Handler, account: Account, config_dir: Path) -> None:
    key = account.put("AWSLogs/a.json.gz", cloudtrail_file(sample("root_account_use")))

    summary = handler(s3_event(key), FakeContext())

    assert summary["alerts_sent"] == 2
    assert {alert["rule_name"] for alert in account.queued_alerts()} == {"root_account_use"}


def test_a_kinesis_invocation_returns_batch_item_failures(
    handler: main.Handler, account: Account, config_dir: Path
) -> None:
    event = kinesis_event(json.dumps(sample("root_account_use")[1]).encode())

    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert len(account.queued_alerts()) == 1


def test_warm_container_reuses_config_rules_and_clients(
    handler: main.Handler, account: Account, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = aws.client
    made: list[str] = []

    def counted_client(service: str, settings: aws.AwsSettings) -> object:
        made.append(service)
        client = original(service, settings)
        account.calls.attach(client)
        return client

    monkeypatch.setattr(aws, "client", counted_client)
    key = account.put("a.json.gz", cloudtrail_file(sample("root_account_use")))

    handler(s3_event(key), FakeContext())
    handler(s3_event(key), FakeContext())

    assert sorted(made) == ["s3", "sqs"]
    assert account.calls["GetQueueUrl"] == 1
    assert account.calls["GetObject"] == 2


def test_disabled_function_touches_nothing(handler: main.Handler, account: Account, config_dir: Path) -> None:
    write_config(config_dir, enabled=False)
    key = account.put("a.json.gz", cloudtrail_file(sample("root_account_use")))
    account.calls.reset()

    assert handler(s3_event(key), FakeContext()) == {"enabled": False}
    assert handler(kinesis_event(b"{}", b"{}"), FakeContext()) == {
        "batchItemFailures": [{"itemIdentifier": "49590000"}, {"itemIdentifier": "49590001"}]
    }
    assert sum(account.calls.calls.values()) == 0


def test_rules_that_cannot_fire_are_logged_at_cold_start(
    handler: main.Handler, account: Account, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(config_dir / "logs.json", {"app:events": {"schema": {"event": "string"}}})

    handler({}, FakeContext())

    problems = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if "Rule misconfigured" in line
    ]
    assert problems
    assert all("logs.json does not declare" in entry["context"]["problem"] for entry in problems)


def test_each_new_handler_has_warm_state_of_its_own(account: Account, config_dir: Path) -> None:
    warm = main.new_handler()
    warm({}, FakeContext())
    write_config(config_dir, enabled=False)

    assert warm({}, FakeContext()) != {"enabled": False}  # its config was read once, when it was cold
    assert main.new_handler()({}, FakeContext()) == {"enabled": False}


def test_packaged_config_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMALERT_CONFIG_DIR", raising=False)

    assert main.read_config().rule_processor is not None
