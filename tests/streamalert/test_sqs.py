"""SQS on moto: receiving, deleting in batches (re-sending only failed entries), sending, and event shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from freezegun import freeze_time

from streamalert.sqs import QueueMessage, SqsQueue, messages_from_event
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import REGION, FaultyClient

QUEUE = "acme_streamalert_athena_data_bucket_notifications"


@pytest.fixture
def sqs(moto: None) -> Any:
    client = boto3.client("sqs", region_name=REGION)
    client.create_queue(QueueName=QUEUE)
    return client


@pytest.fixture
def queue(sqs: Any) -> SqsQueue:
    return SqsQueue.from_name(sqs, QUEUE)


def messages_left(sqs: Any, queue: SqsQueue) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def receive_all(queue: SqsQueue, count: int) -> list[QueueMessage]:
    received: list[QueueMessage] = []
    while len(received) < count:
        batch = queue.receive(wait_seconds=0, visibility_seconds=300)
        assert batch, f"queue ran dry after {len(received)} of {count} messages"
        received.extend(batch)
    return received


def recorded(calls: list[dict[str, Any]], behaviour: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """An override that keeps every call's arguments, then behaves as ``behaviour`` (or the real call)."""

    def record(real: Callable[..., Any], **kwargs: Any) -> Any:
        calls.append(kwargs)
        return behaviour(real, **kwargs) if behaviour else real(**kwargs)

    return record


def failing(ids: set[str], *, times: int) -> Callable[..., Any]:
    """A delete_message_batch that reports the entries with those ids as failed, ``times`` times each."""
    failures: dict[str, int] = {}

    def delete(real: Callable[..., Any], **kwargs: Any) -> Any:
        kept, failed = [], []
        for entry in kwargs["Entries"]:
            if entry["Id"] in ids and failures.get(entry["Id"], 0) < times:
                failures[entry["Id"]] = failures.get(entry["Id"], 0) + 1
                failed.append(
                    {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                )
            else:
                kept.append(entry)
        response = real(**{**kwargs, "Entries": kept}) if kept else {"Successful": []}
        return {**response, "Failed": [*response.get("Failed", []), *failed]}

    return delete


# --- receive ---------------------------------------------------------------------------------------


def test_queue_is_found_by_name(sqs: Any, queue: SqsQueue) -> None:
    assert queue.url == sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]


def test_unknown_queue_name_raises(sqs: Any) -> None:
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        SqsQueue.from_name(sqs, "no_such_queue")


def test_receive_takes_at_most_ten_messages(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(15)])

    first = queue.receive(wait_seconds=0, visibility_seconds=60)

    assert 1 <= len(first) <= 10
    assert all(message.body.startswith("body ") for message in first)
    assert all(message.receipt_handle for message in first)


def test_receive_asks_for_no_more_than_the_messages_wanted(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(15)])

    few = queue.receive(wait_seconds=0, visibility_seconds=60, max_messages=3)
    capped = queue.receive(wait_seconds=0, visibility_seconds=60, max_messages=50)

    assert 1 <= len(few) <= 3
    assert 1 <= len(capped) <= 10, "SQS hands out 10 a call at most"


def test_receive_from_an_empty_queue_is_empty(queue: SqsQueue) -> None:
    assert queue.receive(wait_seconds=0, visibility_seconds=60) == []


def test_received_messages_stay_hidden_for_the_visibility_timeout(queue: SqsQueue) -> None:
    with freeze_time("2024-01-01 00:00:00") as clock:
        queue.send(["only one"])
        (message,) = queue.receive(wait_seconds=0, visibility_seconds=120)

        clock.tick(119)
        assert queue.receive(wait_seconds=0, visibility_seconds=120) == []

        clock.tick(2)
        (again,) = queue.receive(wait_seconds=0, visibility_seconds=120)

    assert again.message_id == message.message_id


@pytest.mark.parametrize(
    ("visibility_seconds", "sent"), [(0.2, 1), (0, 1), (29.1, 30), (300, 300), (10**9, 43_200)]
)
def test_visibility_is_rounded_up_and_kept_within_sqs_limits(
    sqs: Any, queue: SqsQueue, visibility_seconds: float, sent: int
) -> None:
    queue.send(["waiting"])  # so that the long poll returns at once
    calls: list[dict[str, Any]] = []
    client = FaultyClient(sqs, receive_message=recorded(calls))

    SqsQueue(client, queue.url).receive(wait_seconds=3, visibility_seconds=visibility_seconds)

    assert calls == [
        {"QueueUrl": queue.url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 3, "VisibilityTimeout": sent}
    ]


# --- delete ----------------------------------------------------------------------------------------


def test_delete_25_messages_takes_3_calls_and_empties_the_queue(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(25)])
    messages = receive_all(queue, 25)
    calls = CallCounter().attach(sqs)

    failed = queue.delete(messages)

    assert failed == []
    assert calls["DeleteMessageBatch"] == 3
    assert messages_left(sqs, queue) == 0


