"""The latency tier's AWS: the in-memory SQS queue and a Glue catalog in memory, every API call delayed by
a latency drawn from one fixed, seeded distribution, with real sleeps (threads overlap them, as calls in
flight overlap on AWS).

The distribution is lognormal: median ``MEDIAN_SECONDS`` (15 ms), 99th percentile ``P99_SECONDS`` (60 ms),
so sigma = ln(4) / 2.326 and the mean is about 17.9 ms. The state behind the calls is kept under a lock
(``InMemorySqs`` serialises its own calls); the sleeps are not. A received body is a new string, as a
client parses it from the answer: the memory a run measures is the memory a run on AWS would hold.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from streamalert.constants import GLUE_MAX_PARTITIONS_PER_BATCH, GLUE_MAX_PARTITIONS_PER_GET
from streamalert_cli.testing.calls import CallCounter
from streamalert_cli.testing.clock import WallClock
from streamalert_cli.testing.sqs import InMemorySqs, validate_request

MEDIAN_SECONDS = 0.015
P99_SECONDS = 0.060
Z_99 = 2.326  # the standard normal's 99th percentile
SIGMA = math.log(P99_SECONDS / MEDIAN_SECONDS) / Z_99
SEED = 14


class Latency:
    """Draws each call's latency from the seeded lognormal and sleeps it; counts what it slept."""

    def __init__(
        self,
        *,
        median_seconds: float = MEDIAN_SECONDS,
        sigma: float = SIGMA,
        seed: int = SEED,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.median_seconds = median_seconds
        self.sigma = sigma
        self._mu = math.log(median_seconds)
        self._random = random.Random(seed)
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls = 0
        self.slept_seconds = 0.0

    @property
    def mean_seconds(self) -> float:
        return self.median_seconds * math.exp(self.sigma**2 / 2)

    def percentile_seconds(self, z: float) -> float:
        """The latency at the standard normal's ``z`` (2.326: the 99th percentile)."""
        return self.median_seconds * math.exp(self.sigma * z)

    def draw(self) -> float:
        with self._lock:
            seconds = self._random.lognormvariate(self._mu, self.sigma)
            self.calls += 1
            self.slept_seconds += seconds
        return seconds

    def wait(self) -> None:
        self._sleep(self.draw())


class LatentSqs(InMemorySqs):
    """``InMemorySqs`` on the wall clock whose API calls each take a drawn latency; thread-safe. The
    helpers (``send``, ``take``) take none: they set up a run, they are not its calls."""

    def __init__(self, latency: Latency, name: str, *, counter: CallCounter | None = None) -> None:
        super().__init__(WallClock(), name, counter=counter)
        self.latency = latency

    def get_queue_url(self, **params: Any) -> dict[str, Any]:
        self.latency.wait()
        return super().get_queue_url(**params)

    def receive_message(self, **params: Any) -> dict[str, Any]:
        self.latency.wait()
        if params.get("WaitTimeSeconds", 0):
            raise ValueError("the latency tier does not long-poll: receive with WaitTimeSeconds=0")
        response = super().receive_message(**params)
        for message in response.get("Messages", []):
            message["Body"] = message["Body"].encode().decode()  # parsed from the answer: a new string
        return response

    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        self.latency.wait()
        return super().delete_message_batch(**params)

    def get_queue_attributes(self, **params: Any) -> dict[str, Any]:
        self.latency.wait()
        return super().get_queue_attributes(**params)


class EntityNotFoundException(ClientError):
    """Glue's error for a database or table that does not exist (as ``client.exceptions`` has it)."""


class _GlueExceptions:
    EntityNotFoundException = EntityNotFoundException


def _error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class LatentGlue:
    """The Glue client methods the refresh calls (GetDatabase, GetTable, BatchCreatePartition,
    BatchGetPartition) over one database in memory, each call validated as botocore does, counted, and
    delayed by a drawn latency; thread-safe."""

    exceptions = _GlueExceptions
    OPERATIONS = ("GetDatabase", "GetTable", "BatchCreatePartition", "BatchGetPartition")

    def __init__(self, latency: Latency, database: str, *, counter: CallCounter | None = None) -> None:
        self.latency = latency
        self.database = database
        self.counter = counter if counter is not None else CallCounter()
        self.tables: dict[str, dict[str, Any]] = {}
        self.partitions: dict[tuple[str, tuple[str, ...]], str] = {}  # (table, values) -> location
        self._lock = threading.Lock()

    def add_table(self, name: str, partition_keys: Sequence[str], location: str) -> None:
        """Set up a table (not an API call: no latency, not counted)."""
        self.tables[name] = {
            "Name": name,
            "DatabaseName": self.database,
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in partition_keys],
            "StorageDescriptor": {
                "Columns": [{"Name": "record", "Type": "string"}],
                "Location": location,
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        }

    def get_database(self, **params: Any) -> dict[str, Any]:
        self._call("GetDatabase", params)
        if params["Name"] != self.database:
            raise EntityNotFoundException(
                {"Error": {"Code": "EntityNotFoundException", "Message": "database not found"}}, "GetDatabase"
            )
        return {"Database": {"Name": self.database}}

    def get_table(self, **params: Any) -> dict[str, Any]:
        self._call("GetTable", params)
        table = self.tables.get(params["Name"]) if params["DatabaseName"] == self.database else None
        if table is None:
            raise EntityNotFoundException(
                {"Error": {"Code": "EntityNotFoundException", "Message": "table not found"}}, "GetTable"
            )
        return {"Table": table}

    def batch_create_partition(self, **params: Any) -> dict[str, Any]:
        self._call("BatchCreatePartition", params)
        inputs = params["PartitionInputList"]
        if len(inputs) > GLUE_MAX_PARTITIONS_PER_BATCH:
            raise _error("BatchCreatePartition", "InvalidInputException", "over 100 partitions")
        table = self._table("BatchCreatePartition", params)
        errors: list[dict[str, Any]] = []
        with self._lock:
            for entry in inputs:
                key = (table, tuple(entry["Values"]))
                if key in self.partitions:
                    errors.append(
                        {
                            "PartitionValues": list(entry["Values"]),
                            "ErrorDetail": {"ErrorCode": "AlreadyExistsException", "ErrorMessage": "exists"},
                        }
                    )
                else:
                    self.partitions[key] = entry["StorageDescriptor"]["Location"]
        return {"Errors": errors}

    def batch_get_partition(self, **params: Any) -> dict[str, Any]:
        self._call("BatchGetPartition", params)
        asked = params["PartitionsToGet"]
        if len(asked) > GLUE_MAX_PARTITIONS_PER_GET:
            raise _error("BatchGetPartition", "InvalidInputException", "over 1,000 partitions")
        table = self._table("BatchGetPartition", params)
        found: list[dict[str, Any]] = []
        with self._lock:
            for entry in asked:
                location = self.partitions.get((table, tuple(entry["Values"])))
                if location is not None:
                    found.append(
                        {"Values": list(entry["Values"]), "StorageDescriptor": {"Location": location}}
                    )
        return {"Partitions": found, "UnprocessedKeys": []}

    def _table(self, operation: str, params: Mapping[str, Any]) -> str:
        if params["DatabaseName"] != self.database or params["TableName"] not in self.tables:
            raise EntityNotFoundException(
                {"Error": {"Code": "EntityNotFoundException", "Message": "table not found"}}, operation
            )
        return str(params["TableName"])

    def _call(self, operation: str, params: Mapping[str, Any]) -> None:
        """What every API call does: its latency, botocore's validation, the count."""
        self.latency.wait()
        validate_request("glue", operation, params)
        with self._lock:
            self.counter.count(operation)


class NoAthena:
    """The Athena client of a Glue-mode refresh, which must never call it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a Glue-mode refresh called Athena's {name}")
