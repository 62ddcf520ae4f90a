"""Sending alerts: batches of 10 within the SQS batch size, the queue found once, failures returned."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from apps.rule_processor.sender import AlertSender
from streamalert.alerts import Alert
from tests.apps.rule_processor.conftest import NOW, QUEUE, Account
from tests.helpers import FaultyClient


def alerts(count: int, record: dict[str, Any] | None = None) -> list[Alert]:
    return [
        Alert.create(
            rule_name="r",
            log_type="t",
            record=record or {"n": index},
            outputs=["s3:alerts"],
            origin=f"o#{index}",
            created=NOW,
        )
        for index in range(count)
    ]


def test_batches_of_ten_and_one_queue_lookup(account: Account) -> None:
    sender = AlertSender(account.sqs, QUEUE)

    first = sender.send(alerts(25))
    second = sender.send(alerts(3))

    assert (first.sent, first.failed, first.too_large) == (25, [], [])
    assert second.sent == 3
    assert account.calls["SendMessageBatch"] == 4
    assert account.calls["GetQueueUrl"] == 1
    assert len(account.queued_alerts()) == 28


def test_batches_also_respect_the_batch_byte_limit(account: Account) -> None:
    big = alerts(6, record={"blob": "x" * 1000})
    body_bytes = len(big[0].to_json().encode())

    result = AlertSender(account.sqs, QUEUE, max_batch_bytes=body_bytes * 2).send(big)

    assert result.sent == 6
    assert account.calls["SendMessageBatch"] == 3


def test_an_alert_too_large_for_any_message_is_logged_and_left_out(account: Account) -> None:
    too_large, *fitting = alerts(1, record={"blob": "x" * 300_000}) + alerts(2)

    result = AlertSender(account.sqs, QUEUE).send([too_large, *fitting])

    assert result.too_large == [too_large]
    assert result.sent == 2
    assert result.failed == []


def test_entries_sqs_refuses_are_returned(account: Account) -> None:
    def refuse_first(real: Any, **kwargs: Any) -> Any:
        entries = kwargs["Entries"]
        response = real(**{**kwargs, "Entries": entries[1:]})
        response.setdefault("Failed", []).append(
            {"Id": entries[0]["Id"], "SenderFault": False, "Code": "InternalError"}
        )
        return response

    batch = alerts(3)
    result = AlertSender(FaultyClient(account.sqs, send_message_batch=refuse_first), QUEUE).send(batch)  # type: ignore[arg-type]

    assert result.failed == [batch[0]]
    assert result.sent == 2


def test_a_failing_call_fails_its_batch_only(account: Account) -> None:
    calls = []

    def fail_once(real: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessageBatch"
            )
        return real(**kwargs)

    batch = alerts(15)
    result = AlertSender(FaultyClient(account.sqs, send_message_batch=fail_once), QUEUE).send(batch)  # type: ignore[arg-type]

    assert result.failed == batch[:10]
    assert result.sent == 5


def test_a_missing_queue_fails_everything_and_is_looked_up_again(account: Account) -> None:
    sender = AlertSender(account.sqs, "no_such_queue")

    assert len(sender.send(alerts(2)).failed) == 2
    assert len(sender.send(alerts(2)).failed) == 2
    assert account.calls["GetQueueUrl"] == 2


def test_nothing_to_send_calls_nothing(account: Account) -> None:
    assert AlertSender(account.sqs, QUEUE).send([]).sent == 0
    assert sum(account.calls.calls.values()) == 0
