"""The fewest AWS calls a refresh run can make, by operation: what every measured count is held to.

- ``ReceiveMessage``: ``ceil(M/10)``, plus 1 for the poll that finds the queue empty;
- ``DeleteMessageBatch``: ``ceil(M/10)``;
- ``BatchCreatePartition``: ``ceil(N/100)`` per table; ``StartQueryExecution``: ``ceil(bytes/262,144)``
  ALTER TABLE statements per table (``bytes``: the one statement that would add all N), or one MSCK
  REPAIR TABLE per table; none at all in a run that received nothing. N counts every partition the run's
  messages announce, also those an earlier run of the same container wrote: a run remembers nothing, as
  the catalog may have lost them since (a table recreated, a partition dropped by hand);
- ``BatchGetPartition``: ``ceil(N/1,000)`` per table in ADD PARTITION and MSCK modes, where ``ADD IF NOT
  EXISTS`` and MSCK say nothing of a partition already registered at another folder, so every one is read
  back;
  in Glue mode only the partitions that came back ``AlreadyExists`` are (``R`` of the N);
- ``GetQueryExecution``: one per statement (the emulator finishes a query before the first poll);
- ``GetQueueUrl``, ``GetDatabase``: one per warm container; ``GetTable``: one per table and run that
  received its messages (a schema change reaches the next run), for every refresh type (a repair source's
  keys are checked against the table too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from config_schemas.models import RefreshType
from streamalert.athena import add_partition_statements
from streamalert.constants import (
    ATHENA_MAX_QUERY_BYTES,
    GLUE_MAX_PARTITIONS_PER_BATCH,
    GLUE_MAX_PARTITIONS_PER_GET,
    SQS_MAX_BATCH,
)
from streamalert.partitions import Partition

# Every operation a refresh may call, in the order the tables show them
OPERATIONS = (
    "ReceiveMessage",
    "DeleteMessageBatch",
    "GetQueueUrl",
    "GetDatabase",
    "GetTable",
    "BatchCreatePartition",
    "StartQueryExecution",
    "GetQueryExecution",
    "BatchGetPartition",
)
CATALOG_WRITES = ("BatchCreatePartition", "StartQueryExecution")


@dataclass(frozen=True)
class RunShape:
    """What one run of one table receives: ``messages`` (M) announcing ``new_partitions`` (N) partitions,
    ``registered`` (R) of which the catalog already holds; ``first_run``: the container is cold."""

    refresh_type: RefreshType
    table: str
    database: str
    messages: int
    new_partitions: tuple[Partition, ...]
    first_run: bool
    registered: int = 0


def ddl_bytes(database: str, table: str, partitions: Iterable[Partition]) -> int:
    """The UTF-8 size of the one ALTER TABLE statement that would add every partition."""
    statements = add_partition_statements(database, table, list(partitions), max_bytes=2**62)
    return sum(len(statement.encode()) for statement, _ in statements)


def lower_bounds(shape: RunShape) -> dict[str, int]:
    """The least count of each operation for a run of that shape."""
    received = shape.messages
    new = len(shape.new_partitions) if received else 0
    writes = 0
    statements = 0
    reads = 0
    if shape.refresh_type is RefreshType.ADD_GLUE_PARTITION:
        writes = math.ceil(new / GLUE_MAX_PARTITIONS_PER_BATCH)
        reads = math.ceil(min(new, shape.registered) / GLUE_MAX_PARTITIONS_PER_GET)
    elif shape.refresh_type is RefreshType.ADD_HIVE_PARTITION and new:
        size = ddl_bytes(shape.database, shape.table, shape.new_partitions)
        statements = math.ceil(size / ATHENA_MAX_QUERY_BYTES)
        reads = math.ceil(new / GLUE_MAX_PARTITIONS_PER_GET)
    elif shape.refresh_type is RefreshType.REPAIR_HIVE_TABLE and received:
        statements = 1
        reads = math.ceil(new / GLUE_MAX_PARTITIONS_PER_GET)
    return {
        "ReceiveMessage": math.ceil(received / SQS_MAX_BATCH) + 1,
        "DeleteMessageBatch": math.ceil(received / SQS_MAX_BATCH),
        "GetQueueUrl": int(shape.first_run),
        "GetDatabase": int(shape.first_run),
        "GetTable": int(bool(received)),
        "BatchCreatePartition": writes,
        "StartQueryExecution": statements,
        "GetQueryExecution": statements,
        "BatchGetPartition": reads,
    }


def over_bound(calls: dict[str, int], bounds: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Every operation called more often than its bound (an operation with no bound has bound 0)."""
    return {
        operation: (count, bounds.get(operation, 0))
        for operation, count in calls.items()
        if count > bounds.get(operation, 0)
    }
