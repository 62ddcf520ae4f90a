"""The Athena Partition Refresh: drain the queue, register the partitions, then delete the messages."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.committer import CommitResult, PartitionCommitter, RunMemory
from apps.athena_refresh.drain import Chunk, DrainPace, QueueDrain
from apps.athena_refresh.plan import Need, Planner, RefreshPlan
from apps.athena_refresh.routing import SourceRouter
from config_schemas.lambda_config import ATHENA_BLOCK
from config_schemas.models import AthenaRefreshConfig, Config
from streamalert import aws, metrics
from streamalert.athena import AthenaQueryRunner
from streamalert.config import MissingBlockError
from streamalert.constants import (
    ATHENA_METRICS_NAMESPACE,
    ENV_RECEIVE_WAIT_SECONDS,
    SQS_MAX_IN_FLIGHT,
    athena_function_name,
    athena_queue_name,
    athena_workgroup_name,
)
from streamalert.deadline import Deadline, RunBudget
from streamalert.exceptions import StreamAlertError
from streamalert.glue import DatabaseNotFoundError, GlueCatalog
from streamalert.logger import context, get_logger
from streamalert.sqs import QueueMessage, SqsQueue

LOGGER = get_logger(__name__)


class SettingsError(StreamAlertError):
    """A run setting out of its range."""


# More calls in flight than this gain nothing against SQS's per-queue rates and cost memory and connections
MAX_CONCURRENCY = 64


@dataclass(frozen=True)
class RefreshSettings:
    """How a run spends its time (docs/athena_refresh.md, "How a scheduled run drains the queue").

    A scheduled run works in chunks of ``chunk_messages``: receive them, plan, commit what is new,
    delete what is committed, next chunk. ``concurrency`` receive or delete calls are in flight at once
    (1: one after the other). A chunk is received only while the run has time to commit and delete it:
    the first chunk's receiving leaves ``1 - receive_share`` of the run to the rest, the later ones keep
    what the run's earlier chunks took. The run stops at ``max_messages`` (below SQS's in-flight limit
    per queue), when the queue is empty, when it is out of time, or when a chunk could handle none of
    its messages. ``receive_wait_seconds`` is the long-poll wait of each receive (at most 2; tests use
    0). Everything stops with ``safety_margin_seconds`` left (a fifth of the run at most, never less
    than one attempt of an AWS call and the time to finish: ``RunBudget.for_run``). A run that starts
    with less than ``minimum_run_seconds`` does nothing."""

    receive_wait_seconds: int = 1
    max_messages: int = 100_000
    chunk_messages: int = 2_000
    concurrency: int = 32
    receive_share: float = 0.5
    safety_margin_seconds: float = 5.0
    minimum_run_seconds: float = 0.5

    def __post_init__(self) -> None:
        if not 0 <= self.receive_wait_seconds <= 2:
            raise SettingsError(
                f"the receive wait must be 0, 1 or 2 seconds, got {self.receive_wait_seconds}"
            )
        if not 1 <= self.max_messages < SQS_MAX_IN_FLIGHT:
            raise SettingsError(
                f"the message cap must be 1 to {SQS_MAX_IN_FLIGHT - 1} (a queue holds at most "
                f"{SQS_MAX_IN_FLIGHT} messages in flight), got {self.max_messages}"
            )
        if self.chunk_messages < 1:
            raise SettingsError(f"the chunk size must be positive, got {self.chunk_messages}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise SettingsError(
                f"the calls in flight must be 1 to {MAX_CONCURRENCY} (1: no pool), got {self.concurrency}"
            )
        if not 0 < self.receive_share < 1:
            raise SettingsError(f"the receive share must lie between 0 and 1, got {self.receive_share}")

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
        settings = settings or RefreshSettings()
        aws_settings = replace(
            aws.AwsSettings.for_function(config.account.region, block.timeout),
            max_pool_connections=max(10, settings.concurrency),
        )
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
        """Drain the queue chunk by chunk (receive, commit, delete what was committed) while time allows;
        a JSON-serialisable summary."""
        tally = RunTally()
        if not deadline.has(self._settings.minimum_run_seconds):
            LOGGER.warning("Too little time left to refresh: nothing done")
            return self._finish(tally)
        budget = self._start(deadline)
        if not budget.may_call():
            LOGGER.warning("Too little time left to refresh: nothing done")
            return self._finish(tally)
        self._check_database()
        settings = self._settings
        memory = RunMemory(self._catalog, budget)
        pace = DrainPace(first_share=1 - settings.receive_share)
        with QueueDrain.opened(self._get_queue(), settings.concurrency) as drain:
            more = True
            while more and tally.received < settings.max_messages:
                more = self._next_chunk(drain, budget=budget, memory=memory, pace=pace, tally=tally)
        return self._finish(tally)

    def _next_chunk(
        self, drain: QueueDrain, *, budget: RunBudget, memory: RunMemory, pace: DrainPace, tally: RunTally
    ) -> bool:
        """Receive a chunk, if the run has time to commit and delete it after, and drain it; False when
        the run stops here. The chunk's messages are gone when it returns: a run holds one chunk."""
        settings = self._settings
        limit = min(settings.chunk_messages, settings.max_messages - tally.received)
        remaining = budget.deadline.remaining_seconds()
        receiving = budget.reserving(pace.chunk_reserve(limit, remaining))
        if remaining <= receiving.margin:
            LOGGER.info("No time left for another chunk", extra=context(received=tally.received))
            return False
        chunk = drain.receive(
            limit, receiving, wait_seconds=settings.receive_wait_seconds, visibility=budget.hidden_seconds
        )
        pace.record_receive(chunk)
        if not chunk.messages:
            return False
        handled = self._drain_chunk(chunk, drain, budget=budget, memory=memory, pace=pace, tally=tally)
        return handled and not chunk.drained and not chunk.error

    def _drain_chunk(
        self,
        chunk: Chunk,
        drain: QueueDrain,
        *,
        budget: RunBudget,
        memory: RunMemory,
        pace: DrainPace,
        tally: RunTally,
    ) -> bool:
        """Commit the chunk, keeping time to delete it, then delete what is committed; False when the run
        should stop here: no message of the chunk could be handled (the catalog fails, or the chunk's
        tables cannot be read: the next chunk would fare the same), or no delete went through."""
        started = budget.deadline.remaining_seconds()
        count = len(chunk.messages)
        plan, result = self._commit(chunk.messages, budget.reserving(pace.delete_seconds(count)), memory)
        pace.record_commit(started - budget.deadline.remaining_seconds())
        handled = [p.message for p in plan.handled(memory.committed)]
        deleted = drain.delete(handled, budget) if handled else 0
        tally.add(plan, result, memory.committed, received=count, deleted=deleted)
        if not handled:
            LOGGER.error(
                "No message of the chunk could be handled: the run stops, the rest waits for the next run",
                extra=context(received=tally.received, chunk=count),
            )
            return False
        if not deleted:
            LOGGER.error("No delete went through: the run stops", extra=context(received=tally.received))
            return False
        return True

    def run_event_source(self, messages: Sequence[QueueMessage], deadline: Deadline) -> dict[str, Any]:
        """Process the messages that SQS handed over; report, never delete, those not fully handled."""
        budget = self._start(deadline)
        try:
            self._check_database()
        except (DatabaseNotFoundError, ClientError, BotoCoreError) as err:
            LOGGER.error("Every message is reported as failed", extra=context(error=str(err)))
            return _failures(messages)
        memory = RunMemory(self._catalog, budget)
        plan, result = self._commit(list(messages), budget, memory)
        failed = [p.message for p in plan.kept(memory.committed)]
        tally = RunTally()
        tally.add(plan, result, memory.committed, received=len(messages), deleted=len(messages) - len(failed))
        self._finish(tally)
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

    def _finish(self, tally: RunTally) -> dict[str, Any]:
        """Log the run's summary and write its metrics; the summary is what the handler returns."""
        summary = tally.summary()
        LOGGER.info("Refresh finished", extra=context(**summary))
        metrics.emit(
            ATHENA_METRICS_NAMESPACE,
            {"FunctionName": self._function_name},
            {
                "MessagesReceived": tally.received,
                "MessagesDeleted": tally.deleted,
                "MessagesKept": tally.received - tally.deleted,
                "PartitionsAdded": sum(tally.partitions_added.values()),
                "Failures": tally.failures,
            },
        )
        return summary

    def _check_database(self) -> None:
        if not self._database_checked:
            self._catalog.check_database()
            self._database_checked = True

    def _get_queue(self) -> SqsQueue:
        if self._queue is None:
            self._queue = SqsQueue.from_name(self._sqs_client, self._queue_name)
        return self._queue

    def _commit(
        self, messages: list[QueueMessage], budget: RunBudget, memory: RunMemory
    ) -> tuple[RefreshPlan, CommitResult]:
        """Plan the messages with the run's table metadata, then commit what no earlier chunk of the run
        committed; ``memory.committed`` then holds every partition the run committed. A table the run
        has no time to read keeps its messages, as one that cannot be read."""
        plan = Planner(self._router, memory.table).plan(messages)
        memory.drop_committed(plan)
        if not any(work.partitions for work in plan.work.values()):
            return plan, CommitResult()
        result = self._committer.commit(plan, budget)
        memory.committed |= result.done
        return plan, result


