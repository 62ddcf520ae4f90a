"""The fault-injection harness: a virtual clock, an in-memory SQS queue with its dead-letter queue, and a
seeded injector that wraps AWS clients and records, for every partition, when it was really committed.

The injector sits above the client: the code under test sees each injected error as if botocore's retries
were exhausted. Every decision comes from one ``random.Random(seed)``, so a failing run replays exactly.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.model import ServiceModel
from botocore.session import get_session
from botocore.validate import validate_parameters

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


class VirtualClock:
    """Seconds since the start of a run; nothing here ever sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


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


@cache
def _service_model(service: str) -> ServiceModel:
    return get_session().get_service_model(service)


def validate_request(service: str, operation: str, params: dict[str, Any]) -> None:
    """Refuse parameters that botocore would refuse before sending (ParamValidationError)."""
    shape = _service_model(service).operation_model(operation).input_shape
    if shape is not None:
        validate_parameters(params, shape)


@dataclass
class SqsMessage:
    message_id: str
    body: str
    sent_at: float
    receive_count: int = 0
    receipt_handle: str = ""
    visible_at: float = 0.0


class FakeSqs:
    """One SQS standard queue and its dead-letter queue, in memory: receives hide messages for their
    visibility timeout, each receive issues a new receipt handle (only the latest one deletes), and a
    message received ``max_receive_count`` times moves to the dead-letter queue on its next receive.
    Parameters are validated against botocore's SQS model, as a real client would."""

    OPERATIONS: Mapping[str, str] = {
        "get_queue_url": "GetQueueUrl",
        "receive_message": "ReceiveMessage",
        "delete_message_batch": "DeleteMessageBatch",
    }

    def __init__(self, clock: VirtualClock, name: str, *, max_receive_count: int = 5) -> None:
        self.clock = clock
        self.name = name
        self.url = f"https://sqs.us-east-1.amazonaws.com/123456789012/{name}"
        self.max_receive_count = max_receive_count
        self.messages: dict[str, SqsMessage] = {}
        self.dead_letters: dict[str, SqsMessage] = {}
        self.deleted_at: dict[str, float] = {}
        self.sent: dict[str, SqsMessage] = {}
        self._handles = 0

    def send(self, body: str) -> str:
        message = SqsMessage(f"msg-{len(self.sent):05d}", body, self.clock.now)
        self.messages[message.message_id] = self.sent[message.message_id] = message
        return message.message_id

    def _validate(self, operation: str, params: dict[str, Any]) -> None:
        validate_request("sqs", operation, params)
        if "QueueUrl" in params and params["QueueUrl"] != self.url:
            raise client_error("AWS.SimpleQueueService.NonExistentQueue", operation)

    def get_queue_url(self, **params: Any) -> dict[str, Any]:
        self._validate("GetQueueUrl", params)
        if params["QueueName"] != self.name:
            raise client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueUrl")
        return {"QueueUrl": self.url}

    def receive_message(self, **params: Any) -> dict[str, Any]:
        self._validate("ReceiveMessage", params)
        batch = self.take(params.get("MaxNumberOfMessages", 1), params.get("VisibilityTimeout", 30))
        if not batch:
            self.clock.advance(params.get("WaitTimeSeconds", 0))  # a long poll that found nothing
            return {}
        return {
            "Messages": [
                {"MessageId": m.message_id, "ReceiptHandle": m.receipt_handle, "Body": m.body} for m in batch
            ]
        }

    def take(self, count: int, visibility: int) -> list[SqsMessage]:
        """What a receive returns, with the dead-letter redrive applied first."""
        if not 1 <= count <= 10 or not 0 <= visibility <= 43_200:
            raise client_error("InvalidParameterValue", "ReceiveMessage")
        batch: list[SqsMessage] = []
        for message in list(self.messages.values()):
            if len(batch) == count:
                break
            if message.visible_at > self.clock.now:
                continue
            if message.receive_count >= self.max_receive_count:
                self.dead_letters[message.message_id] = self.messages.pop(message.message_id)
                continue
            self._handles += 1
            message.receive_count += 1
            message.receipt_handle = f"{message.message_id}#{self._handles}"
            message.visible_at = self.clock.now + visibility
            batch.append(message)
        return batch

    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        self._validate("DeleteMessageBatch", params)
        entries = params["Entries"]
        if not 1 <= len(entries) <= 10:
            raise client_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "DeleteMessageBatch")
        if len({entry["Id"] for entry in entries}) != len(entries):
            raise client_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "DeleteMessageBatch")
        successful, failed = [], []
        for entry in entries:
            if self.delete(entry["ReceiptHandle"]):
                successful.append({"Id": entry["Id"]})
            else:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid"})
        return {"Successful": successful, "Failed": failed}

    def delete(self, receipt_handle: str) -> bool:
        message_id = receipt_handle.partition("#")[0]
        if message_id in self.deleted_at:
            return True
        message = self.messages.get(message_id)
        if message is None or message.receipt_handle != receipt_handle:
            return False
        del self.messages[message_id]
        self.deleted_at[message_id] = self.clock.now
        return True

    def has_deliverable(self, wanted: Callable[[SqsMessage], bool] = lambda _: True) -> bool:
        return any(wanted(message) for message in self.messages.values())


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

    def wrap(self, client: Any, operations: Mapping[str, str] | None = None) -> InjectedClient:
        return InjectedClient(self, client, operations or client.meta.method_to_api_mapping)

    def call(self, operation: str, real: Callable[..., Any], params: dict[str, Any]) -> Any:
        self.clock.advance(self.call_seconds)
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
