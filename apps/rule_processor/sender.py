"""Alerts onto the alerts queue: batches of up to 10 that SQS accepts, and the alerts it did not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.alerts import Alert
from streamalert.constants import SQS_MAX_BATCH, SQS_MAX_BATCH_BYTES
from streamalert.logger import context, get_logger
from streamalert.sqs import SqsQueue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LOGGER = get_logger(__name__)


@dataclass
class SendResult:
    """``failed`` may succeed on a retry of the invocation; ``too_large`` never fits a message (or cannot be
    written as JSON at all)."""

    sent: int = 0
    failed: list[Alert] = field(default_factory=list)
    too_large: list[Alert] = field(default_factory=list)


class AlertSender:
    """Sends alerts as JSON messages to the alerts queue, found by name once per warm container."""

    def __init__(
        self, sqs_client: SQSClient, queue_name: str, max_batch_bytes: int = SQS_MAX_BATCH_BYTES
    ) -> None:
        self._client = sqs_client
        self._queue_name = queue_name
        self._max_batch_bytes = max_batch_bytes
        self._queue: SqsQueue | None = None

    def send(self, alerts: Sequence[Alert]) -> SendResult:
        result = SendResult()
        if not alerts:
            return result
        batches = self._pack(alerts, result)
        try:
            queue = self._get_queue()
        except (ClientError, BotoCoreError) as err:
            LOGGER.error(
                "The alerts queue cannot be found", extra=context(queue=self._queue_name, error=str(err))
            )
            result.failed.extend(alert for batch in batches for alert, _body in batch)
            return result
        for batch in batches:
            try:
                rejected = set(queue.send([body for _alert, body in batch]))
            except (ClientError, BotoCoreError) as err:
                LOGGER.error("Sending alerts failed", extra=context(alerts=len(batch), error=str(err)))
                result.failed.extend(alert for alert, _body in batch)
                continue
            result.failed.extend(alert for alert, body in batch if body in rejected)
            result.sent += sum(1 for _alert, body in batch if body not in rejected)
        return result

    def _pack(self, alerts: Sequence[Alert], result: SendResult) -> list[list[tuple[Alert, str]]]:
        """Batches of at most 10 alerts and ``max_batch_bytes`` of bodies; an alert too large for any
        message is logged and left out."""
        batches: list[list[tuple[Alert, str]]] = []
        current: list[tuple[Alert, str]] = []
        size = 0
        for alert in alerts:
            try:
                body = alert.to_json()
            except (ValueError, RecursionError) as err:  # a record nested deeper than json can write
                LOGGER.error(
                    "Alert cannot be written as JSON: not sent",
                    extra=context(alert_id=alert.id, rule=alert.rule_name, error=repr(err)),
                )
                result.too_large.append(alert)
                continue
            body_bytes = len(body.encode("utf-8"))
            if body_bytes > self._max_batch_bytes:
                LOGGER.error(
                    "Alert too large for an SQS message: not sent",
                    extra=context(alert_id=alert.id, rule=alert.rule_name, bytes=body_bytes),
                )
                result.too_large.append(alert)
                continue
            if current and (len(current) == SQS_MAX_BATCH or size + body_bytes > self._max_batch_bytes):
                batches.append(current)
                current, size = [], 0
            current.append((alert, body))
            size += body_bytes
        if current:
            batches.append(current)
        return batches

    def _get_queue(self) -> SqsQueue:
        if self._queue is None:
            self._queue = SqsQueue.from_name(self._client, self._queue_name)
        return self._queue
