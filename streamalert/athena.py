"""Athena DDL: statements built from validated names and partitions, run and polled within a deadline."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.constants import ATHENA_MAX_QUERY_BYTES
from streamalert.deadline import RunBudget
from streamalert.exceptions import StreamAlertError
from streamalert.logger import context, get_logger
from streamalert.partitions import Partition

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

LOGGER = get_logger(__name__)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UNSAFE_LITERAL = re.compile(r"['\\\x00-\x1f\x7f-\x9f]")
_DONE_OK = "SUCCEEDED"
_DONE_FAILED = frozenset({"FAILED", "CANCELLED"})


class UnsafeQueryError(StreamAlertError):
    """A name or value that would change a statement's meaning: refused before any query is sent."""


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise UnsafeQueryError(f"{name!r} is not a plain identifier")
    return f"`{name}`"


def _literal(value: str) -> str:
    if _UNSAFE_LITERAL.search(value):
        raise UnsafeQueryError(f"{value!r} holds a quote, backslash or control character")
    return f"'{value}'"


def repair_table_statement(database: str, table: str) -> str:
    return f"MSCK REPAIR TABLE {_identifier(database)}.{_identifier(table)}"


def add_partition_statements(
    database: str, table: str, partitions: Sequence[Partition], max_bytes: int = ATHENA_MAX_QUERY_BYTES
) -> list[tuple[str, tuple[Partition, ...]]]:
    """``ALTER TABLE ... ADD IF NOT EXISTS`` statements for the partitions, each under ``max_bytes``
    (UTF-8), with the partitions each one carries."""
    head = f"ALTER TABLE {_identifier(database)}.{_identifier(table)} ADD IF NOT EXISTS"
    head_bytes = len(head.encode())
    statements: list[tuple[str, tuple[Partition, ...]]] = []
    clauses: list[str] = []
    members: list[Partition] = []
    size = head_bytes
    for partition in partitions:
        spec = ", ".join(
            f"{_identifier(c)} = {_literal(v)}"
            for c, v in zip(partition.columns, partition.values, strict=True)
        )
        clause = f"\nPARTITION ({spec}) LOCATION {_literal(partition.location)}"
        clause_bytes = len(clause.encode())
        if head_bytes + clause_bytes > max_bytes:
            raise UnsafeQueryError(
                f"one partition makes a statement over {max_bytes} bytes: {partition.location}"
            )
        if clauses and size + clause_bytes > max_bytes:
            statements.append((head + "".join(clauses), tuple(members)))
            clauses, members, size = [], [], head_bytes
        clauses.append(clause)
        members.append(partition)
        size += clause_bytes
    if clauses:
        statements.append((head + "".join(clauses), tuple(members)))
    return statements


@dataclass(frozen=True)
class QueryOutcome:
    """How one query ended. ``refused``: Athena ran it and said no (a statement it cannot run), as
    opposed to a query that found no time, could not be sent or was stopped."""

    query: str
    succeeded: bool
    detail: str = ""
    refused: bool = False


class AthenaQueryRunner:
    """Starts queries, polls them together with bounded backoff, stops what the deadline leaves running."""

    def __init__(
        self,
        client: AthenaClient,
        database: str,
        results_location: str,
        *,
        workgroup: str = "primary",
        sleep: Callable[[float], None] = time.sleep,
        first_poll_seconds: float = 0.25,
        max_poll_seconds: float = 2.0,
        max_polls: int = 1000,
    ) -> None:
        self._client = client
        self._database = database
        self._results_location = results_location
        self._workgroup = workgroup
        self._sleep = sleep
        self._first_poll = first_poll_seconds
        self._max_poll = max_poll_seconds
        self._max_polls = max_polls

    def run(self, queries: Sequence[str], budget: RunBudget) -> list[QueryOutcome]:
        """Run every query; one outcome per query, in order. A failed, cancelled or unfinished query fails.
        No call starts, and no poll waits, past the budget: what is still running then is stopped."""
        outcomes: dict[int, QueryOutcome] = {}
        running: dict[str, int] = {}
        for index, query in enumerate(queries):
            if not budget.may_call():
                outcomes[index] = QueryOutcome(query, False, "not started: no time left")
                continue
            try:
                LOGGER.debug("Starting Athena query", extra=context(query=query))
                execution_id = self._client.start_query_execution(
                    QueryString=query,
                    WorkGroup=self._workgroup,
                    QueryExecutionContext={"Database": self._database},
                    ResultConfiguration={"OutputLocation": self._results_location},
                )["QueryExecutionId"]
            except ClientError as err:
                invalid = err.response.get("Error", {}).get("Code") == "InvalidRequestException"
                outcomes[index] = QueryOutcome(query, False, f"could not start: {err}", refused=invalid)
                continue
            except BotoCoreError as err:
                outcomes[index] = QueryOutcome(query, False, f"could not start: {err}")
                continue
            running[execution_id] = index
        delay = self._first_poll
        polls = 0
        while running and polls < self._max_polls and budget.may_call():
            polls += 1
            self._sleep(budget.wait_seconds(delay))
            delay = min(delay * 2, self._max_poll)
            for execution_id, state, reason in self._states(list(running), budget):
                if state == _DONE_OK or state in _DONE_FAILED:
                    index = running.pop(execution_id)
                    outcomes[index] = QueryOutcome(
                        queries[index],
                        state == _DONE_OK,
                        f"{state} {reason}".strip(),
                        refused=state == "FAILED",
                    )
        for execution_id, index in running.items():
            self._stop(execution_id, budget)
            outcomes[index] = QueryOutcome(
                queries[index], False, "stopped: still running when the time was up"
            )
        for outcome in outcomes.values():
            if not outcome.succeeded:
                LOGGER.error("Athena query failed", extra=context(query=outcome.query, detail=outcome.detail))
        return [outcomes[index] for index in range(len(queries))]

    def _states(self, execution_ids: list[str], budget: RunBudget) -> list[tuple[str, str, str]]:
        """(id, state, reason) of each query that could be read in time (GetQueryExecution: the emulator
        lacks the batch call, and a run holds a handful of queries)."""
        states: list[tuple[str, str, str]] = []
        for execution_id in execution_ids:
            if not budget.may_call():
                break
            try:
                execution = self._client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            except (ClientError, BotoCoreError) as err:
                LOGGER.warning(
                    "Could not read an Athena query state", extra=context(id=execution_id, error=str(err))
                )
                continue
            status = execution.get("Status", {})
            states.append((execution_id, status.get("State", ""), status.get("StateChangeReason", "")))
        return states

    def _stop(self, execution_id: str, budget: RunBudget) -> None:
        """Stop a query the run cannot wait for; with no time even for that, Athena's own query timeout
        ends it (the statement is idempotent: a later run sends it again)."""
        if not budget.deadline.has(budget.margin / 2):
            LOGGER.warning("No time to stop an Athena query", extra=context(id=execution_id))
            return
        try:
            self._client.stop_query_execution(QueryExecutionId=execution_id)
        except (ClientError, BotoCoreError) as err:
            LOGGER.warning("Could not stop Athena query", extra=context(id=execution_id, error=str(err)))
