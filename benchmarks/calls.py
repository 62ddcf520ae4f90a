"""Refresh runs on the emulator, each measured: AWS calls by operation beside their lower bounds,
wall time and peak memory."""

from __future__ import annotations

import contextlib
import io
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from benchmarks.bounds import CATALOG_WRITES, RunShape, lower_bounds, over_bound
from benchmarks.deployment import BenchDeployment, emulated
from benchmarks.workload import (
    DATABASE,
    LAMBDA_TIMEOUT_SECONDS,
    TABLE_BY_TYPE,
    BenchTable,
    bodies_for,
    partition_folder,
)
from config_schemas.models import RefreshType
from streamalert.deadline import Deadline
from streamalert.partitions import Partition, conform_to_table, partition_from_key

SIZES = (10, 100, 1_000, 5_000)
MOTO_SIZES = (10, 100)
EXISTING = (0, 1_000, 100_000)
SCALE_MESSAGES = 1_000
SCALE_PARTITIONS = 100


def partitions_for(messages: int) -> int:
    """N for M messages: two objects a partition."""
    return max(1, messages // 2)


@dataclass(frozen=True)
class Measured:
    """One measured run: its shape, the calls it made, their bounds, wall time and peak memory."""

    label: str
    shape: RunShape
    existing: int
    queue: str
    calls: dict[str, int]
    bounds: dict[str, int]
    wall_seconds: float
    peak_bytes: int | None

    @property
    def over(self) -> dict[str, tuple[int, int]]:
        return over_bound(self.calls, self.bounds)

    @property
    def catalog_writes(self) -> int:
        return sum(self.calls.get(operation, 0) for operation in CATALOG_WRITES)

    @property
    def catalog_work(self) -> int:
        """Partitions the catalog writes name, or (MSCK REPAIR TABLE) the partition folders it lists:
        every one ever written, not only the new ones."""
        if self.shape.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
            return self.existing + len(self.shape.new_partitions) if self.shape.messages else 0
        return len(self.shape.new_partitions) if self.shape.messages else 0


def new_partitions(table: BenchTable, first: int, count: int) -> tuple[Partition, ...]:
    """The partitions ``first`` to ``first + count - 1`` of the table, as the refresh works them out."""
    bucket = table.route.source.bucket
    return tuple(
        conform_to_table(
            partition_from_key(bucket, f"{partition_folder(table, index)}/x.json"), table.partition_keys
        )
        for index in range(first, first + count)
    )


def run_once(
    deployment: BenchDeployment,
    refresher_run: Callable[[], object],
    shape: RunShape,
    *,
    label: str,
    existing: int,
    queue: str,
    traced: bool,
) -> Measured:
    """Run once, counting calls from a clean count; under tracemalloc when ``traced`` (slower)."""
    deployment.reset_calls()
    if traced:
        tracemalloc.start()
    with contextlib.redirect_stdout(io.StringIO()):  # the run's metric lines
        started = time.perf_counter()
        summary = refresher_run()
        wall = time.perf_counter() - started
    peak = None
    if traced:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    _check_summary(summary, shape)
    return Measured(label, shape, existing, queue, dict(deployment.calls()), lower_bounds(shape), wall, peak)


def _check_summary(summary: object, shape: RunShape) -> None:
    """A benchmark of a run that did not do its work would measure nothing: refuse it."""
    assert isinstance(summary, dict)
    if summary["messages_received"] != shape.messages or summary["messages_kept"] != 0:
        raise RuntimeError(f"the run did not handle every message: {summary}")


def cold_run(
    refresh_type: RefreshType,
    messages: int,
    partitions: int,
    *,
    existing: int = 0,
    queue: str = "memory",
    traced: bool = False,
    label: str = "cold",
) -> Measured:
    """A cold container's run over ``messages`` new messages for ``partitions`` new partitions, with
    ``existing`` partitions already in the catalog."""
    table = TABLE_BY_TYPE[refresh_type]
    with emulated(table, queue=queue) as deployment:
        deployment.preload(0, existing)
        return _run(
            deployment,
            refresh_type,
            messages=messages,
            partitions=partitions,
            existing=existing,
            queue=queue,
            traced=traced,
            label=label,
        )


def _run(
    deployment: BenchDeployment,
    refresh_type: RefreshType,
    *,
    messages: int,
    partitions: int,
    existing: int,
    queue: str,
    traced: bool,
    label: str,
) -> Measured:
    table = deployment.table
    deployment.send(bodies_for(table, messages, partitions, first_partition=existing) if messages else [])
    shape = RunShape(
        refresh_type,
        table.name,
        DATABASE,
        messages,
        new_partitions(table, existing, partitions if messages else 0),
        first_run=True,
    )
    refresher = deployment.refresher()
    return run_once(
        deployment,
        lambda: refresher.run_scheduled(Deadline.after(LAMBDA_TIMEOUT_SECONDS)),
        shape,
        label=label,
        existing=existing,
        queue=queue,
        traced=traced,
    )


def warm_rerun(refresh_type: RefreshType, messages: int, partitions: int) -> Measured:
    """A warm container's second run: new messages, all for the partitions its first run wrote (written
    again: a run takes nothing for registered that it did not read in the catalog)."""
    table = TABLE_BY_TYPE[refresh_type]
    with emulated(table) as deployment:
        refresher = deployment.refresher()
        deployment.send(bodies_for(table, messages, partitions))
        with contextlib.redirect_stdout(io.StringIO()):
            refresher.run_scheduled(Deadline.after(LAMBDA_TIMEOUT_SECONDS))
        deployment.send(bodies_for(table, messages, partitions))
        shape = RunShape(
            refresh_type,
            table.name,
            DATABASE,
            messages,
            new_partitions(table, 0, partitions),
            first_run=False,
            registered=partitions,
        )
        return run_once(
            deployment,
            lambda: refresher.run_scheduled(Deadline.after(LAMBDA_TIMEOUT_SECONDS)),
            shape,
            label="warm, same partitions",
            existing=partitions,
            queue="memory",
            traced=False,
        )


def scale_runs(refresh_type: RefreshType, levels: Sequence[int] = EXISTING) -> Iterator[Measured]:
    """The same cold run with 0, 1,000 and 100,000 (``levels``) partitions already in the catalog."""
    table = TABLE_BY_TYPE[refresh_type]
    with emulated(table) as deployment:
        written = 0
        for existing in levels:
            deployment.preload(written, existing)
            yield _run(
                deployment,
                refresh_type,
                messages=SCALE_MESSAGES,
                partitions=SCALE_PARTITIONS,
                existing=existing,
                queue="memory",
                traced=False,
                label=f"{existing:,} already in the catalog",
            )
            written = existing + SCALE_PARTITIONS
