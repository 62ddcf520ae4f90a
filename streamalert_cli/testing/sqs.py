"""One SQS standard queue and its dead-letter queue, in memory, for the tests and the benchmarks.

moto's queue slows down with its depth (quadratically: about 37 s to drain 1,000 messages), which would
measure the emulator, not the calls, and it runs on the real clock. This queue has the methods of the boto3
SQS client that the functions call, with the same arguments (validated against botocore's model, as a
client does before sending), answers and errors (``ClientError`` with SQS's codes):

- a received message is hidden for its visibility timeout and comes back after it, oldest sent first;
- every receive hands out a new receipt handle, and only the latest one deletes the message (a handle of
  a message already deleted deletes nothing and succeeds);
- a message received ``max_receive_count`` times moves to the dead-letter queue on its next receive;
- batches hold 1 to 10 entries with distinct ids; a long poll that finds nothing waits on the clock;
- every API call is counted by operation (``calls``); the helpers ``send``, ``take`` and ``delete`` are
  not API calls and are not counted;
- calls from several threads at once are safe (a drain with calls in flight): each works on the queue
  under one lock, a long poll's wait excepted.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from botocore.model import OperationModel, ServiceModel
from botocore.session import get_session
from botocore.validate import validate_parameters

from streamalert.constants import DEAD_LETTER_MAX_RECEIVE_COUNT, SQS_MAX_BATCH, SQS_MAX_VISIBILITY_SECONDS
from streamalert_cli.testing.calls import CallCounter
from streamalert_cli.testing.clock import Clock

QUEUE_URL_BASE = "https://sqs.us-east-1.amazonaws.com/123456789012/"
DEFAULT_VISIBILITY_SECONDS = 30
MAX_WAIT_SECONDS = 20


@cache
def _service_model(service: str) -> ServiceModel:
    return get_session().get_service_model(service)


def service_operation(service: str, operation: str) -> OperationModel:
    """The operation's model, loaded once (a client loads its service's when it is built)."""
    return _service_model(service).operation_model(operation)


def validate_request(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Refuse parameters that botocore would refuse before sending (``ParamValidationError``)."""
    shape = service_operation(service, operation).input_shape
    if shape is not None:
        validate_parameters(params, shape)


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _serialised(method: _Method) -> _Method:
    """The method, run under the queue's lock."""

    @wraps(method)
    def locked(self: InMemorySqs, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


def _error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class StoredMessage:
    """A message as the queue holds it; ``sequence`` orders messages by when they were sent."""

    message_id: str
    body: str
    sent_at: float
    sequence: int
    receive_count: int = 0
    receipt_handle: str = ""
    visible_at: float = 0.0


class InMemorySqs:
    """The queue ``name`` (created with the fake) behind the boto3 SQS client methods listed in
    ``OPERATIONS``; ``clock`` gives the time visibility timeouts run on and waits for long polls."""

    # Python method -> API operation, as a boto3 client's ``meta.method_to_api_mapping``
    OPERATIONS: Mapping[str, str] = {
        "create_queue": "CreateQueue",
        "get_queue_url": "GetQueueUrl",
        "send_message": "SendMessage",
        "send_message_batch": "SendMessageBatch",
        "receive_message": "ReceiveMessage",
        "delete_message_batch": "DeleteMessageBatch",
        "get_queue_attributes": "GetQueueAttributes",
    }

    def __init__(
        self,
        clock: Clock,
        name: str,
        *,
        max_receive_count: int | None = DEAD_LETTER_MAX_RECEIVE_COUNT,
        counter: CallCounter | None = None,
    ) -> None:
        self.clock = clock
        self.name = name
        self.url = QUEUE_URL_BASE + name
        self.max_receive_count = max_receive_count
        self.counter = counter if counter is not None else CallCounter()
        self.messages: dict[str, StoredMessage] = {}  # on the queue, visible or in flight
        self.dead_letters: dict[str, StoredMessage] = {}
        self.deleted_at: dict[str, float] = {}
        self.sent: dict[str, StoredMessage] = {}  # every message ever sent, by id
        self._visible: list[tuple[int, str]] = []  # heap of (sequence, message id)
        self._in_flight: list[tuple[float, int, str]] = []  # heap of (visible again at, handle number, id)
        self._handles = 0
        self._lock = threading.RLock()

    @property
    def calls(self) -> Counter[str]:
        """The API calls made so far, by operation."""
        return self.counter.calls

    # Helpers of tests and benchmarks: not API calls, not counted

    @_serialised
    def send(self, body: str) -> str:
        """Put a message on the queue; its id."""
        message = StoredMessage(f"msg-{len(self.sent):05d}", body, self.clock.now, len(self.sent))
        self.messages[message.message_id] = self.sent[message.message_id] = message
        heapq.heappush(self._visible, (message.sequence, message.message_id))
        return message.message_id

    @_serialised
    def take(self, count: int, visibility: int) -> list[StoredMessage]:
        """What a receive of ``count`` messages returns, the dead-letter redrive applied first (how an event
        source mapping takes a batch)."""
        if not 1 <= count <= SQS_MAX_BATCH:
            raise _error("ReceiveMessage", "InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10")
        if not 0 <= visibility <= SQS_MAX_VISIBILITY_SECONDS:
            raise _error("ReceiveMessage", "InvalidParameterValue", "VisibilityTimeout out of range")
        now = self.clock.now
        self._release(now)
        batch: list[StoredMessage] = []
        while self._visible and len(batch) < count:
            _, message_id = heapq.heappop(self._visible)
            message = self.messages.get(message_id)
            if message is None:  # deleted after it became visible again
                continue
            if self.max_receive_count is not None and message.receive_count >= self.max_receive_count:
                self.dead_letters[message_id] = self.messages.pop(message_id)
                continue
            self._handles += 1
            message.receive_count += 1
            message.receipt_handle = f"{message_id}#{self._handles}"
            message.visible_at = now + visibility
            heapq.heappush(self._in_flight, (message.visible_at, self._handles, message_id))
            batch.append(message)
        return batch

    @_serialised
    def delete(self, receipt_handle: str) -> bool:
        """Delete the message of its latest receipt handle; False for any other handle of a queued one."""
        message_id = receipt_handle.partition("#")[0]
        if message_id in self.deleted_at:
            return True
        message = self.messages.get(message_id)
        if message is None or message.receipt_handle != receipt_handle:
            return False
        del self.messages[message_id]
        self.deleted_at[message_id] = self.clock.now
        return True

    def has_deliverable(self, wanted: Callable[[StoredMessage], bool] = lambda _: True) -> bool:
        """Whether a message on the queue (visible or in flight) is ``wanted``."""
        return any(wanted(message) for message in self.messages.values())

    # The client's methods

    @_serialised
    def create_queue(self, **params: Any) -> dict[str, Any]:
        """The URL of this fake's queue (creating a queue is idempotent); it holds no other."""
        self._call("CreateQueue", params)
        if params["QueueName"] != self.name:
            raise ValueError(f"this in-memory SQS holds the one queue {self.name!r}")
        return {"QueueUrl": self.url}

    @_serialised
    def get_queue_url(self, **params: Any) -> dict[str, Any]:
        self._call("GetQueueUrl", params)
        if params["QueueName"] != self.name:
            raise _error("GetQueueUrl", "AWS.SimpleQueueService.NonExistentQueue", "queue does not exist")
        return {"QueueUrl": self.url}

    @_serialised
    def send_message(self, **params: Any) -> dict[str, Any]:
        self._call("SendMessage", params)
        return {"MessageId": self.send(params["MessageBody"])}

    @_serialised
    def send_message_batch(self, **params: Any) -> dict[str, Any]:
        self._call("SendMessageBatch", params)
        entries = params["Entries"]
        self._check_batch("SendMessageBatch", entries)
        successful = [{"Id": entry["Id"], "MessageId": self.send(entry["MessageBody"])} for entry in entries]
        return {"Successful": successful, "Failed": []}

    def receive_message(self, **params: Any) -> dict[str, Any]:
        """Up to ``MaxNumberOfMessages`` visible messages; an empty answer advances the clock by
        ``WaitTimeSeconds`` (nothing else sends while a test waits)."""
        with self._lock:
            self._call("ReceiveMessage", params)
            wait = params.get("WaitTimeSeconds", 0)
            if not 0 <= wait <= MAX_WAIT_SECONDS:
                raise _error("ReceiveMessage", "InvalidParameterValue", "WaitTimeSeconds out of range")
            batch = self.take(
                params.get("MaxNumberOfMessages", 1),
                params.get("VisibilityTimeout", DEFAULT_VISIBILITY_SECONDS),
            )
        if not batch:
            self.clock.advance(wait)
            return {}
        return {
            "Messages": [
                {"MessageId": m.message_id, "ReceiptHandle": m.receipt_handle, "Body": m.body} for m in batch
            ]
        }

    @_serialised
    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        self._call("DeleteMessageBatch", params)
        entries = params["Entries"]
        self._check_batch("DeleteMessageBatch", entries)
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            if self.delete(entry["ReceiptHandle"]):
                successful.append({"Id": entry["Id"]})
            else:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": "ReceiptHandleIsInvalid",
                        "Message": "not the latest receipt handle of a message on the queue",
                    }
                )
        return {"Successful": successful, "Failed": failed}

    @_serialised
    def get_queue_attributes(self, **params: Any) -> dict[str, Any]:
        """The visible and the in-flight message counts (whatever ``AttributeNames`` asks)."""
        self._call("GetQueueAttributes", params)
        now = self.clock.now
        visible = sum(1 for message in self.messages.values() if message.visible_at <= now)
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(len(self.messages) - visible),
            }
        }

    def _call(self, operation: str, params: Mapping[str, Any]) -> None:
        """What every API call does first: botocore's validation, the count, the queue's address."""
        validate_request("sqs", operation, params)
        self.counter.count(operation)
        if "QueueUrl" in params and params["QueueUrl"] != self.url:
            raise _error(
                operation, "AWS.SimpleQueueService.NonExistentQueue", f"no queue at {params['QueueUrl']}"
            )

    def _release(self, now: float) -> None:
        """Make visible again every message whose visibility timeout is over."""
        while self._in_flight and self._in_flight[0][0] <= now:
            _, handle, message_id = heapq.heappop(self._in_flight)
            message = self.messages.get(message_id)
            if message is not None and message.receipt_handle == f"{message_id}#{handle}":
                heapq.heappush(self._visible, (message.sequence, message_id))

    @staticmethod
    def _check_batch(operation: str, entries: list[dict[str, Any]]) -> None:
        if not entries:
            raise _error(operation, "AWS.SimpleQueueService.EmptyBatchRequest", "no entries")
        if len(entries) > SQS_MAX_BATCH:
            raise _error(operation, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "over 10")
        if len({entry["Id"] for entry in entries}) != len(entries):
            raise _error(operation, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "ids repeat")
