"""The alert processor on moto: every alert in the alerts bucket, failures reported per message."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from apps.alert_processor.outputs import LogOutput, S3AlertsOutput
from apps.alert_processor.processor import AlertProcessor
from streamalert.alerts import Alert
from tests.apps.alert_processor.conftest import ALERTS_BUCKET, Account, log_entries, make_alert, messages
from tests.helpers import FaultyClient


class FailingOutput:
    name = "log"

    def __init__(self) -> None:
        self.attempts = 0

    def send(self, alert: Alert) -> None:
        self.attempts += 1
        raise RuntimeError("the log is full")


def processor(account: Account, s3: Any = None, log: Any = None) -> AlertProcessor:
    return AlertProcessor(
        {"s3:alerts": S3AlertsOutput(s3 or account.s3, ALERTS_BUCKET), "log": log or LogOutput()}
    )


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_every_alert_lands_in_the_alerts_bucket(account: Account) -> None:
    alerts = [make_alert(number) for number in range(3)]

    response = processor(account).handle(messages(*(alert.to_json() for alert in alerts)))

    assert response == {"batchItemFailures": []}
    stored = account.stored_alerts()
    assert sorted(stored) == sorted(f"alerts/dt=2024-05-01-12/{alert.id}.json" for alert in alerts)
    assert all(stored[alert.s3_key] == alert.to_dict() for alert in alerts)


def test_an_alert_not_naming_the_bucket_still_goes_there(account: Account) -> None:
    alert = make_alert(outputs=("log",))

    assert failures(processor(account).handle(messages(alert.to_json()))) == []
    assert list(account.stored_alerts()) == [alert.s3_key]


@pytest.mark.parametrize("body", ["not json", "{}", '{"id": "x"}', "[]"])
def test_a_message_that_is_not_an_alert_fails_alone(
    account: Account, body: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = make_alert()

    response = processor(account).handle(messages(body, good.to_json()))

    assert failures(response) == ["m0"]
    assert list(account.stored_alerts()) == [good.s3_key]
    assert any(entry["message"].startswith("Not an alert") for entry in log_entries(capsys))


def test_a_failing_s3_write_fails_the_message_and_the_log_output_still_runs(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    def unavailable(real: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "PutObject")

    alert = make_alert()

    response = processor(account, s3=FaultyClient(account.s3, put_object=unavailable)).handle(
        messages(alert.to_json())
    )

    assert failures(response) == ["m0"]
    entries = log_entries(capsys)
    assert [e["context"]["alert"]["id"] for e in entries if e["message"].startswith("Alert:")] == [alert.id]
    [error] = [e for e in entries if e["level"] == "ERROR"]
    assert error["context"]["output"] == "s3:alerts"


def test_a_failing_log_output_fails_the_message_and_the_s3_write_stands(account: Account) -> None:
    log = FailingOutput()
    alert = make_alert()

    response = processor(account, log=log).handle(messages(alert.to_json()))

    assert failures(response) == ["m0"]
    assert log.attempts == 1
    assert list(account.stored_alerts()) == [alert.s3_key]


def test_handing_an_alert_over_again_rewrites_the_same_object(account: Account) -> None:
    alert = make_alert()

    processor(account).handle(messages(alert.to_json()))
    processor(account).handle(messages(alert.to_json()))

    assert account.stored_alerts() == {alert.s3_key: alert.to_dict()}


def test_outputs_that_are_not_configured_are_logged_not_failed(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    only_s3 = AlertProcessor({"s3:alerts": S3AlertsOutput(account.s3, ALERTS_BUCKET)})
    alert = make_alert()

    assert failures(only_s3.handle(messages(alert.to_json()))) == []
    [error] = [e for e in log_entries(capsys) if e["level"] == "ERROR"]
    assert error["context"]["outputs"] == ["log"]


def test_the_alerts_bucket_output_is_required() -> None:
    with pytest.raises(ValueError, match="the s3:alerts output is required"):
        AlertProcessor({"log": LogOutput()})
