"""The Athena Partition Refresh: drain the queue, register the partitions, then delete the messages."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.committer import CommitResult, PartitionCommitter
from apps.athena_refresh.plan import Planner, RefreshPlan
from apps.athena_refresh.routing import SourceRouter
from config_schemas.models import Config
from streamalert import aws, metrics
from streamalert.athena import AthenaQueryRunner
from streamalert.constants import (
    ATHENA_METRICS_NAMESPACE,
    ENV_RECEIVE_WAIT_SECONDS,
    athena_function_name,
    athena_queue_name,
    athena_workgroup_name,
)
from streamalert.deadline import Deadline
from streamalert.exceptions import StreamAlertError
from streamalert.glue import DatabaseNotFoundError, GlueCatalog, TableInfo
from streamalert.logger import context, get_logger
from streamalert.sqs import QueueMessage, SqsQueue

LOGGER = get_logger(__name__)


class SettingsError(StreamAlertError):
    """A run setting out of its range."""


@dataclass(frozen=True)
class RefreshSettings:
    """How a run spends its time. ``receive_wait_seconds`` is the long-poll wait of each receive (at most 2;
    tests use 0). Receiving stops after ``max_messages``, or once only ``receive_share`` of the run's time
    is spent; everything stops with ``safety_margin_seconds`` left (a fifth of the run at most). A run that
    starts with less than ``minimum_run_seconds`` does nothing."""

    receive_wait_seconds: int = 1
    max_messages: int = 5000
    receive_share: float = 0.5
    safety_margin_seconds: float = 5.0
    minimum_run_seconds: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.receive_wait_seconds <= 2:
            raise SettingsError(
                f"the receive wait must be 0, 1 or 2 seconds, got {self.receive_wait_seconds}"
            )
        if self.max_messages < 1:
            raise SettingsError(f"the message cap must be positive, got {self.max_messages}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RefreshSettings:
        """Settings with the receive wait of ``STREAMALERT_RECEIVE_WAIT_SECONDS`` when it is set."""
        value = environ.get(ENV_RECEIVE_WAIT_SECONDS, "").strip()
        if not value:
            return cls()
        if not value.isdigit():
            raise SettingsError(f"{ENV_RECEIVE_WAIT_SECONDS} must be 0, 1 or 2, got {value!r}")
        return cls(receive_wait_seconds=int(value))


class PartitionRefresher:
    """Turns S3 notifications into partitions. Receives its clients; loads nothing itself."""

    def __init__(
        self,
        *,
        queue_name: str,
        function_name: str = "athena_partition_refresh",
        sqs_client: Any,
        catalog: GlueCatalog,
        athena: AthenaQueryRunner,
        router: SourceRouter,
        settings: RefreshSettings,
    ) -> None:
        self._queue_name = queue_name
        self._function_name = function_name
        self._sqs_client = sqs_client
        self._queue: SqsQueue | None = None
        self._catalog = catalog
        self._router = router
        self._settings = settings
        self._committer = PartitionCommitter(catalog, athena, catalog.database)
        self._tables: dict[str, TableInfo] = {}
        self._database_checked = False

    @classmethod
    def from_config(cls, config: Config, settings: RefreshSettings | None = None) -> PartitionRefresher:
        """Wire the refresher of a deployment with clients from the one factory."""
        block = config.athena_refresh
        if block is None:
            raise ValueError("lambda.json has no athena_partition_refresh_config block")
        settings = settings or RefreshSettings()
        aws_settings = aws.AwsSettings(region=config.account.region)
        catalog = GlueCatalog(aws.glue_client(aws_settings), block.database_name)
        athena = AthenaQueryRunner(
            aws.athena_client(aws_settings),
            block.database_name,
            f"s3://{block.results_bucket}/refresh/",
            workgroup=athena_workgroup_name(config.account.prefix),
            safety_margin_seconds=settings.safety_margin_seconds,
        )
        return cls(
            queue_name=athena_queue_name(config.account.prefix),
            function_name=athena_function_name(config.account.prefix),
            sqs_client=aws.sqs_client(aws_settings),
            catalog=catalog,
            athena=athena,
            router=SourceRouter(block.routes),
            settings=settings,
        )

    def run_scheduled(self, deadline: Deadline) -> dict[str, Any]:
        """Drain the queue, commit, delete what was committed; a JSON-serialisable summary."""
        if not deadline.has(self._settings.minimum_run_seconds):
            LOGGER.warning("Too little time left to refresh: nothing done")
            return self._finish(0, 0, RefreshPlan(messages=[]), CommitResult())
        margin = self._margin(deadline)
        self._check_database()
        queue = self._get_queue()
        started = deadline.remaining_seconds()
        messages, receives = self._drain(queue, deadline, margin)
        # keep time to delete what is committed: as many calls as receiving made, each as long
        per_call = (started - deadline.remaining_seconds()) / max(1, receives)
        plan, result = self._commit(messages, deadline, margin + per_call * math.ceil(len(messages) / 10))
        deletable = [p.message for p in plan.messages if p.deletable_alone and p.needs <= result.done]
        deleted = self._delete(queue, deletable, lambda: deadline.has(margin))
        return self._finish(len(messages), deleted, plan, result)

    def run_event_source(self, messages: Sequence[QueueMessage], deadline: Deadline) -> dict[str, Any]:
        """Process the messages that SQS handed over; report, never delete, those not fully handled."""
        try:
            self._check_database()
        except (DatabaseNotFoundError, ClientError, BotoCoreError) as err:
            LOGGER.error("Every message is reported as failed", extra=context(error=str(err)))
            return _failures(messages)
        plan, result = self._commit(list(messages), deadline, self._margin(deadline))
        failed = [p.message for p in plan.messages if not (p.deletable_alone and p.needs <= result.done)]
        self._finish(len(messages), len(messages) - len(failed), plan, result)
        return _failures(failed)

    def _finish(self, received: int, handled: int, plan: RefreshPlan, result: CommitResult) -> dict[str, Any]:
        """Log the run's summary and write its metrics; the summary is what the handler returns."""
        summary = _summary(received, handled, result)
        LOGGER.info("Refresh finished", extra=context(**summary))
        unmet = sum(len(p.needs - result.done) for p in plan.messages)
        unreadable = sum(1 for p in plan.messages if not p.deletable_alone)
        metrics.emit(
            ATHENA_METRICS_NAMESPACE,
            {"FunctionName": self._function_name},
            {
                "MessagesReceived": received,
                "MessagesDeleted": handled,
                "MessagesKept": received - handled,
                "PartitionsAdded": sum(result.partitions_added.values()),
                "Failures": unmet + unreadable,
            },
        )
        return summary

    @staticmethod
    def _delete(queue: SqsQueue, messages: list[QueueMessage], time_left: Callable[[], bool]) -> int:
        """Delete what was committed; how many went. A message not deleted is only received again."""
        if not messages:
            return 0
        try:
            return len(messages) - len(queue.delete(messages, time_left))
        except (ClientError, BotoCoreError) as err:
            LOGGER.error(
                "Deleting messages failed: they will be received again", extra=context(error=str(err))
            )
            return 0

    def _check_database(self) -> None:
        if not self._database_checked:
            self._catalog.check_database()
            self._database_checked = True

    def _get_queue(self) -> SqsQueue:
        if self._queue is None:
            self._queue = SqsQueue.from_name(self._sqs_client, self._queue_name)
        return self._queue

    def _margin(self, deadline: Deadline) -> float:
        """The run's safety margin, taken once at its start: at most a fifth of the run, so that functions
        whose whole timeout is a few seconds still work."""
        return min(self._settings.safety_margin_seconds, deadline.remaining_seconds() * 0.2)

    def _drain(self, queue: SqsQueue, deadline: Deadline, margin: float) -> tuple[list[QueueMessage], int]:
        """The messages received, and how many receive calls it took."""
        settings = self._settings
        stop_at = margin + deadline.remaining_seconds() * (1 - settings.receive_share)
        messages: dict[str, QueueMessage] = {}
        receives = 0
        while len(messages) < settings.max_messages and deadline.has(stop_at):
            receives += 1
            # a long poll never waits past the end of the receiving phase
            wait = max(0, min(settings.receive_wait_seconds, int(deadline.remaining_seconds() - stop_at)))
            try:
                batch = queue.receive(
                    wait_seconds=wait,
                    visibility_seconds=deadline.remaining_seconds() + settings.safety_margin_seconds,
                )
            except (ClientError, BotoCoreError) as err:
                LOGGER.error("Receiving failed: committing what was received", extra=context(error=str(err)))
                break
            if not batch:
                break
            messages.update((message.message_id, message) for message in batch)
        return list(messages.values()), receives

    def _commit(
        self, messages: list[QueueMessage], deadline: Deadline, margin: float
    ) -> tuple[RefreshPlan, CommitResult]:
        plan = Planner(self._router, self._table_info).plan(messages)
        if not plan.partitions and not plan.repairs:
            return plan, CommitResult()
        return plan, self._committer.commit(plan, deadline, margin)

    def _table_info(self, table: str) -> TableInfo:
        if table not in self._tables:
            self._tables[table] = self._catalog.get_table(table)
        return self._tables[table]


def _summary(received: int, deleted: int, result: CommitResult) -> dict[str, Any]:
    return {
        "messages_received": received,
        "messages_deleted": deleted,
        "messages_kept": received - deleted,
        "partitions_added": dict(sorted(result.partitions_added.items())),
        "tables_repaired": sorted(set(result.tables_repaired)),
    }


def disabled_response(messages: Sequence[QueueMessage] | None) -> dict[str, Any]:
    """What a disabled function returns: nothing touched; handed-over messages reported back as failed."""
    LOGGER.info("Athena partition refresh is disabled in lambda.json: nothing done")
    if messages is None:
        return {"enabled": False}
    return _failures(messages)


def _failures(messages: Sequence[QueueMessage]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": message.message_id} for message in messages]}
