"""``scripts/bench``: every benchmark in one command; prints the tables and saves them with a plot, in
build/bench/ (``--publish``: docs/bench/, the results the docs show; nothing else writes there).

Exit code 0 when every call count is at its bound, 1 when one is over, 2 on a usage error.
Timings are the machine's (and its other work's): the docs claim ratios, not absolute times.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import backfill, calls, coldstart, latency, throughput
from benchmarks.calls import Measured
from benchmarks.report import Results, markdown, plot
from config_schemas.models import RefreshType
from streamalert_cli.arguments import bench_arguments

TYPES = (RefreshType.ADD_GLUE_PARTITION, RefreshType.ADD_HIVE_PARTITION, RefreshType.REPAIR_HIVE_TABLE)


@dataclasses.dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    moto_sizes: tuple[int, ...]
    existing: tuple[int, ...]
    rounds: int
    import_runs: int
    backfill_hours: int = backfill.HOURS
    backlogs: tuple[int, ...] = latency.BACKLOGS
    serial_backlogs: tuple[int, ...] = latency.SERIAL_BACKLOGS
    event_batches: tuple[int, ...] | None = None  # the config's default and Lambda's largest
    variant_backlog: int = 10_000


FULL = Plan(calls.SIZES, calls.MOTO_SIZES, calls.EXISTING, rounds=15, import_runs=7)
QUICK = Plan(
    (10, 100),
    (10,),
    (0, 1_000),
    rounds=3,
    import_runs=3,
    backfill_hours=48,
    backlogs=(1_000,),
    serial_backlogs=(1_000,),
    event_batches=(latency.LAMBDA_DEFAULT_EVENT_BATCH, 1_000),
    variant_backlog=1_000,
)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = bench_arguments(argv)
    except SystemExit as exit_:  # argparse: --help is 0, a usage error 2
        return int(exit_.code or 0)
    plan = QUICK if args.quick else FULL
    out: Path = args.results
    results = Results(machine=machine())
    _step("calls per run", lambda: results.runs.extend(call_runs(plan)))
    if not args.skip_scale:
        _step("catalog size", lambda: results.scale.extend(scale(plan)))
    _step("backfill", lambda: setattr(results, "backfill", backfill.measure(plan.backfill_hours)))
    _step("throughput", lambda: results.throughput.extend(throughput.measure_isolated(plan.rounds)))
    if not args.skip_latency:
        serial = (*plan.serial_backlogs, 100_000) if args.latency_serial_full else plan.serial_backlogs
        _step("latency tier", lambda: setattr(results, "latency", _latency(plan, serial)))
    if not args.skip_cold_start:
        _step("cold start", lambda: _cold_start(results, plan))
    results.machine.append(f"load average after: {_load()}")
    text = markdown(results)
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(text + "\n")
    plot(results, out / "results.png")
    print(f"\nwritten: {out / 'results.md'}, {out / 'results.png'}", file=sys.stderr)
    if results.latency:
        _latency_verdict(results.latency)
    fast = next(t for t in results.throughput if t.name == throughput.FAST)
    if fast.records_per_second < throughput.TARGET_RECORDS_PER_SECOND:
        print(
            f"bench: throughput {fast.records_per_second:,.0f} records/s is under the target", file=sys.stderr
        )
    for run in results.over_bound:
        print(
            f"bench: over the bound: {run.shape.refresh_type.value} M={run.shape.messages}: {run.over}",
            file=sys.stderr,
        )
    if results.backfill and results.backfill.over:
        print(f"bench: backfill over the bound: {results.backfill.over}", file=sys.stderr)
    return 1 if results.over_bound or (results.backfill and results.backfill.over) else 0


def call_runs(plan: Plan) -> list[Measured]:
    """Cold runs by size (timed, then again under tracemalloc for the peak), an empty run, a warm
    run over the same partitions, and the small sizes on moto's own SQS."""
    runs: list[Measured] = []
    for refresh_type in TYPES:
        for size in plan.sizes:
            partitions = calls.partitions_for(size)
            timed = calls.cold_run(refresh_type, size, partitions)
            traced = calls.cold_run(refresh_type, size, partitions, traced=True)
            if _settled(traced.calls) != _settled(timed.calls):
                raise RuntimeError(f"two equal runs made different calls: {timed.calls} {traced.calls}")
            runs.append(dataclasses.replace(timed, peak_bytes=traced.peak_bytes))
        if plan is not QUICK:
            largest = plan.sizes[-1]
            runs.append(calls.cold_run(refresh_type, largest, largest, label="cold, an object a partition"))
        runs.append(calls.cold_run(refresh_type, 0, 0, label="empty queue"))
        warm_size = plan.sizes[-1] // 5 if plan is QUICK else 1_000
        runs.append(calls.warm_rerun(refresh_type, warm_size, calls.partitions_for(warm_size)))
        for size in plan.moto_sizes:
            runs.append(calls.cold_run(refresh_type, size, calls.partitions_for(size), queue="moto"))
    return runs


def _settled(calls: dict[str, int]) -> dict[str, int]:
    """The calls that two equal runs make alike: all but the receives, whose count depends on how many
    were in flight when the queue ran dry (each run is held to its bound on its own)."""
    return {operation: count for operation, count in calls.items() if operation != "ReceiveMessage"}


def scale(plan: Plan) -> list[Measured]:
    return [run for refresh_type in TYPES for run in calls.scale_runs(refresh_type, plan.existing)]


def _latency(plan: Plan, serial_backlogs: tuple[int, ...]) -> latency.LatencyResults:
    return latency.measure(
        plan.backlogs,
        serial_backlogs,
        variant_backlog=plan.variant_backlog,
        batches=plan.event_batches,
        rounds=min(plan.rounds, 5),
        variant_rounds=min(plan.rounds, 3),
        progress=lambda step: print(f"bench: latency tier: {step}", file=sys.stderr, flush=True),
    )


def _latency_verdict(tier: latency.LatencyResults) -> None:
    """The grep line of the 100,000 backlog, and a line on stderr for each target missed."""
    drain = tier.default_drain(100_000)
    if drain is not None:
        print(latency.grep_line(drain))
        if drain.rate < latency.TARGET_DRAIN_RATE:
            print(f"bench: drain {drain.rate:,.0f} msg/s is under the target", file=sys.stderr)
        if drain.peak_mib is not None and drain.peak_mib >= latency.TARGET_PEAK_MIB:
            print(f"bench: drain peak {drain.peak_mib:.1f} MiB is over the target", file=sys.stderr)
    full = max(tier.handlers, key=lambda run: run.batch, default=None)
    if full is not None and full.cpu_seconds >= latency.TARGET_HANDLER_SECONDS:
        print(f"bench: handler own time {full.cpu_seconds:.2f} s is over the target", file=sys.stderr)


def _cold_start(results: Results, plan: Plan) -> None:
    results.imports, results.package = coldstart.cold_start(plan.import_runs)


def _step(name: str, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    print(f"bench: {name}...", file=sys.stderr, flush=True)
    work()
    print(f"bench: {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def machine() -> list[str]:
    """What the numbers came from: CPU, cores, Python, and how busy the machine was."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        model,
        f"{os.cpu_count()} cores",
        f"Python {platform.python_version()} ({platform.system()} {platform.machine()})",
        f"load average before: {_load()}",
    ]


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"
