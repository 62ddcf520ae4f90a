"""From received messages to what must be committed: each message's needs, or why it must stay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.routing import SourceRouter
from config_schemas.models import RefreshType
from streamalert.glue import TableInfo, TableNotFoundError
from streamalert.logger import context, get_logger
from streamalert.partitions import (
    Partition,
    PartitionKeyError,
    check_repairable,
    check_under_table,
    conform_to_table,
    partition_from_key,
)
from streamalert.s3_events import NotificationError, read_notification
from streamalert.sqs import QueueMessage

LOGGER = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Need:
    """One thing a message waits for: a partition of a table, registered at its folder."""

    table: str
    partition: Partition


_NO_NEEDS: frozenset[Need] = frozenset()


@dataclass(slots=True)
class PlannedMessage:
    """A message and what it waits for. ``needs`` may be shared with other messages of the same folder
    (thousands a run): it is replaced, never changed in place."""

    message: QueueMessage
    needs: frozenset[Need] = _NO_NEEDS
    keep_reasons: tuple[str, ...] = ()


@dataclass
class TableWork:
    """What a run must register in one table, and how."""

    table: TableInfo
    refresh_type: RefreshType
    partitions: dict[Partition, None] = field(default_factory=dict)


@dataclass
class RefreshPlan:
    """Each message's needs or reasons to stay, and the work of each table they add up to."""

    messages: list[PlannedMessage]
    work: dict[str, TableWork] = field(default_factory=dict)
    # (table, partition values) -> the one folder planned for them in this run
    locations: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def handled(self, done: set[Need]) -> list[PlannedMessage]:
        """The messages whose every need is met and that have no reason to stay: they may be deleted."""
        return [p for p in self.messages if not p.keep_reasons and p.needs <= done]

    def kept(self, done: set[Need]) -> list[PlannedMessage]:
        """The other messages: they stay on the queue (or are reported as failed)."""
        return [p for p in self.messages if p.keep_reasons or not p.needs <= done]


TableLookup = Callable[[str], TableInfo]
"""A table's metadata by name; raises TableNotFoundError (or an AWS error) when it cannot be read."""


class Planner:
    """Reads messages and works out each one's needs; nothing here calls AWS but the table lookup."""

    def __init__(self, router: SourceRouter, tables: TableLookup) -> None:
        self._router = router
        self._tables = tables

    def plan(self, messages: Sequence[QueueMessage]) -> RefreshPlan:
        plan = RefreshPlan(messages=[])
        missing_tables: set[str] = set()
        # (bucket, folder) -> the needs of an object in that folder. Exact: a source prefix is made of
        # whole segments and a partition of folders, so a key's route and partition depend on its
        # folder alone. Only met needs are remembered: a failure is worked out (and logged) each time.
        # A frozenset: every later one-object message of the folder shares it, nothing copied or rehashed.
        folder_needs: dict[tuple[str, str], frozenset[Need]] = {}
        add_planned = plan.messages.append
        for message in messages:
            try:
                notification = read_notification(message.body)
            except NotificationError as err:
                planned = PlannedMessage(message)
                add_planned(planned)
                self._keep(planned, f"not an S3 notification: {err}")
                continue
            objects = notification.objects
            if len(objects) == 1 and not notification.skipped and not notification.problems:
                # the usual message, one new object: a folder seen before needs what it needed then
                known = folder_needs.get((objects[0].bucket, objects[0].folder))
                if known is not None:
                    add_planned(PlannedMessage(message, known))
                    continue
            planned = PlannedMessage(message)
            add_planned(planned)
            if notification.is_test_event:
                LOGGER.debug(
                    "S3 test event (sent when a bucket notification is set up): nothing to register, "
                    "its message is deleted",
                    extra=context(message_id=message.message_id),
                )
            if notification.problems or notification.skipped:
                self._report(planned, notification.problems, notification.skipped)
            needs: set[Need] = set()
            for s3_object in objects:
                folder = (s3_object.bucket, s3_object.folder)
                known = folder_needs.get(folder)
                if known is None:
                    need = self._need(s3_object.bucket, s3_object.key, plan, missing_tables)
                    if isinstance(need, str):
                        self._keep(planned, need)
                        continue
                    known = folder_needs[folder] = frozenset((need,))
                needs.update(known)
            planned.needs = frozenset(needs)
        return plan

    def _report(self, planned: PlannedMessage, problems: Sequence[str], skipped: Sequence[str]) -> None:
        for problem in problems:
            self._keep(planned, f"unreadable record: {problem}")
        for s3_object in skipped:
            LOGGER.info(
                "Nothing to register", extra=context(object=s3_object, message_id=planned.message.message_id)
            )

    def _need(self, bucket: str, key: str, plan: RefreshPlan, missing_tables: set[str]) -> Need | str:
        """The object's need, or the reason it cannot be met."""
        route = self._router.route(bucket, key)
        if route is None:
            return f"no refresh type maps bucket {bucket!r}, key {key!r}"
        name = route.table
        if name in missing_tables:
            return f"table {name!r} does not exist (bucket {bucket!r}, key {key!r})"
        work = plan.work.get(name)
        if work is None:
            try:
                work = plan.work[name] = TableWork(self._tables(name), route.refresh_type)
            except (TableNotFoundError, ClientError, BotoCoreError) as err:
                missing_tables.add(name)
                LOGGER.error(
                    "Configured table cannot be read: its messages stay",
                    extra=context(table=name, error=str(err)),
                )
                return str(err)
        table = work.table
        try:
            partition = conform_to_table(partition_from_key(bucket, key), table.partition_keys)
            if route.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
                check_repairable(partition, table.location)
            else:
                check_under_table(partition, table.location)
        except PartitionKeyError as err:
            return f"rejected key of table {name!r}: bucket {bucket!r}, key {key!r}: {err}"
        planned_at = plan.locations.setdefault((name, partition.values), partition.location)
        if planned_at != partition.location:  # a table partition has one folder: the first one planned
            return (
                f"partition {partition.spec()} of table {name!r} is planned at {planned_at}, "
                f"not at the folder of bucket {bucket!r}, key {key!r}"
            )
        work.partitions[partition] = None
        return Need(name, partition)

    @staticmethod
    def _keep(planned: PlannedMessage, reason: str) -> None:
        planned.keep_reasons += (reason,)
        LOGGER.error(
            "Message kept on the queue",
            extra=context(message_id=planned.message.message_id, reason=reason),
        )
