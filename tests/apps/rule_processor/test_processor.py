"""The rule processor on moto: log objects and Kinesis records in, alerts on the alerts queue out."""

from __future__ import annotations

import gzip
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from apps.rule_processor.processor import IncompleteRunError, RuleProcessor
from apps.rule_processor.sender import AlertSender
from streamalert.rules import Record, RuleRegistry
from streamalert.s3_objects import S3ObjectReader
from tests.apps.rule_processor.conftest import (
    BUCKET,
    QUEUE,
    Account,
    cloudtrail_file,
    kinesis_event,
    log_entries,
    s3_event,
    sample,
)
from tests.helpers import FaultyClient

MakeProcessor = Callable[..., RuleProcessor]


def rule_counts(alerts: list[dict[str, Any]]) -> Counter[str]:
    return Counter(alert["rule_name"] for alert in alerts)


def test_a_cloudtrail_file_becomes_alerts_on_the_queue(
    account: Account, make_processor: MakeProcessor
) -> None:
    key = account.put(
        "AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/a.json.gz",
        cloudtrail_file(sample("root_account_use") + sample("console_login_without_mfa") + sample("benign")),
    )

    summary = make_processor().handle(s3_event(key))

    alerts = account.queued_alerts()
    assert rule_counts(alerts) == {"root_account_use": 3, "console_login_without_mfa": 2}
    assert summary["alerts_sent"] == 5
    assert summary["classified"] == {"cloudtrail:events": 15}
    root_login = next(a for a in alerts if a["record"]["eventID"] == "root-console-login-with-mfa")
    assert root_login["log_type"] == "cloudtrail:events"
    assert root_login["outputs"] == ["s3:alerts", "log"]
    assert root_login["created"] == "2024-05-01T12:34:56.789Z"
    assert root_login["record"] == sample("root_account_use")[0]
    assert uuid.UUID(root_login["id"])
    assert sorted(root_login) == ["created", "id", "log_type", "outputs", "record", "rule_name"]


def test_processing_an_object_again_gives_the_same_alert_ids(
    account: Account, make_processor: MakeProcessor
) -> None:
    key = account.put("a.json.gz", cloudtrail_file(sample("s3_bucket_made_public")))
    processor = make_processor()

    processor.handle(s3_event(key))
    first = {alert["id"] for alert in account.queued_alerts()}
    processor.handle(s3_event(key))
    second = {alert["id"] for alert in account.queued_alerts()}

    assert len(first) == 7
    assert first == second


def test_json_lines_mixed_with_other_logs_and_garbage(
    account: Account, make_processor: MakeProcessor, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps(sample("root_account_use")[1]),
        json.dumps({"event": "login_failed", "level": "warn"}),
        json.dumps({"vpc": "flow", "bytes": 10}),
        "garbage",
        json.dumps({"vpc": "flow", "bytes": 11}),
    ]
    key = account.put("mixed.jsonl", "\n".join(lines).encode())

    summary = make_processor().handle(s3_event(key))

    assert summary["records"] == 4
    assert summary["classified"] == {"app:events": 1, "cloudtrail:events": 1}
    assert summary["unclassified"] == 2
    assert summary["not_records"] == 1
    assert rule_counts(account.queued_alerts()) == {"root_account_use": 1}
    [warning] = [e for e in log_entries(capsys) if e["message"].startswith("Records fit no log type")]
    assert warning["context"] == {
        "origin": f"s3://{BUCKET}/mixed.jsonl",
        "records": 2,
        "first_record_keys": ["bytes", "vpc"],
    }


