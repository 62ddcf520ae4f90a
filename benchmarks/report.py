"""The benchmark's results as Markdown tables (printed and saved) and as one PNG figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import backfill, latency
from benchmarks.bounds import CATALOG_WRITES, OPERATIONS
from benchmarks.calls import Measured
from benchmarks.coldstart import ImportTime, PackageSize
from benchmarks.latent_aws import SEED, SIGMA
from benchmarks.throughput import REPLACED, TARGET_RECORDS_PER_SECOND, Throughput

_SHORT = {
    "ReceiveMessage": "Receive",
    "DeleteMessageBatch": "DeleteBatch",
    "GetQueueUrl": "QueueUrl",
    "GetDatabase": "GetDatabase",
    "GetTable": "GetTable",
    "BatchCreatePartition": "BatchCreatePartition",
    "StartQueryExecution": "StartQuery",
    "GetQueryExecution": "GetQueryExecution",
    "BatchGetPartition": "BatchGetPartition",
}
_TYPE = {"add_glue_partition": "Glue", "add_hive_partition": "ADD PARTITION", "repair_hive_table": "MSCK"}


@dataclass
class Results:
    machine: list[str]
    runs: list[Measured] = field(default_factory=list)
    scale: list[Measured] = field(default_factory=list)
    throughput: list[Throughput] = field(default_factory=list)
    imports: list[ImportTime] = field(default_factory=list)
    package: PackageSize | None = None
    backfill: backfill.BackfillRun | None = None
    latency: latency.LatencyResults | None = None

    @property
    def over_bound(self) -> list[Measured]:
        return [run for run in (*self.runs, *self.scale) if run.over]


def markdown(results: Results) -> str:
    """Every table of the results, with the machine they came from."""
    parts = ["# Benchmark results", "", "Machine: " + "; ".join(results.machine), ""]
    if results.runs:
        parts += [
            "## AWS calls per run: measured (lower bound)",
            "",
            *_calls_table(results.runs),
            "",
        ]
    if results.scale:
        parts += [
            "## The same run with partitions already in the catalog",
            "",
            "M = 1,000 messages for N = 100 new partitions, each on a cold container. "
            "*Catalog work*: partitions the writes name; for MSCK REPAIR TABLE, the partition folders "
            "Athena lists server-side (all of the table's), which no call count shows.",
            "",
            *_scale_table(results.scale),
            "",
        ]
    if results.backfill:
        parts += [
            "## scripts/backfill: calls measured (lower bound) for a Firehose source, none registered",
            "",
            *backfill.markdown(results.backfill),
            "",
        ]
    if results.latency:
        parts += [*latency_lines(results.latency), ""]
    if results.throughput:
        parts += [
            "## Throughput: records parsed, decoded, validated and grouped per CPU second, one core",
            "",
        ]
        parts += [*_throughput_table(results.throughput), ""]
    if results.imports or results.package:
        parts += ["## Cold start", "", *_cold_start_lines(results.imports, results.package), ""]
    return "\n".join(parts)


def latency_lines(tier: latency.LatencyResults) -> list[str]:
    """The latency tier: the drain, the event-source handler, and the parsing variants beside them."""
    lines = [
        f"## Latency tier: the refresh end to end at {tier.median_seconds * 1000:.0f} ms a call",
        "",
        f"Every SQS and Glue call sleeps a latency drawn from a lognormal: median "
        f"{tier.median_seconds * 1000:.0f} ms, 99th percentile {tier.p99_seconds * 1000:.0f} ms "
        f"(sigma = ln 4 / 2.326 = {SIGMA:.3f}, mean {latency.Latency().mean_seconds * 1000:.1f} ms), "
        f"seed {SEED}; threads overlap the sleeps. One-record messages over "
        f"{latency.PARTITIONS} hourly partitions of one Glue table. Peak memory: tracemalloc's peak over "
        "the run, in a fresh interpreter, the backlog queued (or the event built) before: what the run "
        "allocates, received bodies included (each a new string, as a client parses it).",
        "",
        "### Scheduled drain",
        "",
        "| backlog | settings | calls in flight | invocations | run time s | msg/s | peak MiB | "
        "fakes' at end MiB | Receive | DeleteBatch | BatchCreatePartition |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in tier.drains:
        settings = "serial (concurrency=1)" if run.pool == "serial" else "default"
        threads = 1 if run.pool == "serial" else tier.concurrency
        peak = f"{run.peak_mib:.1f}" if run.peak_mib is not None else "-"
        fakes = f"{run.fake_bytes / 2**20:.1f}" if run.fake_bytes is not None else "-"
        calls = run.calls
        lines.append(
            f"| {run.backlog:,} | {settings} | {threads} | {run.invocations} | {run.seconds:,.1f} | "
            f"{run.rate:,.0f} | {peak} | {fakes} | {calls.get('ReceiveMessage', 0):,} | "
            f"{calls.get('DeleteMessageBatch', 0):,} | {calls.get('BatchCreatePartition', 0)} |"
        )
    target = tier.default_drain(100_000)
    if target is not None:
        lines += ["", f"`{latency.grep_line(target)}`"]
    lines += [
        "",
        f"Targets at 100,000: at least {latency.TARGET_DRAIN_RATE:,.0f} msg/s and a peak under "
        f"{latency.TARGET_PEAK_MIB:.0f} MiB with the default settings. *Fakes' at end*: of the run's "
        "allocations, what the in-memory queue and catalog still hold when it ends (receipt handles, "
        "in-flight and deletion records, which on AWS live in SQS); the peak counts them, so it is an "
        "upper bound of the function's own.",
        "",
        "### Event-source handler: one batch",
        "",
        f"Batches: the queue trigger's default size and the largest Lambda delivers "
        f"({latency.LARGEST_EVENT_BATCH:,}; its 6 MB payload limit ends a batch of these records, about "
        "2 KB each in the event, near 3,000: an upper bound). A cold container's first batch: "
        "GetDatabase, GetTable, one BatchCreatePartition.",
        "",
        "| batch | own time ms (CPU) | wall ms | latency slept ms | peak MiB | calls |",
        "|---|---|---|---|---|---|",
    ]
    for handler in tier.handlers:
        peak = f"{handler.peak_mib:.1f}" if handler.peak_mib is not None else "-"
        calls = ", ".join(f"{_SHORT.get(op, op)} {count}" for op, count in handler.calls.items())
        lines.append(
            f"| {handler.batch:,} | {handler.cpu_seconds * 1000:,.1f} | {handler.wall_seconds * 1000:,.1f} | "
            f"{handler.slept_seconds * 1000:,.1f} | {peak} | {calls} |"
        )
    lines += [
        "",
        f"Target: under {latency.TARGET_HANDLER_SECONDS * 1000:.0f} ms of own time for a full batch; "
        "own time is the process's CPU time (the latency is sleep). Best of the rounds by CPU time.",
        "",
        *_variant_lines(tier),
    ]
    return lines


def _variant_lines(tier: latency.LatencyResults) -> list[str]:
    if not tier.variant_drains:
        return []
    shipped_drain = tier.variant_drains[0]
    shipped_handler = tier.variant_handlers[0]
    lines = [
        "### What each parsing optimisation is worth end to end",
        "",
        f"The drain of {shipped_drain.backlog:,} messages (default settings) and the handler on "
        f"{shipped_handler.batch:,} messages, each with one optimisation switched off; {tier.variant_rounds} "
        "rounds in turns, the best of each kept (highest rate, least CPU). Kept in the code only what moves "
        "a figure by 10% or more.",
        "",
        "| variant | drain msg/s | vs as shipped | handler own time ms | vs as shipped |",
        "|---|---|---|---|---|",
    ]
    for drain_run, handler in zip(tier.variant_drains, tier.variant_handlers, strict=True):
        rate_change = drain_run.rate / shipped_drain.rate - 1
        time_change = handler.cpu_seconds / shipped_handler.cpu_seconds - 1
        lines.append(
            f"| {drain_run.variant} | {drain_run.rate:,.0f} | {rate_change:+.0%} | "
            f"{handler.cpu_seconds * 1000:,.1f} | {time_change:+.0%} |"
        )
    return lines


def _cell(run: Measured, operation: str) -> str:
    count = run.calls.get(operation, 0)
    bound = run.bounds.get(operation, 0)
    if not count and not bound:
        return "0"
    return f"{count} ({bound})" + (" **over**" if count > bound else "")


def _verdict(run: Measured) -> str:
    return "yes" if not run.over else "NO: " + ", ".join(f"{op} {c}>{b}" for op, (c, b) in run.over.items())


def _peak(run: Measured) -> str:
    return f"{run.peak_bytes / 2**20:.1f}" if run.peak_bytes is not None else "-"


def _calls_table(runs: Sequence[Measured]) -> list[str]:
    head = ["type", "M", "N", "queue", "run", *(_SHORT[op] for op in OPERATIONS)]
    head += ["all calls (bound)", "at bound", "wall ms", "peak MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        shape = run.shape
        cells = [
            _TYPE[shape.refresh_type.value],
            f"{shape.messages:,}",
            f"{len(shape.new_partitions):,}",
            run.queue,
            run.label,
            *(_cell(run, op) for op in OPERATIONS),
            f"{sum(run.calls.values())} ({sum(run.bounds.values())})",
            _verdict(run),
            f"{run.wall_seconds * 1000:,.0f}",
            _peak(run),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _scale_table(runs: Sequence[Measured]) -> list[str]:
    head = ["type", "already in catalog", "calls by operation, measured (bound)", "all calls"]
    head += ["catalog writes", "catalog work (partitions)", "at bound", "wall ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        by_operation = ", ".join(
            f"{_SHORT[op]} {_cell(run, op)}" for op in OPERATIONS if run.calls.get(op) or run.bounds.get(op)
        )
        cells = [
            _TYPE[run.shape.refresh_type.value],
            f"{run.existing:,}",
            by_operation,
            str(sum(run.calls.values())),
            str(run.catalog_writes),
            f"{run.catalog_work:,}",
            _verdict(run),
            f"{run.wall_seconds * 1000:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _throughput_table(throughput: Sequence[Throughput]) -> list[str]:
    replaced = next((t for t in throughput if t.name == REPLACED), None)
    lines = [
        f"{throughput[0].records:,} messages of one S3 record each (about 1 KB); target "
        f"{TARGET_RECORDS_PER_SECOND:,} records/s.",
        "",
        "| contender | records/s (best round) | records/s (median round) | vs the replaced function |",
        "|---|---|---|---|",
    ]
    for entry in throughput:
        ratio = f"{entry.records_per_second / replaced.records_per_second:.1f}x" if replaced else "-"
        median = entry.records / entry.median_seconds
        lines.append(f"| {entry.name} | {entry.records_per_second:,.0f} | {median:,.0f} | {ratio} |")
    return lines


def _cold_start_lines(imports: Sequence[ImportTime], package: PackageSize | None) -> list[str]:
    lines: list[str] = []
    if imports:
        lines += [
            "Import of `apps.athena_refresh.main` in a fresh interpreter (median), and the share of its "
            "dependencies:",
            "",
            "| from | import ms | boto3 | marshmallow | msgspec |",
            "|---|---|---|---|---|",
        ]
        for entry in imports:
            shares = " | ".join(
                f"{entry.dependency_ms[name]:,.0f}" for name in ("boto3", "marshmallow", "msgspec")
            )
            lines.append(f"| {entry.setting} | {entry.total_ms:,.0f} | {shares} |")
        lines.append("")
    if package:
        lines.append(
            f"Package zip ({package.built_by}): {package.size / 1024:,.1f} KiB, {package.entries} entries; "
            f"msgspec, built for the Lambda runtime, is {package.msgspec_size / 1024:,.1f} KiB of it."
        )
    return lines


def plot(results: Results, path: Path) -> None:
    """Calls against their bounds by M, calls by catalog size, throughput and the latency tier's drain:
    one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(15, 10.4))
    _plot_calls(axes[0][0], results.runs)
    _plot_scale(axes[0][1], results.scale)
    _plot_rates(axes[1][0], results.throughput)
    _plot_drain(axes[1][1], results.latency)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


