"""The rule engine: the rules of a record's log type, alerts with stable ids, and failing rules isolated."""

from __future__ import annotations

import pytest

from apps.rule_processor.rule_engine import RuleEngine
from streamalert.alerts import alert_id
from streamalert.rules import Record, RuleRegistry
from tests.apps.rule_processor.conftest import NOW, log_entries


@pytest.fixture
def registry() -> RuleRegistry:
    registry = RuleRegistry()

    @registry.rule(logs=["app:events"], outputs=["s3:alerts", "log"])
    def failed_login(record: Record) -> bool:
        return record["event"] == "login_failed"

    @registry.rule(logs=["app:events"], outputs=["s3:alerts"])
    def broken(record: Record) -> bool:
        return record["missing"] == 1  # type: ignore[no-any-return]

    @registry.rule(logs=["app:events", "other:events"], outputs=["s3:alerts"])
    def anything(record: Record) -> bool:
        return True

    return registry


def test_a_match_becomes_an_alert(registry: RuleRegistry) -> None:
    record = {"event": "login_failed"}

    evaluation = RuleEngine(registry, clock=lambda: NOW).evaluate("app:events", record, "s3://b/k#3")

    first = evaluation.alerts[0]
    assert [alert.rule_name for alert in evaluation.alerts] == ["failed_login", "anything"]
    assert (first.id, first.log_type, first.record, first.created, first.outputs) == (
        alert_id("failed_login", "s3://b/k#3"),
        "app:events",
        record,
        NOW,
        ("s3:alerts", "log"),
    )


def test_only_the_rules_of_the_log_type_run(registry: RuleRegistry) -> None:
    evaluation = RuleEngine(registry).evaluate("other:events", {}, "o")

    assert [alert.rule_name for alert in evaluation.alerts] == ["anything"]
    assert RuleEngine(registry).evaluate("unknown:events", {}, "o").alerts == []


def test_a_raising_rule_is_logged_by_name_and_the_others_still_run(
    registry: RuleRegistry, capsys: pytest.CaptureFixture[str], json_logs: None
) -> None:
    evaluation = RuleEngine(registry).evaluate("app:events", {"event": "login_failed"}, "s3://b/k#3")

    assert evaluation.rule_errors == 1
    assert [alert.rule_name for alert in evaluation.alerts] == ["failed_login", "anything"]
    [error] = [entry for entry in log_entries(capsys) if entry["level"] == "ERROR"]
    assert error["context"]["rule"] == "broken"
    assert error["context"]["origin"] == "s3://b/k#3"
    assert "KeyError" in error["context"]["error"]
    assert "Traceback" in error["exception"]


def test_a_truthy_result_is_a_match() -> None:
    registry = RuleRegistry()
    registry.rule(logs=["t"], outputs=["log"])(lambda record: record.get("n"))  # type: ignore[arg-type,return-value]

    assert len(RuleEngine(registry).evaluate("t", {"n": 3}, "o").alerts) == 1
    assert RuleEngine(registry).evaluate("t", {"n": 0}, "o").alerts == []