def test_a_raising_rule_stops_neither_the_other_rules_nor_the_other_records(
    account: Account, make_processor: MakeProcessor, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = RuleRegistry()

    @registry.rule(logs=["app:events"], outputs=["s3:alerts"])
    def picky(record: Record) -> bool:
        if record["event"] == "boom":
            raise ValueError("cannot read this one")
        return True

    @registry.rule(logs=["app:events"], outputs=["s3:alerts"])
    def every_event(record: Record) -> bool:
        return True

    events = [{"event": name, "level": "info"} for name in ("a", "boom", "c")]
    key = account.put("app.jsonl", "\n".join(map(json.dumps, events)).encode())

    summary = make_processor(registry).handle(s3_event(key))

    assert summary["rule_errors"] == 1
    assert rule_counts(account.queued_alerts()) == {"picky": 2, "every_event": 3}
    [error] = [e for e in log_entries(capsys) if e["level"] == "ERROR"]
    assert error["context"]["rule"] == "picky"
    assert error["context"]["origin"] == f"s3://{BUCKET}/app.jsonl#2"


def test_alerts_go_out_in_batches_of_ten(account: Account, make_processor: MakeProcessor) -> None:
    root_call = sample("root_account_use")[1]
    key = account.put("many.json.gz", cloudtrail_file([{**root_call, "eventID": str(n)} for n in range(25)]))

    summary = make_processor().handle(s3_event(key))

    assert summary["alerts_sent"] == 25
    assert account.calls["SendMessageBatch"] == 3
    assert account.calls["GetQueueUrl"] == 1


def test_several_objects_in_one_event(account: Account, make_processor: MakeProcessor) -> None:
    first = account.put("one.json.gz", cloudtrail_file(sample("root_account_use")))
    second = account.put("two.json", json.dumps({"Records": sample("console_login_without_mfa")}).encode())

    summary = make_processor().handle(s3_event(first, second, "folder/_$folder$"))

    assert summary["objects"] == 2
    assert rule_counts(account.queued_alerts()) == {"root_account_use": 3, "console_login_without_mfa": 2}


def test_a_missing_object_is_skipped_without_a_retry(account: Account, make_processor: MakeProcessor) -> None:
    key = account.put("here.json.gz", cloudtrail_file(sample("root_account_use")))

    summary = make_processor().handle(s3_event("gone.json.gz", key))

    assert summary["objects_gone"] == 1
    assert summary["alerts_sent"] == 2


def test_an_unreadable_object_fails_the_invocation_after_the_others(
    account: Account, make_processor: MakeProcessor
) -> None:
    def deny_secret(real: Any, **kwargs: Any) -> Any:
        if kwargs["Key"] == "secret.json.gz":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")
        return real(**kwargs)

    key = account.put("open.json.gz", cloudtrail_file(sample("root_account_use")))
    processor = make_processor(reader=S3ObjectReader(FaultyClient(account.s3, get_object=deny_secret)))

    with pytest.raises(IncompleteRunError, match=r"1 object.* could not be read and 0 alert"):
        processor.handle(s3_event("secret.json.gz", key))
    assert rule_counts(account.queued_alerts()) == {"root_account_use": 2}


def test_alerts_that_cannot_be_queued_fail_the_invocation(
    account: Account, make_processor: MakeProcessor
) -> None:
    account.sqs.delete_queue(QueueUrl=account.queue_url)
    key = account.put("a.json.gz", cloudtrail_file(sample("root_account_use")))

    with pytest.raises(IncompleteRunError, match=r"0 object.* could not be read and 2 alert"):
        make_processor().handle(s3_event(key))


def test_kinesis_records_are_analysed(account: Account, make_processor: MakeProcessor) -> None:
    records = sample("root_account_use")
    event = kinesis_event(
        json.dumps(records[0]).encode(),
        gzip.compress(json.dumps({"Records": records[1:]}).encode()),
        b"not json",
        "!!! not base64",
    )

    response = make_processor().handle(event)

    assert response == {"batchItemFailures": []}
    alerts = account.queued_alerts()
    assert rule_counts(alerts) == {"root_account_use": 2}


def test_kinesis_records_whose_alerts_were_not_queued_are_failures(
    account: Account, make_processor: MakeProcessor
) -> None:
    root_call, console = sample("root_account_use")[1], sample("console_login_without_mfa")[0]
    benign = sample("benign")[0]

    def refuse_root(real: Any, **kwargs: Any) -> Any:
        refused = [e for e in kwargs["Entries"] if '"rule_name":"root_account_use"' in e["MessageBody"]]
        response = real(**{**kwargs, "Entries": [e for e in kwargs["Entries"] if e not in refused]})
        response.setdefault("Failed", []).extend(
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in refused
        )
        return response

    sender = AlertSender(FaultyClient(account.sqs, send_message_batch=refuse_root), QUEUE)  # type: ignore[arg-type]
    event = kinesis_event(
        *(json.dumps(record).encode() for record in (benign, root_call, console, root_call))
    )

    response = make_processor(sender=sender).handle(event)

    assert response == {"batchItemFailures": [{"itemIdentifier": "49590001"}, {"itemIdentifier": "49590003"}]}
    assert rule_counts(account.queued_alerts()) == {"console_login_without_mfa": 1}


@pytest.mark.parametrize("event", [{}, {"source": "aws.events"}, {"Records": [{"eventSource": "aws:sqs"}]}])
def test_other_events_do_nothing(account: Account, make_processor: MakeProcessor, event: Any) -> None:
    assert make_processor().handle(event)["objects"] == 0
    assert account.calls["SendMessageBatch"] == 0


def test_parts_that_are_not_records_are_logged_the_first_few_one_by_one(
    account: Account, make_processor: MakeProcessor, capsys: pytest.CaptureFixture[str]
) -> None:
    key = account.put("garbage.log", b"not json\n" * 25)

    summary = make_processor().handle(s3_event(key))

    assert summary["not_records"] == 25
    warnings = [e for e in log_entries(capsys) if e["level"] == "WARNING"]
    assert [e["message"] for e in warnings].count("Not a record") == 10
    assert warnings[-1]["context"] == {
        "origin": f"s3://{BUCKET}/garbage.log",
        "not_records": 25,
        "logged": 10,
    }
