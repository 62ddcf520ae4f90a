"""SQS: receiving in batches, deleting in batches (re-sending only failed entries), sending in batches."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.constants import SQS_MAX_BATCH, SQS_MAX_VISIBILITY_SECONDS
from streamalert.logger import context, get_logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LOGGER = get_logger(__name__)

_MAX_DELETE_RESENDS = 2


@dataclass(frozen=True, slots=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str


def messages_from_event(event: Any) -> list[QueueMessage] | None:
    """The messages of an SQS event-source invocation, or None for any other event (a schedule).

    A record whose body is not a string (``"body": null``) gives a message with an empty body, which
    every reader refuses: that one message is reported as failed, its neighbours are handled.
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return None
    if not all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records):
        return None
    return [_message_of_record(record) for record in records]


def _message_of_record(record: dict[str, Any]) -> QueueMessage:
    message_id = str(record.get("messageId", ""))
    body = record.get("body", "")
    if not isinstance(body, str):
        LOGGER.warning(
            "SQS record whose body is not a string: read as an empty body",
            extra=context(message_id=message_id, body_type=type(body).__name__),
        )
        body = ""
    return QueueMessage(message_id, record.get("receiptHandle", ""), body)


class SqsQueue:
    """One queue, addressed by URL."""

    def __init__(self, client: SQSClient, url: str) -> None:
        self._client = client
        self.url = url

    @classmethod
    def from_name(cls, client: SQSClient, name: str) -> SqsQueue:
        """The queue of that exact name (one GetQueueUrl call)."""
        return cls(client, client.get_queue_url(QueueName=name)["QueueUrl"])

    def receive(
        self, *, wait_seconds: int, visibility_seconds: float, max_messages: int = SQS_MAX_BATCH
    ) -> list[QueueMessage]:
        """Up to ``max_messages`` (1 to 10) messages, hidden from other consumers for ``visibility_seconds``
        (rounded up)."""
        visibility = min(SQS_MAX_VISIBILITY_SECONDS, max(1, math.ceil(visibility_seconds)))
        LOGGER.debug("Polling SQS", extra=context(queue=self.url, wait=wait_seconds, visibility=visibility))
        response = self._client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(SQS_MAX_BATCH, max(1, max_messages)),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility,
        )
        return [
            QueueMessage(message["MessageId"], message["ReceiptHandle"], message.get("Body", ""))
            for message in response.get("Messages", [])
        ]

    def delete(
        self, messages: Sequence[QueueMessage], may_call: Callable[[], bool] = lambda: True
    ) -> list[QueueMessage]:
        """Delete messages with DeleteMessageBatch, 10 a call; returns the ones that were not deleted.

        Entries that failed are sent again, only they, a bounded number of times. Once ``may_call()`` is
        false, or a call fails outright, what is not deleted yet is returned as it is (it will be received
        again): what earlier calls deleted stays counted as deleted.
        """
        unique = list({message.message_id: message for message in messages}.values())
        failed: list[QueueMessage] = []
        for start in range(0, len(unique), SQS_MAX_BATCH):
            if not may_call():
                return failed + unique[start:]
            try:
                failed.extend(self._delete_chunk(unique[start : start + SQS_MAX_BATCH], may_call))
            except (ClientError, BotoCoreError) as err:
                LOGGER.error(
                    "Deleting messages failed: they will be received again",
                    extra=context(error=str(err), not_deleted=len(unique) - start),
                )
                return failed + unique[start:]
        return failed

    def _delete_chunk(self, chunk: list[QueueMessage], may_call: Callable[[], bool]) -> list[QueueMessage]:
        """The chunk's messages not deleted. The first call failing outright raises (nothing of the chunk
        is known deleted); a re-send failing outright leaves only the entries it re-sent: the first call's
        deletes stand."""
        pending = chunk
        given_up: list[QueueMessage] = []
        for attempt in range(1 + _MAX_DELETE_RESENDS):
            if attempt and not may_call():
                break
            by_id = {message.message_id: message for message in pending}
            entries: list[Any] = [
                {"Id": message.message_id, "ReceiptHandle": message.receipt_handle} for message in pending
            ]
            try:
                response = self._client.delete_message_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError) as err:
                if not attempt:
                    raise
                LOGGER.error(
                    "Re-sending failed deletes failed: they will be received again",
                    extra=context(error=str(err), not_deleted=len(pending)),
                )
                break
            failures = [entry for entry in response.get("Failed", []) if entry.get("Id") in by_id]
            if failures:
                LOGGER.warning("Some SQS deletes failed", extra=context(failed=failures))
            # A sender fault (an expired receipt handle...) fails again whatever is resent
            given_up += [by_id[entry["Id"]] for entry in failures if entry.get("SenderFault")]
            pending = [by_id[entry["Id"]] for entry in failures if not entry.get("SenderFault")]
            if not pending:
                break
        return given_up + pending

    def send(self, bodies: Sequence[str]) -> list[str]:
        """Send message bodies with SendMessageBatch, 10 a call; returns the bodies that were not accepted."""
        return [bodies[index] for index in self._send_indexed(bodies)]

    def _send_indexed(self, bodies: Sequence[str]) -> list[int]:
        """Send the bodies, 10 a call; the indexes of those not accepted."""
        rejected: list[int] = []
        for start in range(0, len(bodies), SQS_MAX_BATCH):
            chunk = bodies[start : start + SQS_MAX_BATCH]
            entries: list[Any] = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)]
            response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
            rejected.extend(start + int(entry["Id"]) for entry in response.get("Failed", []))
        return rejected

    def approximate_depth(self) -> int:
        """Messages waiting plus messages in flight, as SQS approximates them."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def move_to(self, target: SqsQueue, limit: int, *, wait_seconds: int = 1) -> tuple[int, int]:
        """Move up to ``limit`` messages to ``target`` (a dead-letter queue's redrive): each is sent, then
        deleted here only once the target accepted it. Returns (moved, left behind)."""
        moved = left = 0
        while moved + left < limit:
            batch = self.receive(wait_seconds=wait_seconds, visibility_seconds=60)[: limit - moved - left]
            if not batch:
                break
            rejected = set(target._send_indexed([message.body for message in batch]))
            accepted = [message for index, message in enumerate(batch) if index not in rejected]
            not_deleted = self.delete(accepted)
            moved += len(accepted) - len(not_deleted)
            left += len(rejected) + len(not_deleted)
        return moved, left