def _plot_calls(axis: Any, runs: Sequence[Measured]) -> None:
    """Queue calls and catalog writes by M, each beside its bound (hollow: the bound)."""
    cold = sorted(
        (r for r in runs if r.label == "cold" and r.queue == "memory" and r.shape.messages),
        key=lambda r: r.shape.messages,
    )
    groups = {"queue (receive + delete)": ("ReceiveMessage", "DeleteMessageBatch")}
    groups |= {f"{_TYPE[kind]}: catalog writes": CATALOG_WRITES for kind in _TYPE}
    for (name, operations), marker in zip(groups.items(), "o^sD", strict=True):
        kind = next((k for k in _TYPE if name.startswith(_TYPE[k] + ":")), None)
        own = [r for r in cold if kind is None or r.shape.refresh_type.value == kind]
        if kind is None:  # the queue's calls are the same whatever the type: one type's runs
            own = [r for r in own if r.shape.refresh_type.value == "add_glue_partition"]
        sizes = [r.shape.messages for r in own]
        line = axis.plot(
            sizes, [sum(r.calls.get(op, 0) for op in operations) for r in own], marker=marker, label=name
        )
        bound = [sum(r.bounds.get(op, 0) for op in operations) for r in own]
        axis.plot(sizes, bound, marker, ms=12, mfc="none", color=line[0].get_color(), ls="none")
    axis.set(xscale="log", yscale="log", xlabel="messages M (N = M/2)", ylabel="AWS calls per run")
    axis.set_title("Calls per run (hollow: lower bound)")
    axis.legend()