@dataclass
class RunTally:
    """A run's counts, added up chunk by chunk (no chunk's messages are kept)."""

    received: int = 0
    deleted: int = 0
    failures: int = 0
    partitions_added: Counter[str] = field(default_factory=Counter)
    tables_repaired: set[str] = field(default_factory=set)

    def add(
        self, plan: RefreshPlan, result: CommitResult, committed: set[Need], *, received: int, deleted: int
    ) -> None:
        self.received += received
        self.deleted += deleted
        unmet = sum(len(p.needs - committed) for p in plan.messages)
        self.failures += unmet + sum(1 for p in plan.messages if p.keep_reasons)
        self.partitions_added.update(result.partitions_added)
        self.tables_repaired.update(result.tables_repaired)

    def summary(self) -> dict[str, Any]:
        return {
            "messages_received": self.received,
            "messages_deleted": self.deleted,
            "messages_kept": self.received - self.deleted,
            "partitions_added": dict(sorted(self.partitions_added.items())),
            "tables_repaired": sorted(self.tables_repaired),
        }


def disabled_response(messages: Sequence[QueueMessage] | None) -> dict[str, Any]:
    """What a disabled function returns: nothing touched; handed-over messages reported back as failed."""
    LOGGER.info("Athena partition refresh is disabled in lambda.json: nothing done")
    if messages is None:
        return {"enabled": False}
    return _failures(messages)


def _failures(messages: Sequence[QueueMessage]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": message.message_id} for message in messages]}
