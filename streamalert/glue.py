"""The Glue Data Catalog: the database check, table metadata, and partitions written in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.constants import GLUE_MAX_PARTITIONS_PER_BATCH, GLUE_MAX_PARTITIONS_PER_GET
from streamalert.deadline import RunBudget
from streamalert.exceptions import StreamAlertError
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition, as_folder

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import PartitionInputTypeDef

LOGGER = get_logger(__name__)

_ALREADY_EXISTS = "AlreadyExistsException"
_MAX_RESENDS = 2
_UNKNOWN = "(unknown: could not be read back)"


class DatabaseNotFoundError(StreamAlertError):
    """The configured database is missing from the catalog."""

    def __init__(self, database: str) -> None:
        super().__init__(
            f"database {database!r} does not exist in the Glue Data Catalog: create it by deploying "
            f"(scripts/deploy --processor athena), or in Athena with CREATE DATABASE {database}; "
            "every message stays on the queue until it exists"
        )
        self.database = database


class TableNotFoundError(StreamAlertError):
    """A configured table is missing from the catalog."""


@dataclass(frozen=True)
class TableInfo:
    """What the refresh needs of a table: its partition keys and the storage its partitions inherit."""

    name: str
    partition_keys: tuple[str, ...]
    storage_descriptor: dict[str, Any]

    @property
    def location(self) -> str:
        """The table's ``LOCATION``: every partition folder must lie under it."""
        return str(self.storage_descriptor.get("Location") or "")


