"""The Lambda handler: config from STREAMALERT_CONFIG_DIR, SQS events, warm containers, disabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apps.alert_processor import main
from streamalert import aws
from tests.apps.alert_processor.conftest import Account, make_alert, sqs_event
from tests.helpers import ACCOUNT_ID, REGION, FakeContext, write_json


@pytest.fixture
def handler() -> main.Handler:
    """The handler of a cold container: warm state of its own."""
    return main.new_handler()


def write_config(directory: Path, **block: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    account = {"aws_account_id": ACCOUNT_ID, "prefix": "acme", "region": REGION}
    write_json(directory / "global.json", {"account": account})
    write_json(
        directory / "lambda.json", {"alert_processor_config": {"outputs": ["s3:alerts", "log"], **block}}
    )
    return directory


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STREAMALERT_CONFIG_DIR", str(tmp_path / "conf"))
    return write_config(tmp_path / "conf")


def test_an_sqs_invocation_writes_the_alerts(
    handler: main.Handler, account: Account, config_dir: Path
) -> None:
    alert = make_alert()

    response = handler(sqs_event(alert.to_json(), "garbage"), FakeContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert list(account.stored_alerts()) == [alert.s3_key]


def test_warm_container_reuses_config_and_clients(
    handler: main.Handler, account: Account, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = aws.client
    made: list[str] = []

    def counted_client(service: str, settings: aws.AwsSettings) -> object:
        made.append(service)
        return original(service, settings)

    monkeypatch.setattr(aws, "client", counted_client)

    handler(sqs_event(make_alert(1).to_json()), FakeContext())
    handler(sqs_event(make_alert(2).to_json()), FakeContext())

    assert made == ["s3"]
    assert len(account.stored_alerts()) == 2


def test_disabled_function_hands_every_message_back(
    handler: main.Handler, account: Account, config_dir: Path
) -> None:
    write_config(config_dir, enabled=False)
    account.calls.reset()

    assert handler(sqs_event(make_alert().to_json()), FakeContext()) == {
        "batchItemFailures": [{"itemIdentifier": "m0"}]
    }
    assert handler({}, FakeContext()) == {"enabled": False}
    assert sum(account.calls.calls.values()) == 0


def test_an_event_that_is_not_from_sqs_does_nothing(
    handler: main.Handler, account: Account, config_dir: Path
) -> None:
    assert handler({"source": "aws.events"}, FakeContext()) == {"batchItemFailures": []}
    assert account.stored_alerts() == {}


def test_each_new_handler_has_warm_state_of_its_own(account: Account, config_dir: Path) -> None:
    warm = main.new_handler()
    warm({}, FakeContext())
    write_config(config_dir, enabled=False)

    assert warm({}, FakeContext()) != {"enabled": False}  # its config was read once, when it was cold
    assert main.new_handler()({}, FakeContext()) == {"enabled": False}


def test_packaged_config_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMALERT_CONFIG_DIR", raising=False)

    assert main.read_config().alert_processor is not None
