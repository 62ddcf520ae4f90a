"""The fault-injection harness: a virtual clock and the in-memory SQS queue (streamalert_cli.testing), and a
seeded injector that wraps AWS clients and records, for every partition, when it was really committed.

The injector sits above the client: the code under test sees each injected error as if botocore's retries
were exhausted. Every decision comes from one ``random.Random(seed)``, so a failing run replays exactly.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from streamalert_cli.testing.clock import VirtualClock
from streamalert_cli.testing.sqs import InMemorySqs, validate_request

# A partition as the ledger knows it: (table, values, location)
PartitionId = tuple[str, tuple[str, ...], str]

_STATEMENT_HEAD = re.compile(
    r"ALTER TABLE `(?P<db>[A-Za-z_]\w*)`\.`(?P<table>[A-Za-z_]\w*)` ADD IF NOT EXISTS"
)
_CLAUSE = re.compile(
    r"\nPARTITION \((?P<spec>`[A-Za-z_]\w*` = '[^'\\]*'(?:, `[A-Za-z_]\w*` = '[^'\\]*')*)\) "
    r"LOCATION '(?P<location>s3://[^'\\]+/)'"
)
_SPEC_ITEM = re.compile(r"`(?P<column>[A-Za-z_]\w*)` = '(?P<value>[^'\\]*)'")
_REPAIR = re.compile(r"MSCK REPAIR TABLE `(?P<db>[A-Za-z_]\w*)`\.`(?P<table>[A-Za-z_]\w*)`\Z")


@dataclass(frozen=True)
class ParsedStatement:
    """A statement the refresher sent, read back: its table and the partitions it adds (none for MSCK)."""

    database: str
    table: str
    partitions: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = ()  # (columns, values, location)
    repair: bool = False


def parse_statement(query: str) -> ParsedStatement:
    """Read a refresher statement with the strict grammar it must follow; ValueError if it does not."""
    repair = _REPAIR.fullmatch(query)
    if repair:
        return ParsedStatement(repair["db"], repair["table"], repair=True)
    head = _STATEMENT_HEAD.match(query)
    if head is None:
        raise ValueError(f"not a refresher statement: {query[:120]!r}")
    partitions = []
    position = head.end()
    while position < len(query):
        clause = _CLAUSE.match(query, position)
        if clause is None:
            raise ValueError(f"malformed clause at byte {position}: {query[position : position + 120]!r}")
        items = [(m["column"], m["value"]) for m in _SPEC_ITEM.finditer(clause["spec"])]
        columns, values = tuple(c for c, _ in items), tuple(v for _, v in items)
        partitions.append((columns, values, clause["location"]))
        position = clause.end()
    if not partitions:
        raise ValueError("an ALTER TABLE statement without a partition")
    return ParsedStatement(head["db"], head["table"], tuple(partitions))


class ClockContext:
    """A Lambda context whose remaining time runs on a virtual clock."""

    def __init__(self, clock: VirtualClock, timeout_seconds: float) -> None:
        self.clock = clock
        self.ends_at = clock.now + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self.ends_at - self.clock.now) * 1000)


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


# The reliability tests' name for the one in-memory SQS (its dead-letter queue, receipt handles, botocore's
# parameter validation, the virtual clock), shared with the benchmarks
FakeSqs = InMemorySqs


@dataclass
class QueryRun:
    """One Athena execution as the injector decided it: it ends ``duration`` after its start."""

    query: str
    started_at: float
    duration: float
    final_state: str
    stopped_at: float | None = None

    def state(self, now: float) -> str:
        if self.stopped_at is not None and self.stopped_at < self.started_at + self.duration:
            return "CANCELLED"
        return self.final_state if now >= self.started_at + self.duration else "RUNNING"

    @property
    def committed_at(self) -> float | None:
        """When the statement took effect, if it ever did."""
        ends = self.started_at + self.duration
        if self.final_state != "SUCCEEDED" or (self.stopped_at is not None and self.stopped_at < ends):
            return None
        return ends


_ERROR_FAULTS = {
    "throttled": ("ThrottlingException", 400),
    "internal": ("InternalFailure", 500),
    "unavailable": ("ServiceUnavailable", 503),
}
_COMMON_FAULTS = (*_ERROR_FAULTS, "read_timeout", "read_timeout_applied", "connect_timeout")
_SPECIAL_FAULTS: Mapping[str, tuple[str, ...]] = {
    "DeleteMessageBatch": ("partial_delete",),
    "BatchCreatePartition": ("glue_error_entry", "glue_error_entry_written", "glue_error_unplaced"),
    "StartQueryExecution": ("query_failed", "query_cancelled", "query_slow"),
}


@dataclass
class FaultInjector:
    """Wraps clients; on each call, from one seeded generator, maybe injects a fault. Keeps the ledger of
    what really took effect: ``partitions`` written to Glue (first write time) and Athena ``queries``."""

    rng: random.Random
    clock: VirtualClock
    rate: float = 0.0
    call_seconds: float = 0.02
    faults: Counter[str] = field(default_factory=Counter)
    partitions: dict[PartitionId, float] = field(default_factory=dict)
    queries: dict[str, QueryRun] = field(default_factory=dict)
    last_fault: str = ""
    query_seconds: float | None = None  # when set, every Athena query runs this long
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def wrap(self, client: Any, operations: Mapping[str, str] | None = None) -> InjectedClient:
        return InjectedClient(self, client, operations or client.meta.method_to_api_mapping)

    def call(self, operation: str, real: Callable[..., Any], params: dict[str, Any]) -> Any:
        """One call, whole, while no other thread's call runs: the refresh's drain calls from several
        threads, and the clock, the generator and the fakes behind are not thread-safe (AWS is). The call
        ends ``call_seconds`` after it was made, not after the calls it waited for."""
        started = self.clock.now  # calls made together end together: ``call_seconds`` after they start
        with self._lock:
            return self._call(operation, real, params, started)

    def _call(self, operation: str, real: Callable[..., Any], params: dict[str, Any], started: float) -> Any:
        self.clock.advance(started + self.call_seconds - self.clock.now)
        fault = self._pick(operation)
        if fault is not None:
            self.faults[f"{operation}:{fault}"] += 1
            self.last_fault = operation
        if fault in _ERROR_FAULTS:
            code, status = _ERROR_FAULTS[fault]
            raise client_error(code, operation, status)
        if fault == "connect_timeout":
            raise ConnectTimeoutError(endpoint_url=f"https://{operation.lower()}.invalid")
        if fault == "read_timeout_applied":  # the request reached the service; its answer did not come back
            with contextlib.suppress(ClientError):
                self._through(operation, real, params, None)
        if fault in ("read_timeout", "read_timeout_applied"):
            raise ReadTimeoutError(endpoint_url=f"https://{operation.lower()}.invalid")
        return self._through(operation, real, params, fault)

    def _pick(self, operation: str) -> str | None:
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        special = _SPECIAL_FAULTS.get(operation, ())
        return self.rng.choice(special if special and self.rng.random() < 0.5 else _COMMON_FAULTS)

    def _through(
        self, operation: str, real: Callable[..., Any], params: dict[str, Any], fault: str | None
    ) -> Any:
        if operation == "DeleteMessageBatch" and fault == "partial_delete":
            return self._partial_delete(real, params)
        if operation == "BatchCreatePartition":
            return self._create_partitions(real, params, fault)
        if operation == "StartQueryExecution":
            return self._start_query(real, params, fault)
        if operation in ("GetQueryExecution", "StopQueryExecution"):
            return self._query_state(operation, params)
        return real(**params)

    def _query_state(self, operation: str, params: dict[str, Any]) -> Any:
        """Athena's answer from the injector's model of the execution (moto would say SUCCEEDED at once)."""
        validate_request("athena", operation, params)
        run = self.queries.get(params["QueryExecutionId"])
        if run is None:
            raise client_error("InvalidRequestException", operation)
        state = run.state(self.clock.now)
        if operation == "StopQueryExecution":
            if state == "RUNNING":
                run.stopped_at = self.clock.now
            return {}
        execution = {
            "QueryExecutionId": params["QueryExecutionId"],
            "Query": run.query,
            "Status": {"State": state},
        }
        return {"QueryExecution": execution}

    def _partial_delete(self, real: Callable[..., Any], params: dict[str, Any]) -> Any:
        entries = params["Entries"]
        refused = set(self.rng.sample(range(len(entries)), self.rng.randint(1, len(entries))))
        kept = [entry for index, entry in enumerate(entries) if index not in refused]
        response = real(**{**params, "Entries": kept}) if kept else {"Successful": [], "Failed": []}
        response.setdefault("Failed", []).extend(
            {"Id": entries[i]["Id"], "SenderFault": False, "Code": "InternalError"} for i in sorted(refused)
        )
        return response

    def _create_partitions(self, real: Callable[..., Any], params: dict[str, Any], fault: str | None) -> Any:
        inputs = params["PartitionInputList"]
        refused = (
            set(self.rng.sample(range(len(inputs)), self.rng.randint(1, len(inputs)))) if fault else set()
        )
        sent = (
            inputs
            if fault == "glue_error_entry_written"
            else [p for i, p in enumerate(inputs) if i not in refused]
        )
        response = real(**{**params, "PartitionInputList": sent}) if sent else {"Errors": []}
        # AlreadyExistsException: written before (and recorded then), or at another location: not this one
        failed = {tuple(error["PartitionValues"]) for error in response.get("Errors", [])}
        for partition in sent:
            if tuple(partition["Values"]) not in failed:
                key = (
                    params["TableName"],
                    tuple(partition["Values"]),
                    partition["StorageDescriptor"]["Location"],
                )
                self.partitions.setdefault(key, self.clock.now)
        detail = {"ErrorCode": "InternalServiceException", "ErrorMessage": "injected"}
        errors = response.setdefault("Errors", [])
        if fault == "glue_error_unplaced":
            errors.append({"ErrorDetail": detail})
        else:
            errors.extend(
                {"PartitionValues": inputs[i]["Values"], "ErrorDetail": detail} for i in sorted(refused)
            )
        return response

    def _start_query(self, real: Callable[..., Any], params: dict[str, Any], fault: str | None) -> Any:
        response = real(**params)
        final_state, duration = "SUCCEEDED", self.query_seconds or self.rng.choice((0.1, 0.1, 0.1, 0.6, 2.0))
        if fault == "query_failed":
            final_state = "FAILED"
        elif fault == "query_cancelled":
            final_state = "CANCELLED"
        elif fault == "query_slow":
            duration = self.rng.uniform(30.0, 600.0)
        run = QueryRun(params["QueryString"], self.clock.now, duration, final_state)
        self.queries[response["QueryExecutionId"]] = run
        return response

    def committed(self) -> Iterator[tuple[ParsedStatement, QueryRun]]:
        """Every Athena statement that took effect by now, read back, with its execution."""
        for run in self.queries.values():
            if run.committed_at is not None and run.committed_at <= self.clock.now:
                yield parse_statement(run.query), run


class InjectedClient:
    """A client whose API operations go through the injector; other attributes (``exceptions``) are the
    client's own."""

    def __init__(self, injector: FaultInjector, client: Any, operations: Mapping[str, str]) -> None:
        self._injector = injector
        self._client = client
        self._operations = operations

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        operation = self._operations.get(name)
        if operation is None:
            return real
        return lambda **params: self._injector.call(operation, real, params)
