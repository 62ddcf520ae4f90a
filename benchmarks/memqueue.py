"""An in-memory SQS standard queue that counts its calls: moto's queue slows down with its depth
(quadratically: about 37 s to drain 1,000 messages), which would measure the emulator, not the calls.

It has the methods of the boto3 SQS client that the refresh calls, with the same arguments, answers
and errors (``ClientError`` with SQS's codes): a received message is hidden for its visibility timeout
and comes back after it; every receive hands out a new receipt handle and only the latest deletes the
message; batches hold 1 to 10 entries with distinct ids.
"""

from __future__ import annotations

import heapq
import itertools
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from streamalert.constants import SQS_MAX_BATCH, SQS_MAX_VISIBILITY_SECONDS

QUEUE_URL_BASE = "https://sqs.us-east-1.amazonaws.com/123456789012/"
DEFAULT_VISIBILITY_SECONDS = 30
MAX_WAIT_SECONDS = 20


def _error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class _Message:
    message_id: str
    body: str
    receipt_handle: str | None = None
    receive_count: int = 0
    flight: int | None = None  # while in flight: its number in the in-flight heap


class _Queue:
    def __init__(self) -> None:
        self.messages: dict[str, _Message] = {}
        self.by_handle: dict[str, str] = {}  # latest receipt handle -> message id
        self.visible: deque[str] = deque()
        self.in_flight: list[tuple[float, int, str]] = []  # heap of (visible again at, flight, id)
        self.flights = itertools.count()

    def release_expired(self, now: float) -> None:
        """Make visible again every message whose visibility timeout is over."""
        while self.in_flight and self.in_flight[0][0] <= now:
            _, flight, message_id = heapq.heappop(self.in_flight)
            message = self.messages.get(message_id)
            if message is not None and message.flight == flight:
                message.flight = None
                self.visible.append(message_id)

    def take(self, message: _Message, now: float, visibility: int) -> dict[str, Any]:
        """Hide a message for ``visibility`` seconds under a new receipt handle."""
        if message.receipt_handle is not None:
            self.by_handle.pop(message.receipt_handle, None)
        message.receipt_handle = uuid.uuid4().hex
        self.by_handle[message.receipt_handle] = message.message_id
        message.receive_count += 1
        message.flight = next(self.flights)
        heapq.heappush(self.in_flight, (now + visibility, message.flight, message.message_id))
        return {
            "MessageId": message.message_id,
            "ReceiptHandle": message.receipt_handle,
            "Body": message.body,
        }

    def delete(self, receipt_handle: str) -> bool:
        """Delete the message of its latest receipt handle; False for any other handle."""
        message_id = self.by_handle.pop(receipt_handle, None)
        if message_id is None:
            return False
        del self.messages[message_id]
        return True


class InMemorySqs:
    """The SQS client methods of a refresh, on queues held in memory; ``calls`` counts them by operation."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls: Counter[str] = Counter()
        self._clock = clock
        self._queues: dict[str, _Queue] = {}

    def create_queue(self, *, QueueName: str, **_: Any) -> dict[str, Any]:
        self.calls["CreateQueue"] += 1
        url = QUEUE_URL_BASE + QueueName
        self._queues.setdefault(url, _Queue())
        return {"QueueUrl": url}

    def get_queue_url(self, *, QueueName: str, **_: Any) -> dict[str, Any]:
        self.calls["GetQueueUrl"] += 1
        url = QUEUE_URL_BASE + QueueName
        if url not in self._queues:
            raise _error("GetQueueUrl", "AWS.SimpleQueueService.NonExistentQueue", "queue does not exist")
        return {"QueueUrl": url}

    def send_message(self, *, QueueUrl: str, MessageBody: str, **_: Any) -> dict[str, Any]:
        self.calls["SendMessage"] += 1
        return {"MessageId": self._add(self._queue("SendMessage", QueueUrl), MessageBody)}

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["SendMessageBatch"] += 1
        queue = self._queue("SendMessageBatch", QueueUrl)
        self._check_batch("SendMessageBatch", Entries)
        successful = [
            {"Id": entry["Id"], "MessageId": self._add(queue, entry["MessageBody"])} for entry in Entries
        ]
        return {"Successful": successful, "Failed": []}

    def receive_message(
        self,
        *,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        VisibilityTimeout: int = DEFAULT_VISIBILITY_SECONDS,
        WaitTimeSeconds: int = 0,
        **_: Any,
    ) -> dict[str, Any]:
        """Up to ``MaxNumberOfMessages`` visible messages; never waits (an empty queue answers at once)."""
        self.calls["ReceiveMessage"] += 1
        queue = self._queue("ReceiveMessage", QueueUrl)
        if not 1 <= MaxNumberOfMessages <= SQS_MAX_BATCH:
            raise _error("ReceiveMessage", "InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10")
        if not 0 <= VisibilityTimeout <= SQS_MAX_VISIBILITY_SECONDS:
            raise _error("ReceiveMessage", "InvalidParameterValue", "VisibilityTimeout out of range")
        if not 0 <= WaitTimeSeconds <= MAX_WAIT_SECONDS:
            raise _error("ReceiveMessage", "InvalidParameterValue", "WaitTimeSeconds out of range")
        now = self._clock()
        queue.release_expired(now)
        received: list[dict[str, Any]] = []
        while queue.visible and len(received) < MaxNumberOfMessages:
            message = queue.messages.get(queue.visible.popleft())
            if message is not None:  # None: deleted after it became visible again
                received.append(queue.take(message, now, VisibilityTimeout))
        return {"Messages": received} if received else {}

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["DeleteMessageBatch"] += 1
        queue = self._queue("DeleteMessageBatch", QueueUrl)
        self._check_batch("DeleteMessageBatch", Entries)
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in Entries:
            if queue.delete(entry["ReceiptHandle"]):
                successful.append({"Id": entry["Id"]})
            else:
                failed.append(
                    {"Id": entry["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": ""}
                )
        return {"Successful": successful, "Failed": failed}

    def get_queue_attributes(self, *, QueueUrl: str, **_: Any) -> dict[str, Any]:
        self.calls["GetQueueAttributes"] += 1
        queue = self._queue("GetQueueAttributes", QueueUrl)
        queue.release_expired(self._clock())
        visible = sum(1 for message in queue.messages.values() if message.flight is None)
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(len(queue.messages) - visible),
            }
        }

    def _queue(self, operation: str, url: str) -> _Queue:
        queue = self._queues.get(url)
        if queue is None:
            raise _error(operation, "AWS.SimpleQueueService.NonExistentQueue", f"no queue at {url}")
        return queue

    @staticmethod
    def _check_batch(operation: str, entries: list[dict[str, Any]]) -> None:
        if not entries:
            raise _error(operation, "AWS.SimpleQueueService.EmptyBatchRequest", "no entries")
        if len(entries) > SQS_MAX_BATCH:
            raise _error(operation, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "over 10")
        if len({entry["Id"] for entry in entries}) != len(entries):
            raise _error(operation, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "ids repeat")

    @staticmethod
    def _add(queue: _Queue, body: str) -> str:
        message_id = str(uuid.uuid4())
        queue.messages[message_id] = _Message(message_id, body)
        queue.visible.append(message_id)
        return message_id
