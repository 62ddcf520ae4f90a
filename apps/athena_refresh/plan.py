"""From received messages to what must be committed: each message's needs, or why it must stay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.routing import SourceRouter
from config_schemas.models import RefreshType
from streamalert.glue import TableInfo, TableNotFoundError
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition, PartitionKeyError, conform_to_table, partition_from_key
from streamalert.s3_events import NotificationError, S3Object, parse_notification
from streamalert.sqs import QueueMessage

LOGGER = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Need:
    """One thing a message waits for: a partition of a table, or (partition None) a repair of the table."""

    table: str
    partition: Partition | None = None


@dataclass
class PlannedMessage:
    message: QueueMessage
    needs: set[Need] = field(default_factory=set)
    keep_reasons: list[str] = field(default_factory=list)

    @property
    def deletable_alone(self) -> bool:
        return not self.keep_reasons


@dataclass
class RefreshPlan:
    messages: list[PlannedMessage]
    repairs: dict[str, None] = field(default_factory=dict)
    partitions: dict[tuple[RefreshType, str], dict[Partition, None]] = field(default_factory=dict)
    tables: dict[str, TableInfo] = field(default_factory=dict)


class Planner:
    """Reads messages and works out each one's needs; nothing here calls AWS but ``table_info``."""

    def __init__(
        self,
        router: SourceRouter,
        table_info: Callable[[str], TableInfo],
    ) -> None:
        self._router = router
        self._table_info = table_info

    def plan(self, messages: Sequence[QueueMessage]) -> RefreshPlan:
        plan = RefreshPlan(messages=[])
        missing_tables: set[str] = set()
        for message in messages:
            planned = PlannedMessage(message)
            plan.messages.append(planned)
            try:
                notification = parse_notification(message.body)
            except NotificationError as err:
                self._keep(planned, f"not an S3 notification: {err}")
                continue
            for problem in notification.problems:
                self._keep(planned, f"unreadable record: {problem}")
            for skipped in notification.skipped:
                LOGGER.info(
                    "Nothing to register", extra=context(object=skipped, message_id=message.message_id)
                )
            for s3_object in notification.objects:
                need = self._need(s3_object, plan, missing_tables)
                if isinstance(need, Need):
                    planned.needs.add(need)
                else:
                    self._keep(planned, need)
        return plan

    def _need(self, s3_object: S3Object, plan: RefreshPlan, missing_tables: set[str]) -> Need | str:
        """The object's need, or the reason it cannot be met."""
        route = self._router.route(s3_object.bucket, s3_object.key)
        if route is None:
            return f"no refresh type maps bucket {s3_object.bucket!r}, key {s3_object.key!r}"
        table = route.table
        if route.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
            plan.repairs[table] = None
            return Need(table)
        if table in missing_tables:
            return f"table {table!r} does not exist (bucket {s3_object.bucket!r}, key {s3_object.key!r})"
        if table not in plan.tables:
            try:
                plan.tables[table] = self._table_info(table)
            except (TableNotFoundError, ClientError, BotoCoreError) as err:
                missing_tables.add(table)
                LOGGER.error(
                    "Configured table cannot be read: its messages stay",
                    extra=context(table=table, error=str(err)),
                )
                return str(err)
        try:
            partition = partition_from_key(s3_object.bucket, s3_object.key)
            partition = conform_to_table(partition, plan.tables[table].partition_keys)
        except PartitionKeyError as err:
            return f"rejected key: bucket {s3_object.bucket!r}, key {s3_object.key!r}: {err}"
        plan.partitions.setdefault((route.refresh_type, table), {})[partition] = None
        return Need(table, partition)

    @staticmethod
    def _keep(planned: PlannedMessage, reason: str) -> None:
        planned.keep_reasons.append(reason)
        LOGGER.error(
            "Message kept on the queue",
            extra=context(message_id=planned.message.message_id, reason=reason),
        )