def test_duplicate_messages_are_deleted_once(sqs: Any, queue: SqsQueue) -> None:
    queue.send(["a", "b"])
    messages = receive_all(queue, 2)
    calls: list[dict[str, Any]] = []
    client = FaultyClient(sqs, delete_message_batch=recorded(calls))

    failed = SqsQueue(client, queue.url).delete([*messages, messages[0], *messages])

    assert failed == []
    assert len(calls) == 1
    assert sorted(entry["Id"] for entry in calls[0]["Entries"]) == sorted(m.message_id for m in messages)
    assert messages_left(sqs, queue) == 0


def test_message_received_twice_is_deleted_with_its_latest_receipt_handle(sqs: Any, queue: SqsQueue) -> None:
    with freeze_time("2024-01-01 00:00:00") as clock:
        queue.send(["a"])
        (first,) = queue.receive(wait_seconds=0, visibility_seconds=30)
        clock.tick(31)
        (second,) = queue.receive(wait_seconds=0, visibility_seconds=30)
    calls: list[dict[str, Any]] = []
    client = FaultyClient(sqs, delete_message_batch=recorded(calls))

    failed = SqsQueue(client, queue.url).delete([first, second])

    assert failed == []
    assert calls[0]["Entries"] == [{"Id": second.message_id, "ReceiptHandle": second.receipt_handle}]
    assert first.receipt_handle != second.receipt_handle


def test_nothing_to_delete_makes_no_call(sqs: Any, queue: SqsQueue) -> None:
    calls = CallCounter().attach(sqs)

    assert queue.delete([]) == []
    assert calls["DeleteMessageBatch"] == 0


def test_entry_that_fails_once_is_sent_again_alone(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(5)])
    messages = receive_all(queue, 5)
    unlucky = messages[2]
    calls: list[dict[str, Any]] = []
    client = FaultyClient(sqs, delete_message_batch=recorded(calls, failing({unlucky.message_id}, times=1)))

    failed = SqsQueue(client, queue.url).delete(messages)

    assert failed == []
    assert [len(call["Entries"]) for call in calls] == [5, 1]
    assert calls[1]["Entries"] == [{"Id": unlucky.message_id, "ReceiptHandle": unlucky.receipt_handle}]
    assert messages_left(sqs, queue) == 0


def test_entry_that_always_fails_is_returned_after_bounded_resends(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(12)])
    messages = receive_all(queue, 12)
    stubborn = messages[11]  # in the second chunk of ten
    calls: list[dict[str, Any]] = []
    client = FaultyClient(sqs, delete_message_batch=recorded(calls, failing({stubborn.message_id}, times=99)))

    failed = SqsQueue(client, queue.url).delete(messages)

    assert failed == [stubborn]
    assert [len(call["Entries"]) for call in calls] == [10, 2, 1, 1]  # 1 + 2 resends, only the failed one
    assert messages_left(sqs, queue) == 1


def test_a_resend_failing_outright_leaves_only_its_own_entries_undeleted(sqs: Any, queue: SqsQueue) -> None:
    queue.send([f"body {n}" for n in range(12)])
    messages = receive_all(queue, 12)
    unlucky = messages[3]
    calls: list[dict[str, Any]] = []
    first_time_only = failing({unlucky.message_id}, times=1)

    def delete(real: Callable[..., Any], **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 2:  # the re-send of the one entry the first call could not delete
            raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "DeleteMessageBatch")
        return first_time_only(real, **kwargs)

    failed = SqsQueue(FaultyClient(sqs, delete_message_batch=delete), queue.url).delete(messages)

    assert failed == [unlucky], "the nine the first call deleted, and the next chunk, count as deleted"
    assert [len(call["Entries"]) for call in calls] == [10, 1, 2]
    assert messages_left(sqs, queue) == 1


def test_sender_fault_is_not_resent(sqs: Any, queue: SqsQueue) -> None:
    queue.send(["a", "b"])
    messages = receive_all(queue, 2)
    stale = QueueMessage(messages[0].message_id, "not-a-receipt-handle", messages[0].body)
    calls: list[dict[str, Any]] = []

    def sender_fault(real: Callable[..., Any], **kwargs: Any) -> Any:
        calls.append(kwargs)
        kept = [entry for entry in kwargs["Entries"] if entry["Id"] != stale.message_id]
        response = real(**{**kwargs, "Entries": kept})
        fault = {
            "Id": stale.message_id,
            "SenderFault": True,
            "Code": "ReceiptHandleIsInvalid",
            "Message": "x",
        }
        return {**response, "Failed": [fault]}

    failed = SqsQueue(FaultyClient(sqs, delete_message_batch=sender_fault), queue.url).delete(
        [stale, messages[1]]
    )

    assert failed == [stale]
    assert len(calls) == 1, "an entry the sender got wrong fails again whatever is resent"


