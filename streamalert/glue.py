"""The Glue Data Catalog: the database check, table metadata, and partitions written in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from streamalert.constants import GLUE_MAX_PARTITIONS_PER_BATCH
from streamalert.exceptions import StreamAlertError
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import PartitionInputTypeDef

LOGGER = get_logger(__name__)

_ALREADY_EXISTS = "AlreadyExistsException"
_MAX_RESENDS = 2


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

    def create_partitions(self, table: TableInfo, partitions: Sequence[Partition]) -> set[Partition]:
        """Register partitions with BatchCreatePartition, 100 a call; returns those that failed.

        An ``AlreadyExistsException`` entry counts as success. Entries that failed otherwise are
        sent again, only they, a bounded number of times; what still fails is returned.
        """
        failed: set[Partition] = set()
        for start in range(0, len(partitions), GLUE_MAX_PARTITIONS_PER_BATCH):
            chunk = partitions[start : start + GLUE_MAX_PARTITIONS_PER_BATCH]
            failed.update(self._create_chunk(table, chunk))
        return failed

    def _create_chunk(self, table: TableInfo, chunk: Sequence[Partition]) -> set[Partition]:
        pending = list(chunk)
        for _ in range(1 + _MAX_RESENDS):
            by_values = {partition.values: partition for partition in pending}
            response = self._client.batch_create_partition(
                DatabaseName=self.database,
                TableName=table.name,
                PartitionInputList=[_partition_input(table, p) for p in pending],
            )
            pending = []
            for error in response.get("Errors", []):
                code = error.get("ErrorDetail", {}).get("ErrorCode", "")
                if code == _ALREADY_EXISTS:
                    continue
                partition = by_values.get(tuple(error.get("PartitionValues", ())))
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
