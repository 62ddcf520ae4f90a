"""The Athena Partition Refresh: drain the queue, register the partitions, then delete the messages."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.committer import CommitResult, PartitionCommitter
from apps.athena_refresh.plan import Planner, RefreshPlan
from apps.athena_refresh.routing import SourceRouter
from config_schemas.lambda_config import ATHENA_BLOCK
from config_schemas.models import AthenaRefreshConfig, Config
from streamalert import aws, metrics
from streamalert.athena import AthenaQueryRunner
from streamalert.config import MissingBlockError
from streamalert.constants import (
    ATHENA_METRICS_NAMESPACE,
    ENV_RECEIVE_WAIT_SECONDS,
    athena_function_name,
    athena_queue_name,
    athena_workgroup_name,
)
from streamalert.deadline import Deadline, RunBudget
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
    is spent; everything stops with ``safety_margin_seconds`` left (a fifth of the run at most, never less
    than one attempt of an AWS call and the time to finish: ``RunBudget.for_run``). A run that starts with
    less than ``minimum_run_seconds`` does nothing."""

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

    def fitted(self, clients: aws.AwsSettings) -> RefreshSettings:
        """These settings with a receive wait whose long poll answers within the clients' read timeout
        (a short function's clients read for less than a second: its receives do not wait)."""
        return replace(
            self, receive_wait_seconds=min(self.receive_wait_seconds, clients.longest_poll_seconds)
        )

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
        guard: aws.CallGuard | None = None,
        attempt_seconds: float = 0.0,
    ) -> None:
        self._queue_name = queue_name
        self._function_name = function_name
        self._sqs_client = sqs_client
        self._queue: SqsQueue | None = None
        self._catalog = catalog
        self._router = router
        self._settings = settings
        self._guard = guard
        self._attempt_seconds = attempt_seconds
        self._committer = PartitionCommitter(catalog, athena)
        self._database_checked = False

    @classmethod
    def build(
        cls,
        block: AthenaRefreshConfig,
        *,
        prefix: str,
        sqs: Any,
        glue: Any,
        athena: Any,
        settings: RefreshSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        guard: aws.CallGuard | None = None,
        attempt_seconds: float = 0.0,
        client_settings: aws.AwsSettings | None = None,
    ) -> PartitionRefresher:
        """The refresher of a deployment's block on these clients: the one place its parts are wired.
        ``client_settings``, the clients' own, decide how long an attempt may take and how long a poll
        may wait (``attempt_seconds`` stands for them when the clients are not the factory's)."""
        settings = settings or RefreshSettings()
        if client_settings is not None:
            settings = settings.fitted(client_settings)
            attempt_seconds = client_settings.attempt_seconds
        return cls(
            queue_name=athena_queue_name(prefix),
            function_name=athena_function_name(prefix),
            sqs_client=sqs,
            catalog=GlueCatalog(glue, block.database_name),
            athena=AthenaQueryRunner(
                athena,
                block.database_name,
                f"s3://{block.results_bucket}/refresh/",
                workgroup=athena_workgroup_name(prefix),
                sleep=sleep,
            ),
            router=SourceRouter(block.routes),
            settings=settings,
            guard=guard,
            attempt_seconds=attempt_seconds,
        )

    @classmethod
    def from_config(cls, config: Config, settings: RefreshSettings | None = None) -> PartitionRefresher:
        """The refresher of a deployment, with clients from the one factory fitted to the function's
        timeout, every attempt of their calls kept inside the run."""
        block = config.athena_refresh
        if block is None:
            raise MissingBlockError(ATHENA_BLOCK)
        aws_settings = aws.AwsSettings.for_function(config.account.region, block.timeout)
        clients = (
            aws.sqs_client(aws_settings),
            aws.glue_client(aws_settings),
            aws.athena_client(aws_settings),
        )
        guard = aws.CallGuard()
        guard.attach(*clients)
        sqs, glue, athena = clients
        return cls.build(
            block,
            prefix=config.account.prefix,
            sqs=sqs,
            glue=glue,
            athena=athena,
            settings=settings,
            guard=guard,
            client_settings=aws_settings,
        )

    def run_scheduled(self, deadline: Deadline) -> dict[str, Any]:
        """Drain the queue, commit, delete what was committed; a JSON-serialisable summary."""
        if not deadline.has(self._settings.minimum_run_seconds):
            LOGGER.warning("Too little time left to refresh: nothing done")
            return self._finish(0, 0, RefreshPlan(messages=[]), CommitResult())
        budget = self._start(deadline)
        if not budget.may_call():
            LOGGER.warning("Too little time left to refresh: nothing done")
            return self._finish(0, 0, RefreshPlan(messages=[]), CommitResult())
        self._check_database()
        queue = self._get_queue()
        started = deadline.remaining_seconds()
        messages, receives = self._drain(queue, budget)
        # keep time to delete what is committed: as many calls as receiving made, each as long
        per_call = (started - deadline.remaining_seconds()) / max(1, receives)
        plan, result = self._commit(messages, budget.reserving(per_call * math.ceil(len(messages) / 10)))
        deleted = self._delete(queue, [p.message for p in plan.handled(result.done)], budget)
        return self._finish(len(messages), deleted, plan, result)

    def run_event_source(self, messages: Sequence[QueueMessage], deadline: Deadline) -> dict[str, Any]:
        """Process the messages that SQS handed over; report, never delete, those not fully handled."""
        budget = self._start(deadline)
        try:
            self._check_database()
        except (DatabaseNotFoundError, ClientError, BotoCoreError) as err:
            LOGGER.error("Every message is reported as failed", extra=context(error=str(err)))
            return _failures(messages)
        plan, result = self._commit(list(messages), budget)
        failed = [p.message for p in plan.kept(result.done)]
        self._finish(len(messages), len(messages) - len(failed), plan, result)
        return _failures(failed)

    def _start(self, deadline: Deadline) -> RunBudget:
        """The run's budget, also the one that every attempt of every call is held to."""
        budget = RunBudget.for_run(
            deadline,
            safety_seconds=self._settings.safety_margin_seconds,
            attempt_seconds=self._attempt_seconds,
        )
        if self._guard is not None:
            self._guard.budget = budget
        return budget

    def _finish(self, received: int, handled: int, plan: RefreshPlan, result: CommitResult) -> dict[str, Any]:
        """Log the run's summary and write its metrics; the summary is what the handler returns."""
        summary = _summary(received, handled, result)
        LOGGER.info("Refresh finished", extra=context(**summary))
        unmet = sum(len(p.needs - result.done) for p in plan.messages)
        unreadable = sum(1 for p in plan.messages if p.keep_reasons)
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
    def _delete(queue: SqsQueue, messages: list[QueueMessage], budget: RunBudget) -> int:
        """Delete what was committed; how many really went. A message not deleted is only received again."""
        if not messages:
            return 0
        return len(messages) - len(queue.delete(messages, budget.may_call))

    def _check_database(self) -> None:
        if not self._database_checked:
            self._catalog.check_database()
            self._database_checked = True

    def _get_queue(self) -> SqsQueue:
        if self._queue is None:
            self._queue = SqsQueue.from_name(self._sqs_client, self._queue_name)
        return self._queue

    def _drain(self, queue: SqsQueue, budget: RunBudget) -> tuple[list[QueueMessage], int]:
        """The messages received, and how many receive calls it took. Receiving leaves the run's
        ``1 - receive_share`` to the phases after it."""
        settings = self._settings
        receiving = budget.reserving(budget.deadline.remaining_seconds() * (1 - settings.receive_share))
        messages: dict[str, QueueMessage] = {}
        receives = 0
        while len(messages) < settings.max_messages and receiving.may_call():
            receives += 1
            # a long poll never waits past the end of the receiving phase
            wait = int(receiving.wait_seconds(settings.receive_wait_seconds))
            try:
                batch = queue.receive(wait_seconds=wait, visibility_seconds=budget.hidden_seconds())
            except (ClientError, BotoCoreError) as err:
                LOGGER.error("Receiving failed: committing what was received", extra=context(error=str(err)))
                break
            if not batch:
                break
            messages.update((message.message_id, message) for message in batch)
        return list(messages.values()), receives

    def _commit(self, messages: list[QueueMessage], budget: RunBudget) -> tuple[RefreshPlan, CommitResult]:
        """Plan the messages with table metadata read once this run (a schema change is seen by the next
        run), then commit the plan. A table read starts only with time for it: a table the run has no
        time to read keeps its messages, as one that cannot be read."""
        tables: dict[str, TableInfo] = {}

        def table(name: str) -> TableInfo:
            if name not in tables:
                if not budget.may_call():
                    raise aws.NoTimeForCallError(event_name=f"GetTable of table {name!r}")
                tables[name] = self._catalog.get_table(name)
            return tables[name]

        plan = Planner(self._router, table).plan(messages)
        if not any(work.partitions for work in plan.work.values()):
            return plan, CommitResult()
        return plan, self._committer.commit(plan, budget)


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
