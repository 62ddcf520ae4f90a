"""The in-memory queue behaves as SQS does for everything the refresh relies on."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from benchmarks.memqueue import InMemorySqs


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sqs(clock: Clock) -> InMemorySqs:
    client = InMemorySqs(clock)
    client.create_queue(QueueName="q")
    return client


def url(sqs: InMemorySqs) -> str:
    return sqs.get_queue_url(QueueName="q")["QueueUrl"]


def send(sqs: InMemorySqs, count: int) -> None:
    for index in range(count):
        sqs.send_message(QueueUrl=url(sqs), MessageBody=f"body-{index}")


def test_received_messages_are_hidden_until_their_visibility_timeout(sqs: InMemorySqs, clock: Clock) -> None:
    send(sqs, 3)

    first = sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=10, VisibilityTimeout=30)
    hidden = sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=10, VisibilityTimeout=30)
    clock.now = 30
    again = sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=10, VisibilityTimeout=30)

    assert [m["Body"] for m in first["Messages"]] == ["body-0", "body-1", "body-2"]
    assert "Messages" not in hidden
    assert sorted(m["MessageId"] for m in again["Messages"]) == sorted(
        m["MessageId"] for m in first["Messages"]
    )


def test_receive_takes_at_most_ten_and_counts_calls(sqs: InMemorySqs) -> None:
    send(sqs, 25)

    sizes = [
        len(sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=10).get("Messages", []))
        for _ in range(4)
    ]

    assert sizes == [10, 10, 5, 0]
    assert sqs.calls["ReceiveMessage"] == 4


def test_only_the_latest_receipt_handle_deletes(sqs: InMemorySqs, clock: Clock) -> None:
    send(sqs, 1)
    old = sqs.receive_message(QueueUrl=url(sqs), VisibilityTimeout=1)["Messages"][0]
    clock.now = 2
    new = sqs.receive_message(QueueUrl=url(sqs), VisibilityTimeout=1)["Messages"][0]

    result = sqs.delete_message_batch(
        QueueUrl=url(sqs),
        Entries=[
            {"Id": "old", "ReceiptHandle": old["ReceiptHandle"]},
            {"Id": "new", "ReceiptHandle": new["ReceiptHandle"]},
        ],
    )

    assert [entry["Id"] for entry in result["Successful"]] == ["new"]
    assert [(entry["Id"], entry["Code"]) for entry in result["Failed"]] == [("old", "ReceiptHandleIsInvalid")]
    clock.now = 10
    assert "Messages" not in sqs.receive_message(QueueUrl=url(sqs))


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "ReceiptHandle": "h"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "ReceiptHandle": "h"}, {"Id": "a", "ReceiptHandle": "g"}], "BatchEntryIdsNotDistinct"),
    ],
)
def test_batches_are_refused_as_sqs_refuses_them(
    sqs: InMemorySqs, entries: list[dict[str, str]], code: str
) -> None:
    with pytest.raises(ClientError, match=code):
        sqs.delete_message_batch(QueueUrl=url(sqs), Entries=entries)


@pytest.mark.parametrize(
    "arguments", [{"MaxNumberOfMessages": 11}, {"VisibilityTimeout": -1}, {"WaitTimeSeconds": 21}]
)
def test_receive_arguments_out_of_range_are_refused(sqs: InMemorySqs, arguments: dict[str, int]) -> None:
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        sqs.receive_message(QueueUrl=url(sqs), **arguments)


def test_unknown_queue_is_an_error(sqs: InMemorySqs) -> None:
    with pytest.raises(ClientError, match="NonExistentQueue"):
        sqs.get_queue_url(QueueName="other")


def test_attributes_count_visible_and_in_flight_messages(sqs: InMemorySqs) -> None:
    send(sqs, 3)
    sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=2, VisibilityTimeout=30)

    attributes = sqs.get_queue_attributes(QueueUrl=url(sqs))["Attributes"]

    assert attributes == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "2"}