def test_stale_receipt_handle_is_reported_not_deleted(sqs: Any, queue: SqsQueue) -> None:
    queue.send(["a"])
    (message,) = receive_all(queue, 1)
    stale = QueueMessage(message.message_id, "not-a-receipt-handle", message.body)

    failed = queue.delete([stale])

    assert failed == [stale]
    assert messages_left(sqs, queue) == 1


# --- send ------------------------------------------------------------------------------------------


def test_send_batches_of_ten(sqs: Any, queue: SqsQueue) -> None:
    calls = CallCounter().attach(sqs)
    bodies = [f"body {n}" for n in range(23)]

    rejected = queue.send(bodies)

    assert rejected == []
    assert calls["SendMessageBatch"] == 3
    assert sorted(message.body for message in receive_all(queue, 23)) == sorted(bodies)


def test_send_returns_the_bodies_sqs_refused(sqs: Any, queue: SqsQueue) -> None:
    def send(real: Callable[..., Any], **kwargs: Any) -> Any:
        refused = [e for e in kwargs["Entries"] if e["MessageBody"] == "refused"]
        accepted = [e for e in kwargs["Entries"] if e["MessageBody"] != "refused"]
        response = real(**{**kwargs, "Entries": accepted})
        failed = [{"Id": e["Id"], "SenderFault": True, "Code": "InvalidMessageContents"} for e in refused]
        return {**response, "Failed": failed}

    client = FaultyClient(sqs, send_message_batch=send)
    bodies = [*(f"body {n}" for n in range(11)), "refused"]

    rejected = SqsQueue(client, queue.url).send(bodies)

    assert rejected == ["refused"]
    assert messages_left(sqs, queue) == 11


# --- event shapes ----------------------------------------------------------------------------------


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:{QUEUE}",
        "awsRegion": REGION,
    }


def test_sqs_event_source_event_gives_its_messages_in_order() -> None:
    event = {"Records": [sqs_record("m-1", "first"), sqs_record("m-2", "second")]}

    assert messages_from_event(event) == [
        QueueMessage("m-1", "rh-m-1", "first"),
        QueueMessage("m-2", "rh-m-2", "second"),
    ]


@pytest.mark.parametrize(
    "body", [None, 5, b"{}", ["a"], {"Records": []}], ids=["null", "int", "bytes", "list", "dict"]
)
def test_event_record_whose_body_is_not_a_string_gives_an_empty_body_under_its_id(body: object) -> None:
    event = {"Records": [sqs_record("m-1", "first"), {**sqs_record("m-2", "x"), "body": body}]}

    assert messages_from_event(event) == [
        QueueMessage("m-1", "rh-m-1", "first"),
        QueueMessage("m-2", "rh-m-2", ""),
    ]


SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2024-01-01T00:10:00Z",
    "region": REGION,
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/acme_refresh"],
    "detail": {},
}


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        [],
        "Records",
        SCHEDULED_EVENT,
        {"Records": []},
        {"Records": "x"},
        {"Records": [{"eventSource": "aws:s3", "s3": {}}]},
        {"Records": [sqs_record("m-1", "a"), {"eventSource": "aws:sns"}]},
    ],
    ids=["empty", "none", "list", "string", "scheduled", "no-records", "records-string", "s3", "mixed"],
)
def test_other_events_give_no_messages(event: Any) -> None:
    assert messages_from_event(event) is None


def test_move_to_redrives_every_message_once(sqs: Any, queue: SqsQueue) -> None:
    target = SqsQueue(sqs, sqs.create_queue(QueueName="target")["QueueUrl"])
    queue.send([f"body {n}" for n in range(23)])

    moved, left = queue.move_to(target, limit=1000, wait_seconds=0)

    assert (moved, left) == (23, 0)
    assert queue.approximate_depth() == 0
    assert target.approximate_depth() == 23
    bodies = sorted(m.body for m in receive_all(target, 23))
    assert bodies == sorted(f"body {n}" for n in range(23))


def test_move_to_stops_at_the_limit(sqs: Any, queue: SqsQueue) -> None:
    target = SqsQueue(sqs, sqs.create_queue(QueueName="target")["QueueUrl"])
    queue.send([f"body {n}" for n in range(15)])

    moved, _ = queue.move_to(target, limit=12, wait_seconds=0)

    assert moved == 12
    assert target.approximate_depth() == 12
    assert queue.approximate_depth() == 3


def test_move_to_keeps_what_the_target_refused(sqs: Any, queue: SqsQueue) -> None:
    def refuse_first(real: Callable[..., Any], **kwargs: Any) -> Any:
        first, *rest = kwargs["Entries"]
        response = real(**{**kwargs, "Entries": rest})
        fault = {"Id": first["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
        return {**response, "Failed": [fault]}

    target_url = sqs.create_queue(QueueName="target")["QueueUrl"]
    target = SqsQueue(FaultyClient(sqs, send_message_batch=refuse_first), target_url)
    queue.send(["a", "b", "c"])

    moved, left = queue.move_to(target, limit=3, wait_seconds=0)

    assert (moved, left) == (2, 1)
    assert queue.approximate_depth() == 1, "the refused message stays in the dead-letter queue"
