"""Records parsed, decoded, validated and grouped per second on one core: ``Planner.plan`` over a batch of
S3 notifications (one record each, about 1 KB, as S3 writes them), table lookups already cached.

Three contenders run in turns, each timed ``rounds`` times in CPU time of the thread (time waiting for
a core shared with other work is not counted); the best round of each is kept (the least disturbed)
and the median shown beside it:
- the refresh as shipped (msgspec's fast path);
- the refresh without msgspec (the standard library path every body falls back to);
- a model of the function this replaces (StreamAlert's Athena partitioner): the same work done its
  way, ``json.loads`` of every body, ``unquote_plus`` of every key, a regex and string formatting for
  every object, re-implemented here for the comparison.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import unquote_plus

from apps.athena_refresh.plan import Planner
from apps.athena_refresh.routing import SourceRouter
from benchmarks.workload import MIXED_TABLES, mixed_bodies
from streamalert import s3_events
from streamalert.glue import TableInfo
from streamalert.sqs import QueueMessage

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH = 10_000
PARTITIONS_PER_TABLE = 24  # a day of hourly partitions: thousands of objects share a folder
TARGET_RECORDS_PER_SECOND = 300_000
FAST = "refresh (msgspec fast path)"
STDLIB = "refresh without msgspec (stdlib json)"
REPLACED = "replaced function's way (model)"


@dataclass(frozen=True)
class Throughput:
    name: str
    records: int
    best_seconds: float
    median_seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.best_seconds


def batch(size: int = BATCH) -> list[QueueMessage]:
    """``size`` messages as the queue hands them over, one object each, over four tables."""
    bodies = mixed_bodies(size, PARTITIONS_PER_TABLE)
    return [QueueMessage(f"m-{index}", f"r-{index}", body) for index, body in enumerate(bodies)]


def planner_run(messages: Sequence[QueueMessage]) -> Callable[[], int]:
    """One timed round: plan the batch with a new Planner (as every run does); returns the records read."""
    tables = {
        table.name: TableInfo(table.name, table.partition_keys, {"Location": table.location})
        for table in MIXED_TABLES
    }
    router = SourceRouter(table.route for table in MIXED_TABLES)

    def run() -> int:
        plan = Planner(router, tables.__getitem__).plan(messages)
        return sum(len(planned.needs) for planned in plan.messages)

    return run


def without_msgspec() -> AbstractContextManager[object]:
    """The refresh as it runs where msgspec is not installed."""
    return mock.patch.object(s3_events, "_s3_fast", None)


def replaced_function_run(messages: Sequence[QueueMessage]) -> Callable[[], int]:
    """One round of the replaced function's way (see the module docstring)."""
    hive = re.compile(r"dt=(?P<year>\d{4})\-(?P<month>\d{2})\-(?P<day>\d{2})\-(?P<hour>\d{2})\/.*")
    firehose = re.compile(r"(?P<year>\d{4})\/(?P<month>\d{2})\/(?P<day>\d{2})\/(?P<hour>\d{2})\/.*")
    tables = {table.route.source.bucket: table.name for table in MIXED_TABLES}

    def run() -> int:
        keys_by_bucket: dict[str, set[bytes]] = defaultdict(set)
        for message in messages:
            body = json.loads(message.body)
            if body.get("Event") == "s3:TestEvent":
                continue
            for record in body["Records"]:
                if "s3" not in record:
                    continue
                raw_key = unquote_plus(record["s3"]["object"]["key"]).encode()
                if not raw_key.endswith(b"_$folder$"):
                    keys_by_bucket[record["s3"]["bucket"]["name"]].add(raw_key)
        partitions: dict[str, dict[str, str]] = defaultdict(dict)
        records = 0
        for bucket, keys in keys_by_bucket.items():
            for encoded in keys:
                key = encoded.decode("utf-8")
                match = firehose.search(key) or hive.search(key)
                if match is None:
                    continue
                path = posixpath.dirname(key)
                spec = "(dt = '{year}-{month}-{day}-{hour}')".format(**match.groupdict())
                partitions[tables[bucket]][spec] = f"'s3://{bucket}/{path}'"
                records += 1
        return records

    return run


def measure_isolated(rounds: int = 15, size: int = BATCH) -> list[Throughput]:
    """``measure`` in a fresh interpreter that imports only what it measures: the heap a Lambda has,
    not the emulator's and the earlier benchmarks'."""
    code = (
        "import dataclasses, json\n"
        "from benchmarks.throughput import measure\n"
        f"print(json.dumps([dataclasses.asdict(t) for t in measure({rounds}, {size})]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return [Throughput(**entry) for entry in json.loads(result.stdout)]


def measure(rounds: int = 15, size: int = BATCH) -> list[Throughput]:
    """The three contenders on the same batch, in turns."""
    messages = batch(size)
    contenders: dict[str, tuple[Callable[[], int], Callable[[], AbstractContextManager[object]]]] = {
        FAST: (planner_run(messages), nullcontext),
        STDLIB: (planner_run(messages), without_msgspec),
        REPLACED: (replaced_function_run(messages), nullcontext),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for name, (run, context) in contenders.items():
            with context():
                started = time.thread_time()
                counts[name] = run()
                times[name].append(time.thread_time() - started)
    for name, count in counts.items():
        if count != size:
            raise RuntimeError(f"{name} read {count} records of {size}")
    return [
        Throughput(name, size, min(samples), statistics.median(samples)) for name, samples in times.items()
    ]
