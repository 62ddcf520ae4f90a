"""The latency tier: the refresh's two ways of running, end to end, on an AWS whose every call takes
a latency drawn from a fixed, seeded distribution (``benchmarks.latent_aws``: median 15 ms, 99th
percentile 60 ms), over a backlog of one-record messages for 48 hourly partitions of one Glue table.

- The scheduled drain: invocations of ``run_scheduled`` (a warm container, 900 s each) until the backlog
  is gone; messages per second of their summed run time, and the peak memory the runs allocate
  (tracemalloc's peak in a second, traced pass, started after the backlog is queued). Serial (a pool of
  one) beside the default settings. Receives do not long-poll: on AWS the run's last, empty receive
  waits up to its ``receive_wait_seconds`` more.
- The event-source mode: one invocation of the handler's work (``messages_from_event`` and
  ``run_event_source``) on a batch of the default size and on the largest batch Lambda delivers; its
  own time is the CPU time of the process (the simulated latency is sleep, not CPU), wall time beside.

Each measurement runs in a fresh interpreter importing only the function and the fakes (the heap a
Lambda has), the variants of ``VARIANTS`` with one of the parsing optimisations switched off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from benchmarks.latent_aws import (
    MEDIAN_SECONDS,
    P99_SECONDS,
    Latency,
    LatentGlue,
    LatentSqs,
    NoAthena,
)
from benchmarks.workload import (
    DATABASE,
    LAMBDA_TIMEOUT_SECONDS,
    PREFIX,
    REGION,
    BenchTable,
    _table,
    bodies_for,
)
from config_schemas.models import RefreshType
from streamalert.constants import athena_queue_name
from streamalert.deadline import Deadline
from streamalert.sqs import messages_from_event
from streamalert_cli.local_handlers import sqs_event
from streamalert_cli.testing.calls import CallCounter
from streamalert_cli.testing.sqs import service_operation as validate_model

REPO_ROOT = Path(__file__).resolve().parents[1]
BACKLOGS = (1_000, 10_000, 100_000)
SERIAL_BACKLOGS = (1_000, 10_000)  # 100,000 serial takes about 6 minutes: --latency-serial-full adds it
PARTITIONS = 48  # two days of hourly partitions
LAMBDA_DEFAULT_EVENT_BATCH = 10  # Lambda's own default batch size for an SQS event source
# The most Lambda delivers from SQS (batch size 10,000 with a batching window); its 6 MB payload limit
# ends a batch of ~2 KB notification records near 3,000, so this is the upper bound of a batch
LARGEST_EVENT_BATCH = 10_000
TARGET_DRAIN_RATE = 3_000.0  # messages a second, default settings, at 100,000
TARGET_PEAK_MIB = 100.0  # at 100,000: the function has 128 MB
TARGET_HANDLER_SECONDS = 0.5  # own time, a full batch
TABLE: BenchTable = _table(
    "bench-data", "cloudtrail", "cloudtrail", RefreshType.ADD_GLUE_PARTITION, "firehose"
)
# The parsing optimisations measured end to end. The paused cycle collector and the pre-hashed needs
# moved no end-to-end figure by more than 4% and were removed (docs/bench/README.md has their numbers).
VARIANTS = ("as shipped", "without msgspec")


@dataclass(frozen=True)
class DrainRun:
    """Scheduled runs until a backlog is drained."""

    backlog: int
    pool: str  # "serial" or "default"
    variant: str
    invocations: int
    seconds: float
    peak_bytes: int | None
    calls: dict[str, int]
    # of what the run allocated, what the fake queue and catalog still hold at its end (receipt handles,
    # in-flight and deletion records): the fakes', not the function's (on AWS they live in SQS)
    fake_bytes: int | None = None

    @property
    def rate(self) -> float:
        return self.backlog / self.seconds

    @property
    def peak_mib(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / 2**20


@dataclass(frozen=True)
class HandlerRun:
    """One event-source invocation on a batch."""

    batch: int
    variant: str
    cpu_seconds: float
    wall_seconds: float
    slept_seconds: float
    peak_bytes: int | None
    calls: dict[str, int]

    @property
    def peak_mib(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / 2**20


def default_event_batch() -> int:
    """The queue trigger's default batch size (the config's ``event_source.batch_size``), or Lambda's
    own where the config has none."""
    from config_schemas import models

    default = getattr(models, "DEFAULT_EVENT_SOURCE", None)
    return int(getattr(default, "batch_size", LAMBDA_DEFAULT_EVENT_BATCH))


def grep_line(run: DrainRun) -> str:
    """The line readers grep for the 100,000 backlog with the default settings."""
    peak = run.peak_mib if run.peak_mib is not None else float("nan")
    return (
        f"drain: {run.backlog} messages in {run.seconds:.1f} s = {run.rate:.0f} msg/s, "
        f"peak {peak:.1f} MiB (latency median {MEDIAN_SECONDS * 1000:.0f} ms)"
    )


def settings_for(pool: str) -> RefreshSettings:
    """The run's settings: the defaults, or a pool of one (``concurrency=1``, where the refresh has a
    pool). Receives never long-poll here."""
    names = {field.name for field in dataclasses.fields(RefreshSettings)}
    extra: dict[str, Any] = {"concurrency": 1} if pool == "serial" and "concurrency" in names else {}
    return RefreshSettings(receive_wait_seconds=0, **extra)


def concurrency_of(pool: str) -> int:
    return int(getattr(settings_for(pool), "concurrency", 1))


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """The refresh with one parsing optimisation switched off (``as shipped``: none)."""
    from unittest import mock

    from streamalert import s3_events

    if name not in VARIANTS:
        raise ValueError(f"no variant {name!r}: one of {', '.join(VARIANTS)}")
    switch = mock.patch.object(s3_events, "_s3_fast", None) if name == "without msgspec" else None
    with switch or contextlib.nullcontext():
        yield


class LatentDeployment:
    """One refresh function on the latent AWS: its queue holding the backlog, its Glue table."""

    def __init__(self, messages: int, latency: Latency | None = None) -> None:
        self.latency = latency or Latency()
        self.counter = CallCounter()
        self.sqs = LatentSqs(self.latency, athena_queue_name(PREFIX), counter=self.counter)
        self.glue = LatentGlue(self.latency, DATABASE, counter=self.counter)
        self.glue.add_table(TABLE.name, TABLE.partition_keys, TABLE.location)
        warm_models()
        self.bodies = bodies_for(TABLE, messages, PARTITIONS)

    def refresher(self, settings: RefreshSettings) -> PartitionRefresher:
        return PartitionRefresher.build(
            TABLE.block(), prefix=PREFIX, sqs=self.sqs, glue=self.glue, athena=NoAthena(), settings=settings
        )

    def event(self) -> dict[str, Any]:
        """The backlog as one event-source batch, as Lambda delivers it."""
        received = [
            {
                "MessageId": f"m-{index}",
                "ReceiptHandle": f"r-{index}",
                "Body": body,
                "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "MD5OfBody": "0" * 32,
            }
            for index, body in enumerate(self.bodies)
        ]
        return sqs_event(received, f"arn:aws:sqs:{REGION}:123456789012:{self.sqs.name}", REGION)


def warm_models() -> None:
    """Load the service models the fakes validate against, as a client loads its own when it is built
    (at a container's start, not in a run): what a run allocates is the run's."""
    for service, operations in (("sqs", LatentSqs.OPERATIONS.values()), ("glue", LatentGlue.OPERATIONS)):
        for operation in operations:
            validate_model(service, operation)


@contextlib.contextmanager
def _measured(traced: bool) -> Iterator[Callable[[], int | None]]:
    """Quiet (the runs' metric lines), after a collection, under tracemalloc when ``traced``; yields
    what reads the peak."""
    gc.collect()
    if traced:
        tracemalloc.start()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield lambda: tracemalloc.get_traced_memory()[1] if traced else None
    finally:
        if traced:
            tracemalloc.stop()


def drain(
    backlog: int,
    pool: str,
    *,
    traced: bool = False,
    variant_name: str = VARIANTS[0],
    latency: Latency | None = None,
) -> DrainRun:
    """Scheduled runs of one warm container until the backlog is gone; every message must be deleted."""
    deployment = LatentDeployment(backlog, latency)
    for body in deployment.bodies:
        deployment.sqs.send(body)
    deployment.bodies = []
    refresher = deployment.refresher(settings_for(pool))
    invocations = 0
    with variant(variant_name), _measured(traced) as peak:
        started = time.perf_counter()
        while deployment.sqs.messages:
            invocations += 1
            before = len(deployment.sqs.messages)
            summary = refresher.run_scheduled(Deadline.after(LAMBDA_TIMEOUT_SECONDS))
            if len(deployment.sqs.messages) >= before:
                raise RuntimeError(f"a run deleted nothing, {before} messages left: {summary}")
        seconds = time.perf_counter() - started
        peak_bytes = peak()
        fake_bytes = _held_by_fakes() if traced else None
    if len(deployment.sqs.deleted_at) != backlog:
        raise RuntimeError(f"{len(deployment.sqs.deleted_at)} of {backlog} messages deleted")
    _check_partitions(deployment, backlog)
    calls = dict(deployment.counter.calls)
    return DrainRun(backlog, pool, variant_name, invocations, seconds, peak_bytes, calls, fake_bytes)


def _held_by_fakes() -> int:
    """The traced bytes still held that the fakes' own code allocated (tracemalloc's snapshot, by the
    file of each allocation)."""
    fakes = (str(REPO_ROOT / "streamalert_cli" / "testing"), str(REPO_ROOT / "benchmarks" / "latent_aws.py"))
    statistics = tracemalloc.take_snapshot().statistics("filename")
    return sum(stat.size for stat in statistics if stat.traceback[0].filename.startswith(fakes))


def event_source(
    batch: int, *, traced: bool = False, variant_name: str = VARIANTS[0], latency: Latency | None = None
) -> HandlerRun:
    """One invocation on a batch of ``batch`` messages; none may be reported as failed."""
    deployment = LatentDeployment(batch, latency)
    event = deployment.event()
    deployment.bodies = []
    refresher = deployment.refresher(settings_for("default"))
    with variant(variant_name), _measured(traced) as peak:
        slept = deployment.latency.slept_seconds
        wall, cpu = time.perf_counter(), time.process_time()
        messages = messages_from_event(event)
        assert messages is not None
        response = refresher.run_event_source(messages, Deadline.after(LAMBDA_TIMEOUT_SECONDS))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak_bytes = peak()
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{len(response['batchItemFailures'])} of {batch} messages failed")
    _check_partitions(deployment, batch)
    slept = deployment.latency.slept_seconds - slept
    return HandlerRun(batch, variant_name, cpu, wall, slept, peak_bytes, dict(deployment.counter.calls))


def _check_partitions(deployment: LatentDeployment, messages: int) -> None:
    """A run that did not register its partitions would measure nothing: refuse it."""
    expected = min(PARTITIONS, messages)
    if len(deployment.glue.partitions) != expected:
        raise RuntimeError(f"{len(deployment.glue.partitions)} partitions registered of {expected}")


# In a fresh interpreter, one measurement each: the heap a Lambda has, tracemalloc's cost on nothing else


def isolated(kind: str, size: int, **options: Any) -> dict[str, Any]:
    """``drain`` or ``event_source`` in a fresh interpreter; the result as a dict."""
    code = (
        "import dataclasses, json, sys\n"
        "from benchmarks import latency\n"
        f"run = getattr(latency, {kind!r})({size!r}, **json.loads(sys.argv[1]))\n"
        "print(json.dumps(dataclasses.asdict(run)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(options)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"latency {kind} {size} {options}: {result.stderr.strip()[-2000:]}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def isolated_drain(
    backlog: int, pool: str, *, variant_name: str = VARIANTS[0], traced: bool = True
) -> DrainRun:
    """The drain timed untraced, then again under tracemalloc for its peak."""
    timed = DrainRun(**isolated("drain", backlog, pool=pool, variant_name=variant_name))
    if not traced:
        return timed
    traced_run = isolated("drain", backlog, pool=pool, variant_name=variant_name, traced=True)
    return dataclasses.replace(
        timed, peak_bytes=traced_run["peak_bytes"], fake_bytes=traced_run["fake_bytes"]
    )


def isolated_handler(batch: int, *, variant_name: str = VARIANTS[0], rounds: int = 1) -> HandlerRun:
    """The best of ``rounds`` untraced invocations by CPU time, and the peak of one traced."""
    runs = [HandlerRun(**isolated("event_source", batch, variant_name=variant_name)) for _ in range(rounds)]
    best = min(runs, key=lambda run: run.cpu_seconds)
    peak = isolated("event_source", batch, variant_name=variant_name, traced=True)["peak_bytes"]
    return dataclasses.replace(best, peak_bytes=peak)


@dataclass
class LatencyResults:
    """The tier's results: drains, handler runs, and the variants of part 4."""

    median_seconds: float = MEDIAN_SECONDS
    p99_seconds: float = P99_SECONDS
    concurrency: int = 1
    variant_rounds: int = 0
    drains: list[DrainRun] = dataclasses.field(default_factory=list)
    handlers: list[HandlerRun] = dataclasses.field(default_factory=list)
    variant_drains: list[DrainRun] = dataclasses.field(default_factory=list)
    variant_handlers: list[HandlerRun] = dataclasses.field(default_factory=list)

    def default_drain(self, backlog: int) -> DrainRun | None:
        return next((d for d in self.drains if d.backlog == backlog and d.pool == "default"), None)


def measure(
    backlogs: tuple[int, ...] = BACKLOGS,
    serial_backlogs: tuple[int, ...] = SERIAL_BACKLOGS,
    *,
    variant_backlog: int = 10_000,
    batches: tuple[int, ...] | None = None,
    rounds: int = 5,
    variant_rounds: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> LatencyResults:
    """Every drain and handler run of the tier, and each variant beside them."""
    batches = batches or (default_event_batch(), LARGEST_EVENT_BATCH)
    results = LatencyResults(concurrency=concurrency_of("default"))
    for backlog in backlogs:
        for pool in ("serial", "default"):
            if pool == "serial" and backlog not in serial_backlogs:
                continue
            progress(f"drain {backlog:,} {pool}")
            results.drains.append(isolated_drain(backlog, pool))
    for batch in batches:
        progress(f"event source {batch:,}")
        results.handlers.append(isolated_handler(batch, rounds=rounds))
    drains: dict[str, list[DrainRun]] = {name: [] for name in VARIANTS}
    handlers: dict[str, list[HandlerRun]] = {name: [] for name in VARIANTS}
    for round_ in range(variant_rounds):  # in turns, so that the machine's moods fall on every variant
        progress(f"variants, round {round_ + 1} of {variant_rounds}")
        for name in VARIANTS:
            drains[name].append(isolated_drain(variant_backlog, "default", variant_name=name, traced=False))
            handlers[name].append(HandlerRun(**isolated("event_source", batches[-1], variant_name=name)))
    results.variant_drains = [max(drains[name], key=lambda run: run.rate) for name in VARIANTS]
    results.variant_handlers = [min(handlers[name], key=lambda run: run.cpu_seconds) for name in VARIANTS]
    results.variant_rounds = variant_rounds
    return results