class GlueCatalog:
    """One database of the Glue Data Catalog."""

    def __init__(self, client: GlueClient, database: str) -> None:
        self._client = client
        self.database = database

    def check_database(self) -> None:
        """Raise DatabaseNotFoundError unless the database exists (one GetDatabase call)."""
        try:
            self._client.get_database(Name=self.database)
        except self._client.exceptions.EntityNotFoundException as err:
            raise DatabaseNotFoundError(self.database) from err

    def get_table(self, name: str) -> TableInfo:
        """The table's partition keys and storage descriptor (one GetTable call)."""
        try:
            table = self._client.get_table(DatabaseName=self.database, Name=name)["Table"]
        except self._client.exceptions.EntityNotFoundException as err:
            raise TableNotFoundError(f"table {self.database}.{name} does not exist") from err
        keys = tuple(column["Name"] for column in table.get("PartitionKeys", []))
        return TableInfo(
            name=name,
            partition_keys=keys,
            storage_descriptor=dict(table.get("StorageDescriptor", {})),
        )

    def create_partitions(
        self, table: TableInfo, partitions: Sequence[Partition], budget: RunBudget
    ) -> set[Partition]:
        """Register partitions with BatchCreatePartition, 100 a call; returns those that failed.

        An ``AlreadyExistsException`` entry counts as success when the existing partition has the same
        folder (read back with BatchGetPartition); at another folder, it fails: the new objects would
        never be searchable. Entries that failed otherwise are sent again, only they, a bounded number of
        times; what still fails is returned. No call starts without time for it: what the budget leaves
        unsent fails.
        """
        failed: set[Partition] = set()
        existing: list[Partition] = []
        for start in range(0, len(partitions), GLUE_MAX_PARTITIONS_PER_BATCH):
            chunk = partitions[start : start + GLUE_MAX_PARTITIONS_PER_BATCH]
            try:
                failed.update(self._create_chunk(table, chunk, existing, budget))
            except (ClientError, BotoCoreError) as err:
                LOGGER.error(
                    "Glue could not write partitions", extra=context(table=table.name, error=str(err))
                )
                failed.update(chunk)
        return failed | self.conflicting(table, existing, budget)

    def conflicting(
        self, table: TableInfo, partitions: Sequence[Partition], budget: RunBudget
    ) -> set[Partition]:
        """The partitions that are not registered at their own folder: held by the catalog at another
        folder, or whose place could not be read back (BatchGetPartition, 1,000 a call; the keys Glue
        leaves unprocessed are asked again, a bounded number of times, while the budget allows). A
        partition the catalog does not hold is no conflict: nothing hides its folder."""
        found = self.registered_locations(table, partitions, budget)
        conflicts = {
            p for p in partitions if as_folder(found.get(p.values, p.location)) != as_folder(p.location)
        }
        for partition in conflicts:
            LOGGER.error(
                "Partition not registered at its folder: its new objects stay on the queue",
                extra=context(
                    table=table.name,
                    partition=partition.spec(),
                    location=partition.location,
                    registered_location=found.get(partition.values),
                ),
            )
        return conflicts

    def registered_locations(
        self, table: TableInfo, partitions: Sequence[Partition], budget: RunBudget
    ) -> dict[tuple[str, ...], str]:
        """values -> registered folder of the partitions the catalog holds (BatchGetPartition, 1,000 a
        call); those it could not tell about map to a location that is no folder. A partition absent from
        the answer is not in the catalog."""
        found: dict[tuple[str, ...], str] = {}
        for start in range(0, len(partitions), GLUE_MAX_PARTITIONS_PER_GET):
            chunk = partitions[start : start + GLUE_MAX_PARTITIONS_PER_GET]
            found.update(self._read_back(table, chunk, budget))
        return found

    def _read_back(
        self, table: TableInfo, chunk: Sequence[Partition], budget: RunBudget
    ) -> dict[tuple[str, ...], str]:
        """values -> registered folder of the chunk's partitions that the catalog holds; those it could
        not tell about map to a location that is no folder."""
        found: dict[tuple[str, ...], str] = {}
        asked = [list(p.values) for p in chunk]
        for _ in range(1 + _MAX_RESENDS):
            if not asked or not budget.may_call():
                break
            try:
                response = self._client.batch_get_partition(
                    DatabaseName=self.database,
                    TableName=table.name,
                    PartitionsToGet=[{"Values": values} for values in asked],
                )
            except (ClientError, BotoCoreError) as err:
                LOGGER.error(
                    "Could not read partitions back", extra=context(table=table.name, error=str(err))
                )
                break
            for entry in response.get("Partitions", []):
                found[tuple(entry["Values"])] = entry.get("StorageDescriptor", {}).get("Location", "")
            asked = [list(key.get("Values", [])) for key in response.get("UnprocessedKeys", [])]
        for values in asked:
            found[tuple(values)] = _UNKNOWN
        return found

    def _create_chunk(
        self, table: TableInfo, chunk: Sequence[Partition], existing: list[Partition], budget: RunBudget
    ) -> set[Partition]:
        pending = list(chunk)
        for _ in range(1 + _MAX_RESENDS):
            if not budget.may_call():
                LOGGER.warning(
                    "No time left to write partitions",
                    extra=context(table=table.name, partitions=len(pending)),
                )
                break
            by_values = {partition.values: partition for partition in pending}
            response = self._client.batch_create_partition(
                DatabaseName=self.database,
                TableName=table.name,
                PartitionInputList=[_partition_input(table, p) for p in pending],
            )
            pending = []
            for error in response.get("Errors", []):
                code = error.get("ErrorDetail", {}).get("ErrorCode", "")
                partition = by_values.get(tuple(error.get("PartitionValues", ())))
                if code == _ALREADY_EXISTS and partition is not None:
                    existing.append(partition)
                    continue
                if partition is None:  # an error we cannot place: nothing of the chunk is known good
                    LOGGER.error("Glue error without known partition values", extra=context(error=error))
                    return set(chunk)
                LOGGER.warning(
                    "Glue refused a partition",
                    extra=context(
                        table=table.name, partition=partition.spec(), error=error.get("ErrorDetail")
                    ),
                )
                pending.append(partition)
            if not pending:
                return set()
        return set(pending)


def _partition_input(table: TableInfo, partition: Partition) -> PartitionInputTypeDef:
    """The table's storage (columns, formats, SerDe) at the partition's own location."""
    descriptor = {**table.storage_descriptor, "Location": partition.location}
    return cast("PartitionInputTypeDef", {"Values": list(partition.values), "StorageDescriptor": descriptor})
