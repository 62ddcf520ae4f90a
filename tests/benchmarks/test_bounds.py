"""The lower bounds themselves: what a run of a given shape cannot do with fewer calls."""

from __future__ import annotations

from benchmarks.bounds import RunShape, ddl_bytes, lower_bounds, over_bound
from benchmarks.calls import new_partitions
from benchmarks.workload import DATABASE, TABLE_BY_TYPE
from config_schemas.models import RefreshType

GLUE = TABLE_BY_TYPE[RefreshType.ADD_GLUE_PARTITION]
HIVE = TABLE_BY_TYPE[RefreshType.ADD_HIVE_PARTITION]


def shape(
    refresh_type: RefreshType,
    messages: int,
    partitions: int,
    *,
    first_run: bool = True,
    chunk_messages: int = 100_000,
    concurrency: int = 1,
) -> RunShape:
    table = TABLE_BY_TYPE[refresh_type]
    return RunShape(
        refresh_type,
        table.name,
        DATABASE,
        messages,
        new_partitions(table, 0, partitions),
        first_run,
        chunk_messages=chunk_messages,
        concurrency=concurrency,
    )


def test_queue_bounds_are_batches_of_ten_plus_the_empty_poll() -> None:
    bounds = lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 101, 1))

    assert bounds["ReceiveMessage"] == 12
    assert bounds["DeleteMessageBatch"] == 11


def test_a_pool_may_find_the_queue_empty_once_a_call_in_flight() -> None:
    pooled = lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 101, 1, concurrency=16))
    short = lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 9, 1, concurrency=16))

    assert pooled["ReceiveMessage"] == 11 + 16
    assert short["ReceiveMessage"] == 1 + 1, "a first receive that is not full never starts the pool"


def test_chunks_split_deletes_and_catalog_writes_but_not_table_reads() -> None:
    whole = lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 1_005, 300))
    chunked = lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 1_005, 300, chunk_messages=335))
    repair = lower_bounds(shape(RefreshType.REPAIR_HIVE_TABLE, 1_005, 300, chunk_messages=335))

    assert whole["DeleteMessageBatch"] == 101
    assert chunked["DeleteMessageBatch"] == 3 * 34, "each chunk of 335 deletes in 34 calls"
    assert (whole["BatchCreatePartition"], chunked["BatchCreatePartition"]) == (3, 3 + 2)
    assert repair["StartQueryExecution"] == 3, "one MSCK REPAIR TABLE a chunk"
    assert whole["GetTable"] == chunked["GetTable"] == 1, "once a table a run, whatever its chunks"


def test_glue_writes_are_batches_of_a_hundred() -> None:
    assert lower_bounds(shape(RefreshType.ADD_GLUE_PARTITION, 1_000, 201))["BatchCreatePartition"] == 3


def test_ddl_statements_are_the_bytes_over_athenas_limit() -> None:
    partitions = new_partitions(HIVE, 0, 5_000)
    size = ddl_bytes(DATABASE, HIVE.name, partitions)
    bounds = lower_bounds(shape(RefreshType.ADD_HIVE_PARTITION, 10_000, 5_000))

    assert size > 262_144
    assert bounds["StartQueryExecution"] == -(-size // 262_144)
    assert bounds["BatchGetPartition"] == 5, "ADD IF NOT EXISTS is read back, 1,000 partitions a call"


def test_warm_container_and_empty_run_bounds() -> None:
    table = TABLE_BY_TYPE[RefreshType.ADD_GLUE_PARTITION]
    again = RunShape(
        RefreshType.ADD_GLUE_PARTITION,
        table.name,
        DATABASE,
        100,
        new_partitions(table, 0, 50),
        first_run=False,
        registered=50,
    )
    warm = lower_bounds(again)
    empty = lower_bounds(shape(RefreshType.REPAIR_HIVE_TABLE, 0, 0))

    assert warm["GetQueueUrl"] == warm["GetDatabase"] == 0
    assert warm["GetTable"] == 1, "table metadata is read every run"
    assert warm["BatchCreatePartition"] == 1, "nothing is remembered across runs: the catalog says"
    assert warm["BatchGetPartition"] == 1, "AlreadyExists is read back"
    assert empty["StartQueryExecution"] == empty["GetTable"] == 0
    assert empty["ReceiveMessage"] == 1


def test_any_count_over_its_bound_is_reported_and_unknown_operations_have_bound_zero() -> None:
    bounds = {"ReceiveMessage": 2}

    assert over_bound({"ReceiveMessage": 2}, bounds) == {}
    assert over_bound({"ReceiveMessage": 3, "GetPartitions": 1}, bounds) == {
        "ReceiveMessage": (3, 2),
        "GetPartitions": (1, 0),
    }
