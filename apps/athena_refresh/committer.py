"""Commits a plan: Glue batches, Athena ADD PARTITION statements and MSCK repairs, once per table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from apps.athena_refresh.plan import Need, RefreshPlan
from config_schemas.models import RefreshType
from streamalert.athena import (
    AthenaQueryRunner,
    QueryOutcome,
    UnsafeQueryError,
    add_partition_statements,
    repair_table_statement,
)
from streamalert.deadline import Deadline
from streamalert.glue import GlueCatalog
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition

LOGGER = get_logger(__name__)

_MAX_REMEMBERED = 200_000


@dataclass
class CommitResult:
    done: set[Need] = field(default_factory=set)
    partitions_added: Counter[str] = field(default_factory=Counter)
    tables_repaired: list[str] = field(default_factory=list)


class PartitionCommitter:
    """Writes what a plan needs. Remembers, for the life of a warm container, the partitions it wrote,
    so that they are not written again."""

    def __init__(self, catalog: GlueCatalog, athena: AthenaQueryRunner, database: str) -> None:
        self._catalog = catalog
        self._athena = athena
        self._database = database
        self._written: set[tuple[str, Partition]] = set()

    def commit(self, plan: RefreshPlan, deadline: Deadline, margin: float) -> CommitResult:
        """Write the plan's partitions and repairs; nothing is started with less than ``margin`` left."""
        result = CommitResult()
        queries: list[str] = []
        query_needs: list[list[Need]] = []
        for (refresh_type, table), partitions in plan.partitions.items():
            new = [p for p in partitions if (table, p) not in self._written]
            result.done.update(Need(table, p) for p in partitions if (table, p) in self._written)
            if not new:
                continue
            if refresh_type is RefreshType.ADD_GLUE_PARTITION:
                self._commit_glue(table, plan, new, deadline.has(margin), result)
            else:
                try:
                    statements = add_partition_statements(self._database, table, new)
                except UnsafeQueryError as err:
                    LOGGER.error("Statement refused", extra=context(table=table, error=str(err)))
                    continue
                for statement, members in statements:
                    queries.append(statement)
                    query_needs.append([Need(table, p) for p in members])
        for table in plan.repairs:
            queries.append(repair_table_statement(self._database, table))
            query_needs.append([Need(table)])
        if queries:
            outcomes = self._athena.run(queries, deadline, margin=margin)
            self._record_queries(plan, outcomes, query_needs, result)
        return result

    def _record_queries(
        self,
        plan: RefreshPlan,
        outcomes: list[QueryOutcome],
        query_needs: list[list[Need]],
        result: CommitResult,
    ) -> None:
        added: dict[str, list[Partition]] = {}
        for outcome, needs in zip(outcomes, query_needs, strict=True):
            if not outcome.succeeded:
                continue
            self._record([need for need in needs if need.partition is None], result)
            for need in needs:
                if need.partition is not None:
                    added.setdefault(need.table, []).append(need.partition)
        for table, partitions in added.items():
            # ADD IF NOT EXISTS keeps a partition that exists at another folder: check where each one is
            conflicts = self._catalog.elsewhere(plan.tables[table], partitions)
            self._record([Need(table, p) for p in partitions if p not in conflicts], result)

    def _commit_glue(
        self, table: str, plan: RefreshPlan, new: list[Partition], time_left: bool, result: CommitResult
    ) -> None:
        if not time_left:
            LOGGER.warning(
                "No time left to write partitions", extra=context(table=table, partitions=len(new))
            )
            return
        try:
            failed = self._catalog.create_partitions(plan.tables[table], new)
        except (ClientError, BotoCoreError) as err:
            LOGGER.error("Glue could not write partitions", extra=context(table=table, error=str(err)))
            return
        self._record([Need(table, p) for p in new if p not in failed], result)

    def _record(self, needs: list[Need], result: CommitResult) -> None:
        if len(self._written) > _MAX_REMEMBERED:
            self._written.clear()
        for need in needs:
            result.done.add(need)
            if need.partition is None:
                result.tables_repaired.append(need.table)
            else:
                self._written.add((need.table, need.partition))
                result.partitions_added[need.table] += 1
