"""The fewest AWS calls a refresh run can make, by operation: what every measured count is held to.

A scheduled run drains the queue in chunks of ``C`` messages (``RefreshSettings.chunk_messages``), each
received, committed and deleted before the next, with up to ``P`` receives or deletes in flight
(``concurrency``); ``K = ceil(M/C)`` chunks for M messages. The queue's calls are counted per run, the
catalog's per chunk and table (a chunk commits what its own messages announce, less what an earlier
chunk of the run committed: a partition is written once a run, whatever the chunks that announce it):

- ``ReceiveMessage``: ``ceil(M/10)``, plus the polls that find the queue empty: 1 when one call at a time
  runs, or when the run's first receive was not full (a short queue never starts the pool); else up to
  ``P``, the calls in flight when the queue runs dry;
- ``DeleteMessageBatch``: ``ceil(m/10)`` per chunk of m messages (``ceil(M/10)`` when C is a multiple
  of 10);
- ``BatchCreatePartition``: ``ceil(N/100)`` per table, plus one per chunk after the first that brings new
  partitions (a chunk's batches are its own); ``StartQueryExecution``: ``ceil(bytes/262,144)`` ALTER TABLE
  statements per table (``bytes``: the one statement that would add all N), plus one per later chunk, or
  one MSCK REPAIR TABLE per table and chunk; none at all in a run that received nothing. N counts every
  partition the run's messages announce, also those an earlier run of the same container wrote: a run
  remembers nothing, as the catalog may have lost them since (a table recreated, a partition dropped by
  hand);
- ``BatchGetPartition``: ``ceil(N/1,000)`` per table (plus one per later chunk) in ADD PARTITION and MSCK
  modes, where ``ADD IF NOT EXISTS`` and MSCK say nothing of a partition already registered at another
  folder, so every one is read back;
  in Glue mode only the partitions that came back ``AlreadyExists`` are (``R`` of the N);
- ``GetQueryExecution``: one per statement (the emulator finishes a query before the first poll);
- ``GetQueueUrl``, ``GetDatabase``: one per warm container; ``GetTable``: one per table and run that
  received its messages, whatever its chunks (a schema change reaches the next run), for every refresh
  type (a repair source's keys are checked against the table too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from apps.athena_refresh.refresher import RefreshSettings
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
    ``registered`` (R) of which the catalog already holds; ``first_run``: the container is cold;
    ``chunk_messages`` (C) and ``concurrency`` (P): the drain's settings (the refresh's defaults)."""

    refresh_type: RefreshType
    table: str
    database: str
    messages: int
    new_partitions: tuple[Partition, ...]
    first_run: bool
    registered: int = 0
    chunk_messages: int = RefreshSettings().chunk_messages
    concurrency: int = RefreshSettings().concurrency

    @property
    def chunk_sizes(self) -> list[int]:
        """The messages of each chunk: full ones, then what is left."""
        full, rest = divmod(self.messages, self.chunk_messages)
        return [self.chunk_messages] * full + ([rest] if rest else [])


def ddl_bytes(database: str, table: str, partitions: Iterable[Partition]) -> int:
    """The UTF-8 size of the one ALTER TABLE statement that would add every partition."""
    statements = add_partition_statements(database, table, list(partitions), max_bytes=2**62)
    return sum(len(statement.encode()) for statement, _ in statements)


def lower_bounds(shape: RunShape) -> dict[str, int]:
    """The least count of each operation for a run of that shape."""
    received = shape.messages
    new = len(shape.new_partitions) if received else 0
    # every chunk after the first may split a table's batches or statements once more
    later_chunks = min(len(shape.chunk_sizes), new) - 1 if new else 0
    writes = 0
    statements = 0
    reads = 0
    if shape.refresh_type is RefreshType.ADD_GLUE_PARTITION:
        writes = math.ceil(new / GLUE_MAX_PARTITIONS_PER_BATCH) + later_chunks
        registered = min(new, shape.registered)
        reads = math.ceil(registered / GLUE_MAX_PARTITIONS_PER_GET) + (later_chunks if registered else 0)
    elif shape.refresh_type is RefreshType.ADD_HIVE_PARTITION and new:
        size = ddl_bytes(shape.database, shape.table, shape.new_partitions)
        statements = math.ceil(size / ATHENA_MAX_QUERY_BYTES) + later_chunks
        reads = math.ceil(new / GLUE_MAX_PARTITIONS_PER_GET) + later_chunks
    elif shape.refresh_type is RefreshType.REPAIR_HIVE_TABLE and received:
        statements = 1 + later_chunks
        reads = math.ceil(new / GLUE_MAX_PARTITIONS_PER_GET) + later_chunks
    pool_started = shape.concurrency > 1 and received >= SQS_MAX_BATCH
    return {
        "ReceiveMessage": math.ceil(received / SQS_MAX_BATCH) + (shape.concurrency if pool_started else 1),
        "DeleteMessageBatch": sum(math.ceil(size / SQS_MAX_BATCH) for size in shape.chunk_sizes),
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
