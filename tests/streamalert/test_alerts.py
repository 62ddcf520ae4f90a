"""The alert: stable ids, its JSON both ways, and its key in the alerts bucket."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from streamalert.alerts import Alert, AlertFormatError, alert_id, format_time, parse_time
from streamalert.partitions import partition_from_key

CREATED = datetime(2024, 5, 1, 23, 59, 59, 123456, tzinfo=timezone.utc)


def make_alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "rule_name": "root_account_use",
        "log_type": "cloudtrail:events",
        "record": {"eventName": "ConsoleLogin", "nested": {"ü": [1, None]}},
        "outputs": ["s3:alerts", "log"],
        "origin": "s3://acme-logs/a.json.gz#1.0",
        "created": CREATED,
    }
    fields.update(changes)
    return Alert.create(**fields)


def test_the_id_is_a_uuid_stable_for_a_rule_and_origin() -> None:
    alert = make_alert()

    assert uuid.UUID(alert.id).version == 5
    assert make_alert(created=CREATED + timedelta(hours=3)).id == alert.id
    assert make_alert(origin="s3://acme-logs/a.json.gz#1.1").id != alert.id
    assert make_alert(rule_name="other").id != alert.id
    assert alert.id == alert_id("root_account_use", "s3://acme-logs/a.json.gz#1.0")


def test_the_json_has_the_documented_fields() -> None:
    document = json.loads(make_alert().to_json())

    assert document == {
        "id": make_alert().id,
        "rule_name": "root_account_use",
        "log_type": "cloudtrail:events",
        "record": {"eventName": "ConsoleLogin", "nested": {"ü": [1, None]}},
        "created": "2024-05-01T23:59:59.123Z",
        "outputs": ["s3:alerts", "log"],
    }
    assert "\n" not in make_alert().to_json()


def test_json_round_trip() -> None:
    alert = make_alert(created=datetime(2024, 5, 1, 23, 59, 59, 123000, tzinfo=timezone.utc))

    assert Alert.from_json(alert.to_json()) == alert


def test_the_key_is_the_hour_of_created_in_utc() -> None:
    alert = make_alert(created=datetime(2024, 5, 2, 1, 30, tzinfo=timezone(timedelta(hours=2))))

    assert alert.s3_key == f"alerts/dt=2024-05-01-23/{alert.id}.json"


def test_the_key_is_what_the_refresh_function_partitions() -> None:
    alert = make_alert()

    partition = partition_from_key("acme.streamalerts", alert.s3_key)

    assert (partition.columns, partition.values) == (("dt",), ("2024-05-01-23",))
    assert partition.location == "s3://acme.streamalerts/alerts/dt=2024-05-01-23/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (None, "JSON list, not an object"),
        ({"id": "../../etc"}, "id is not a UUID"),
        ({"id": 7}, "id is not a UUID"),
        ({"rule_name": ""}, "rule_name must be a non-empty string"),
        ({"record": []}, "record must be an object"),
        ({"created": "yesterday"}, "created is not an ISO 8601 time"),
        ({"created": "2024-05-01T10:00:00"}, "created has no timezone"),
        ({"created": 1714557600}, "created must be an ISO 8601 string"),
        ({"outputs": "log"}, "outputs must be an array of strings"),
    ],
)
def test_malformed_alerts(change: dict[str, Any] | None, message: str) -> None:
    document: Any = [] if change is None else {**make_alert().to_dict(), **change}

    with pytest.raises(AlertFormatError, match=message):
        Alert.from_json(json.dumps(document))


def test_missing_fields_are_named() -> None:
    with pytest.raises(AlertFormatError, match="missing log_type, created"):
        Alert.from_json(json.dumps({"id": str(uuid.uuid4()), "rule_name": "r", "record": {}, "outputs": []}))


@pytest.mark.parametrize("text", ["{", "[" * 100_000])
def test_not_json(text: str) -> None:
    with pytest.raises(AlertFormatError, match="not JSON"):
        Alert.from_json(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=timezone.utc)),
        ("2024-05-01T12:00:00.5+02:00", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=timezone.utc)),
    ],
)
def test_times_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert format_time(parse_time(text)).endswith("Z")
