"""The outputs: the alerts bucket in the layout Athena reads, and the log."""

from __future__ import annotations

import json

import pytest

from apps.alert_processor.outputs import (
    OUTPUT_FACTORIES,
    LogOutput,
    OutputResources,
    S3AlertsOutput,
    build_outputs,
)
from streamalert.constants import ALERT_OUTPUTS
from tests.apps.alert_processor.conftest import ALERTS_BUCKET, Account, log_entries, make_alert


def test_every_output_name_has_a_builder() -> None:
    assert sorted(OUTPUT_FACTORIES) == sorted(ALERT_OUTPUTS)


def test_the_s3_output_writes_one_json_line_under_the_hour_of_created(account: Account) -> None:
    alert = make_alert()

    S3AlertsOutput(account.s3, ALERTS_BUCKET).send(alert)

    stored = account.s3.get_object(Bucket=ALERTS_BUCKET, Key=f"alerts/dt=2024-05-01-12/{alert.id}.json")
    body = stored["Body"].read().decode()
    assert body == alert.to_json() + "\n"
    assert json.loads(body)["id"] == alert.id
    assert stored["ContentType"] == "application/json"


def test_the_log_output_writes_the_alert_as_a_warning(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    alert = make_alert()

    LogOutput().send(alert)

    [entry] = log_entries(capsys)
    assert entry["level"] == "WARNING"
    assert entry["message"] == "Alert: root_account_use"
    assert entry["context"]["alert"] == alert.to_dict()


def test_build_outputs_by_name(account: Account) -> None:
    outputs = build_outputs(["s3:alerts", "log"], OutputResources(account.s3, ALERTS_BUCKET))

    assert {name: type(output) for name, output in outputs.items()} == {
        "s3:alerts": S3AlertsOutput,
        "log": LogOutput,
    }
