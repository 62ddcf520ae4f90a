"""Commits a plan: Glue batches, Athena ADD PARTITION statements and MSCK repairs, each table once a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from apps.athena_refresh.plan import Need, RefreshPlan, TableWork
from config_schemas.models import RefreshType
from streamalert import aws
from streamalert.athena import (
    AthenaQueryRunner,
    UnsafeQueryError,
    add_partition_statements,
    repair_table_statement,
)
from streamalert.deadline import RunBudget
from streamalert.glue import GlueCatalog, TableInfo, TableNotFoundError
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition

LOGGER = get_logger(__name__)


@dataclass
class CommitResult:
    done: set[Need] = field(default_factory=set)
    partitions_added: Counter[str] = field(default_factory=Counter)
    tables_repaired: list[str] = field(default_factory=list)

    def record(self, table: str, partitions: Sequence[Partition]) -> None:
        self.done.update(Need(table, partition) for partition in partitions)
        self.partitions_added[table] += len(partitions)


@dataclass
class RunMemory:
    """What one run remembers of the catalog across its chunks, and nothing longer: each table's metadata
    (GetTable once a table a run; a schema change reaches the next run; a table that cannot be read is
    not asked again) and every partition committed, so that one announced again by a later chunk is not
    written again. It grows with the tables and partitions of a run, never with its messages."""

    catalog: GlueCatalog
    budget: RunBudget
    committed: set[Need] = field(default_factory=set)
    tables: dict[str, TableInfo] = field(default_factory=dict)
    unreadable: dict[str, Exception] = field(default_factory=dict)

    def table(self, name: str) -> TableInfo:
        """The table's metadata, read at its first use this run; a read starts only with time for it."""
        if name in self.unreadable:
            raise self.unreadable[name]
        if name not in self.tables:
            if not self.budget.may_call():
                raise aws.NoTimeForCallError(event_name=f"GetTable of table {name!r}")
            try:
                self.tables[name] = self.catalog.get_table(name)
            except (TableNotFoundError, ClientError) as err:
                self.unreadable[name] = err
                raise
        return self.tables[name]

    def drop_committed(self, plan: RefreshPlan) -> None:
        """Take out of the plan's work every partition an earlier chunk of the run committed."""
        if not self.committed:
            return
        for name, work in plan.work.items():
            work.partitions = {p: None for p in work.partitions if Need(name, p) not in self.committed}


@dataclass(frozen=True)
class _Statement:
    """One query of a round and what it registers: the partitions of an ADD, or a whole table's repair."""

    query: str
    work: TableWork
    partitions: tuple[Partition, ...]


class PartitionCommitter:
    """Writes what a plan needs. Remembers nothing between runs: the catalog alone says what exists, so a
    partition dropped or a table recreated since is written again."""

    def __init__(self, catalog: GlueCatalog, athena: AthenaQueryRunner) -> None:
        self._catalog = catalog
        self._athena = athena

    def commit(self, plan: RefreshPlan, budget: RunBudget) -> CommitResult:
        """Write the plan's partitions and repairs; no call starts without time for it."""
        result = CommitResult()
        statements: list[_Statement] = []
        for work in plan.work.values():
            partitions = list(work.partitions)
            if not partitions:
                continue
            if work.refresh_type is RefreshType.ADD_GLUE_PARTITION:
                failed = self._catalog.create_partitions(work.table, partitions, budget)
                result.record(work.table.name, [p for p in partitions if p not in failed])
            elif work.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
                query = repair_table_statement(self._catalog.database, work.table.name)
                statements.append(_Statement(query, work, tuple(partitions)))
            else:
                statements.extend(self._additions(work, partitions))
        if statements:
            self._run_athena(statements, budget, result)
        return result

    def _run_athena(self, statements: list[_Statement], budget: RunBudget, result: CommitResult) -> None:
        """Run the statements; an ADD that Athena refuses is sent again in two halves, down to single
        partitions while time allows, so that one partition Athena cannot take keeps only its messages."""
        added: dict[str, tuple[TableWork, list[Partition]]] = {}
        repaired: list[tuple[TableWork, tuple[Partition, ...]]] = []
        while statements and budget.may_call():
            outcomes = self._athena.run([statement.query for statement in statements], budget)
            retry: list[_Statement] = []
            for statement, outcome in zip(statements, outcomes, strict=True):
                work = statement.work
                if outcome.succeeded and work.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
                    repaired.append((work, statement.partitions))
                    result.tables_repaired.append(work.table.name)
                elif outcome.succeeded:
                    added.setdefault(work.table.name, (work, []))[1].extend(statement.partitions)
                elif (
                    outcome.refused
                    and len(statement.partitions) > 1
                    and work.refresh_type is (RefreshType.ADD_HIVE_PARTITION)
                ):
                    half = len(statement.partitions) // 2
                    for group in (statement.partitions[:half], statement.partitions[half:]):
                        retry.extend(self._additions(work, list(group)))
            statements = retry
        for work, partitions in added.values():
            # ADD IF NOT EXISTS keeps a partition that exists at another folder: check where each one is
            conflicts = self._catalog.conflicting(work.table, partitions, budget)
            result.record(work.table.name, [p for p in partitions if p not in conflicts])
        for work, repairs in repaired:
            # MSCK adds what the catalog lacks and moves nothing: one held at another folder hides the objects
            conflicts = self._catalog.conflicting(work.table, repairs, budget)
            result.done.update(Need(work.table.name, p) for p in repairs if p not in conflicts)

    def _additions(self, work: TableWork, partitions: list[Partition]) -> list[_Statement]:
        try:
            statements = add_partition_statements(self._catalog.database, work.table.name, partitions)
        except UnsafeQueryError as err:
            LOGGER.error("Statement refused", extra=context(table=work.table.name, error=str(err)))
            return []
        return [_Statement(query, work, members) for query, members in statements]
