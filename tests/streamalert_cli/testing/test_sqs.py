"""The in-memory queue behaves as SQS does for everything the functions, the reliability tests and the
benchmarks rely on."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from streamalert_cli.testing.calls import CallCounter
from streamalert_cli.testing.clock import VirtualClock
from streamalert_cli.testing.sqs import InMemorySqs


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def sqs(clock: VirtualClock) -> InMemorySqs:
    client = InMemorySqs(clock, "q")
    client.create_queue(QueueName="q")
    return client


def url(sqs: InMemorySqs) -> str:
    return sqs.get_queue_url(QueueName="q")["QueueUrl"]


def send(sqs: InMemorySqs, count: int) -> None:
    for index in range(count):
        sqs.send_message(QueueUrl=url(sqs), MessageBody=f"body-{index}")


def test_received_messages_are_hidden_until_their_visibility_timeout(
    sqs: InMemorySqs, clock: VirtualClock
) -> None:
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


def test_only_the_latest_receipt_handle_deletes(sqs: InMemorySqs, clock: VirtualClock) -> None:
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


def test_a_message_received_max_receive_count_times_is_dead_lettered_on_its_next_receive(
    clock: VirtualClock,
) -> None:
    sqs = InMemorySqs(clock, "q", max_receive_count=2)
    kept = sqs.send("kept")
    received = []
    for _ in range(3):
        received.append(sqs.receive_message(QueueUrl=sqs.url, VisibilityTimeout=1).get("Messages", []))
        clock.advance(1)

    assert [len(batch) for batch in received] == [1, 1, 0]
    assert list(sqs.dead_letters) == [kept]
    assert sqs.messages == {}


def test_messages_come_back_oldest_sent_first(sqs: InMemorySqs, clock: VirtualClock) -> None:
    send(sqs, 3)
    [first] = sqs.receive_message(QueueUrl=url(sqs), VisibilityTimeout=5)["Messages"]
    clock.advance(5)

    again = sqs.receive_message(QueueUrl=url(sqs), MaxNumberOfMessages=10)["Messages"]

    assert [m["Body"] for m in again] == ["body-0", "body-1", "body-2"]
    assert again[0]["ReceiptHandle"] != first["ReceiptHandle"]


def test_a_handle_of_a_deleted_message_deletes_nothing_and_succeeds(sqs: InMemorySqs) -> None:
    send(sqs, 1)
    [message] = sqs.receive_message(QueueUrl=url(sqs))["Messages"]
    entries = [{"Id": "a", "ReceiptHandle": message["ReceiptHandle"]}]

    sqs.delete_message_batch(QueueUrl=url(sqs), Entries=entries)
    again = sqs.delete_message_batch(QueueUrl=url(sqs), Entries=entries)

    assert again == {"Successful": [{"Id": "a"}], "Failed": []}
    assert list(sqs.deleted_at) == [message["MessageId"]]


def test_an_empty_long_poll_waits_on_the_clock(sqs: InMemorySqs, clock: VirtualClock) -> None:
    assert sqs.receive_message(QueueUrl=url(sqs), WaitTimeSeconds=20) == {}
    assert clock.now == 20


@pytest.mark.parametrize(
    "arguments",
    [{"QueueUrl": 1}, {"MaxNumberOfMessages": "10"}, {"WaitSeconds": 1}],
    ids=["url not a string", "count not an integer", "unknown parameter"],
)
def test_parameters_botocore_refuses_are_refused_before_any_call(
    sqs: InMemorySqs, arguments: dict[str, object]
) -> None:
    with pytest.raises(ParamValidationError):
        sqs.receive_message(**{"QueueUrl": url(sqs), **arguments})

    assert sqs.calls["ReceiveMessage"] == 0


def test_calls_go_to_a_counter_shared_with_boto3_clients(clock: VirtualClock) -> None:
    counter = CallCounter()
    sqs = InMemorySqs(clock, "q", counter=counter)

    sqs.get_queue_url(QueueName="q")
    sqs.send_message_batch(QueueUrl=sqs.url, Entries=[{"Id": "0", "MessageBody": "b"}])
    sqs.send("not an API call")

    assert counter.sequence == ["GetQueueUrl", "SendMessageBatch"]
    assert sqs.calls == {"GetQueueUrl": 1, "SendMessageBatch": 1}


def test_calls_from_many_threads_hand_out_every_message_once(sqs: InMemorySqs) -> None:
    """A drain with calls in flight: sixteen threads receiving and deleting at once."""
    for index in range(2_000):
        sqs.send(f"body-{index}")

    def drain() -> list[str]:
        taken: list[str] = []
        while True:
            answer = sqs.receive_message(QueueUrl=sqs.url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            messages = answer.get("Messages", [])
            if not messages:
                return taken
            entries = [{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages]
            assert not sqs.delete_message_batch(QueueUrl=sqs.url, Entries=entries)["Failed"]
            taken += [m["MessageId"] for m in messages]

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads swap often: a call not under the lock would be interrupted
    try:
        with ThreadPoolExecutor(16) as pool:
            threads = [pool.submit(drain) for _ in range(16)]
            taken = [message for thread in threads for message in thread.result()]
    finally:
        sys.setswitchinterval(switch)

    assert sorted(taken) == sorted(sqs.sent), "every message received once and deleted"
    assert not sqs.messages
    assert sqs.calls["DeleteMessageBatch"] == 200