def _plot_scale(axis: Any, runs: Sequence[Measured]) -> None:
    for kind, marker in zip(_TYPE, "osD", strict=True):
        own = [run for run in runs if run.shape.refresh_type.value == kind]
        if not own:
            continue
        existing = [max(run.existing, 1) for run in own]
        axis.plot(
            existing, [sum(r.calls.values()) for r in own], marker=marker, label=f"{_TYPE[kind]}: calls"
        )
        if kind == "repair_hive_table":
            axis.plot(
                existing, [r.catalog_work for r in own], ":", marker=marker, label="MSCK: folders listed"
            )
    axis.set(xscale="log", yscale="log", xlabel="partitions already in the catalog (0 shown at 1)")
    axis.set_title("M = 1,000, N = 100: cost by catalog size")
    axis.legend()


def _plot_rates(axis: Any, throughput: Sequence[Throughput]) -> None:
    names = [entry.name.replace(" (", "\n(") for entry in throughput]
    axis.barh(names, [entry.records_per_second for entry in throughput], color="tab:blue")
    axis.axvline(TARGET_RECORDS_PER_SECOND, color="tab:red", ls="--", label="target")
    axis.set_xlabel("records per CPU second, one core (best round)")
    axis.set_title("Parse, decode, validate and group")
    axis.invert_yaxis()
    axis.legend()


def _plot_drain(axis: Any, tier: latency.LatencyResults | None) -> None:
    """Drain rate by backlog, serial beside the default settings, against the target."""
    if tier is None:
        axis.set_axis_off()
        return
    for pool, marker in (("serial", "o"), ("default", "s")):
        own = sorted((d for d in tier.drains if d.pool == pool), key=lambda d: d.backlog)
        label = "serial (concurrency=1)" if pool == "serial" else f"default ({tier.concurrency} in flight)"
        axis.plot([d.backlog for d in own], [d.rate for d in own], marker=marker, label=label)
    axis.axhline(latency.TARGET_DRAIN_RATE, color="tab:red", ls="--", label="target")
    axis.set(xscale="log", yscale="log", xlabel="backlog (one-record messages)", ylabel="messages per second")
    median, p99 = tier.median_seconds * 1000, tier.p99_seconds * 1000
    axis.set_title(f"Scheduled drain at {median:.0f} ms a call (p99 {p99:.0f} ms)")
    axis.legend()
