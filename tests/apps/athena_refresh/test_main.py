"""The Lambda handler: config from STREAMALERT_CONFIG_DIR, scheduled and event-source invocations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.athena_refresh import main
from apps.athena_refresh.refresher import RefreshSettings, SettingsError
from streamalert import aws
from tests.apps.athena_refresh.conftest import Deployment
from tests.helpers import ACCOUNT_ID, REGION, FakeContext, s3_body

LAMBDA_BLOCK = {
    "log_level": "debug",
    "refresh_type": {
        "add_glue_partition": {"<prefix>.streamalerts": "alerts"},
        "add_hive_partition": {"acme-data/vpcflow": "vpcflow"},
    },
    "tables": {"vpcflow": {"existing": True}},
}


@pytest.fixture
def handler() -> main.Handler:
    """The handler of a cold container: warm state of its own."""
    return main.new_handler()


def write_config(directory: Path, **block: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    account = {"aws_account_id": ACCOUNT_ID, "prefix": "acme", "region": REGION}
    (directory / "global.json").write_text(json.dumps({"account": account}))
    (directory / "lambda.json").write_text(
        json.dumps({"athena_partition_refresh_config": {**LAMBDA_BLOCK, **block}})
    )
    return directory


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STREAMALERT_CONFIG_DIR", str(tmp_path / "conf"))
    monkeypatch.setenv("STREAMALERT_RECEIVE_WAIT_SECONDS", "0")
    return write_config(tmp_path / "conf")


def test_scheduled_invocation_registers_and_deletes(
    handler: main.Handler, deployment: Deployment, config_dir: Path
) -> None:
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-05-01-00/a.json")))
    scheduled_event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    summary = handler(scheduled_event, FakeContext())

    assert summary["messages_deleted"] == 1
    assert list(deployment.partitions("alerts")) == [("2024-05-01-00",)]
    assert deployment.messages_left() == 0


def test_event_source_invocation_returns_batch_item_failures(
    handler: main.Handler, deployment: Deployment, config_dir: Path
) -> None:
    event = {
        "Records": [
            {
                "messageId": "good",
                "receiptHandle": "r1",
                "body": s3_body(("acme.streamalerts", "alerts/dt=2024-05-01-00/a.json")),
                "eventSource": "aws:sqs",
            },
            {"messageId": "bad", "receiptHandle": "r2", "body": "nope", "eventSource": "aws:sqs"},
        ]
    }

    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_disabled_function_touches_nothing(
    handler: main.Handler, deployment: Deployment, config_dir: Path
) -> None:
    write_config(config_dir, enabled=False)
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-05-01-00/a.json")))
    deployment.calls.reset()

    assert handler({}, FakeContext()) == {"enabled": False}
    sqs_event = {
        "Records": [{"messageId": "m", "receiptHandle": "r", "body": "{}", "eventSource": "aws:sqs"}]
    }
    assert handler(sqs_event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert sum(deployment.calls.calls.values()) == 0
    assert deployment.messages_left() == 1


def test_warm_container_reuses_config_and_clients(
    handler: main.Handler, deployment: Deployment, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = aws.client
    made: list[str] = []

    def counted_client(service: str, settings: aws.AwsSettings) -> object:
        made.append(service)
        client = original(service, settings)
        deployment.calls.attach(client)
        return client

    monkeypatch.setattr(aws, "client", counted_client)

    handler({}, FakeContext())
    handler({}, FakeContext())

    assert deployment.calls["GetQueueUrl"] == 1
    assert deployment.calls["GetDatabase"] == 1
    assert sorted(made) == ["athena", "glue", "sqs"]


def test_each_new_handler_has_warm_state_of_its_own(deployment: Deployment, config_dir: Path) -> None:
    warm = main.new_handler()
    warm({}, FakeContext())
    write_config(config_dir, enabled=False)

    assert warm({}, FakeContext()) != {"enabled": False}  # its config was read once, when it was cold
    assert main.new_handler()({}, FakeContext()) == {"enabled": False}


def test_packaged_config_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMALERT_CONFIG_DIR", raising=False)

    assert main.read_config().account.prefix == "acme"


@pytest.mark.parametrize(("value", "wait"), [("", 1), ("0", 0), ("2", 2)])
def test_receive_wait_setting(value: str, wait: int) -> None:
    env = {"STREAMALERT_RECEIVE_WAIT_SECONDS": value}
    assert RefreshSettings.from_env(env).receive_wait_seconds == wait


@pytest.mark.parametrize("value", ["3", "-1", "1.5", "soon"])
def test_receive_wait_setting_out_of_range(value: str) -> None:
    with pytest.raises(SettingsError, match="0, 1 or 2"):
        RefreshSettings.from_env({"STREAMALERT_RECEIVE_WAIT_SECONDS": value})
