"""``scripts/backfill [--table T ...] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--dry-run]``: register the
partitions of data already in the source buckets (written before the deploy, or whose messages expired or
were dead-lettered).

For each table: its sources' partition folders are found by delimiter listings
(streamalert_cli.backfill_walk), the catalog is asked which exist (BatchGetPartition, 1,000 a call), and
only the missing ones are registered, by the refresh's own committer (Glue batches of 100, split
``ALTER TABLE ... ADD``, or one MSCK), so retries and read-backs are the function's. The catalog is the
only memory: a second run registers nothing, and an interrupted run resumes by being run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from apps.athena_refresh.committer import PartitionCommitter
from apps.athena_refresh.plan import Need, RefreshPlan, TableWork
from config_schemas.models import AthenaRefreshConfig, Config, RefreshType, TableRoute
from streamalert import aws
from streamalert.athena import AthenaQueryRunner
from streamalert.constants import athena_workgroup_name
from streamalert.deadline import Deadline, RunBudget
from streamalert.glue import GlueCatalog, TableInfo
from streamalert.partitions import Partition, as_folder
from streamalert_cli.arguments import backfill_arguments
from streamalert_cli.backfill_display import BackfillProgress, TableCounts, closing_table
from streamalert_cli.backfill_walk import DateRange, FolderWalker, Rejected
from streamalert_cli.common import StepFailed, UsageError, guarded, validate_config
from streamalert_cli.deployment import check_account
from streamalert_cli.guard import parse_with

COMMAND = "backfill"
# Partitions committed at a time: each group is in the catalog before the next starts, so an interrupted
# run loses at most one group's work, and the bar moves
COMMIT_GROUP = 1000
# Not a Lambda: no timeout but the user's patience
RUN_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True)
class BackfillOptions:
    tables: tuple[str, ...]
    dates: DateRange
    dry_run: bool
    config_dir: Path
    debug: bool


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse_with(lambda: backfill_arguments(argv, prog))
    if isinstance(args, int):
        return args
    options = BackfillOptions(
        tuple(args.table), DateRange(args.since, args.until), args.dry_run, args.config_dir, args.debug
    )
    return guarded(prog, options.debug, lambda: backfill(options))


def backfill(options: BackfillOptions, out: TextIO | None = None, console: Console | None = None) -> int:
    """Run the backfill; 0 when every partition found is registered, StepFailed (1) listing what was
    rejected or failed otherwise."""
    progress = BackfillProgress(COMMAND, out, console)
    config = validate_config(progress, options.config_dir)
    routes = select_routes(refresh_block(config), options.tables)
    check_account(config, progress, verb="backfill")
    counts = backfill_tables(config, routes, progress, options.dates, dry_run=options.dry_run)
    for line in closing_table(counts, options.dry_run):
        progress.say(line)
    rejected = sum(len(c.rejected) for c in counts)
    failed = sum(len(c.failed) for c in counts)
    if rejected or failed:
        raise StepFailed(
            "backfill", f"{rejected} folders rejected, {failed} partitions not registered (listed above)"
        )
    return 0


def backfill_tables(
    config: Config,
    routes: Mapping[str, Sequence[TableRoute]],
    progress: BackfillProgress,
    dates: DateRange,
    *,
    dry_run: bool = False,
) -> list[TableCounts]:
    """Backfill each table of ``routes`` (``select_routes``) in the account the client factory reaches
    (the emulator's, for the ``--local`` proof): the counts of each, in order; what was rejected or
    failed is in them, for the caller to judge."""
    block = refresh_block(config)
    settings = aws.AwsSettings(region=config.account.region)
    catalog = GlueCatalog(aws.glue_client(settings), block.database_name)
    athena = AthenaQueryRunner(
        aws.athena_client(settings),
        block.database_name,
        f"s3://{block.results_bucket}/backfill/",
        workgroup=athena_workgroup_name(config.account.prefix),
    )
    backfiller = Backfiller(
        aws.s3_client(settings),
        catalog,
        PartitionCommitter(catalog, athena),
        RunBudget(Deadline.after(RUN_SECONDS), margin=settings.attempt_seconds),
    )
    with progress.step("check database") as step:
        catalog.check_database()
        step.detail = f"{block.database_name} exists"
    return [
        backfiller.run(table, table_routes, dates, progress, dry_run=dry_run)
        for table, table_routes in routes.items()
    ]


def refresh_block(config: Config) -> AthenaRefreshConfig:
    """The refresh's block of lambda.json, which names the tables; UsageError without one."""
    if config.athena_refresh is None:
        raise UsageError("lambda.json has no athena_partition_refresh_config block: no table to backfill")
    return config.athena_refresh


def select_routes(block: AthenaRefreshConfig, tables: Sequence[str]) -> dict[str, list[TableRoute]]:
    """The routes of each table asked (every configured table by default), in config order."""
    unknown = [name for name in tables if name not in block.tables]
    if unknown:
        raise UsageError(
            f"not a configured table: {', '.join(unknown)} (configured: {', '.join(block.tables)})"
        )
    chosen = set(tables or block.tables)
    routes: dict[str, list[TableRoute]] = {}
    for route in block.routes:
        if route.table in chosen:
            routes.setdefault(route.table, []).append(route)
    return routes


class Backfiller:
    """Finds, checks and registers one table's partitions; receives its clients."""

    def __init__(
        self, s3: Any, catalog: GlueCatalog, committer: PartitionCommitter, budget: RunBudget
    ) -> None:
        self._s3 = s3
        self._catalog = catalog
        self._committer = committer
        self._budget = budget

    def run(
        self,
        name: str,
        routes: Sequence[TableRoute],
        dates: DateRange,
        progress: BackfillProgress,
        *,
        dry_run: bool = False,
    ) -> TableCounts:
        """Find the table's partitions in its sources, ask the catalog, register the missing ones (none
        with ``dry_run``: they are listed)."""
        refresh_type = routes[0].refresh_type
        counts = TableCounts(name, refresh_type.value)
        with progress.table(counts):
            with progress.step(f"{name}: read table") as step:
                table = self._catalog.get_table(name)
                step.detail = f"partition keys {', '.join(table.partition_keys)} under {table.location}"
            with progress.step(f"{name}: list folders") as step:
                found = self._find(table, routes, dates, counts, progress)
                step.detail = (
                    f"{counts.folders_listed:,} folders listed, {counts.found:,} partitions found, "
                    f"{len(counts.rejected):,} rejected"
                )
            with progress.step(f"{name}: check catalog") as step:
                missing = self._missing(table, found, counts)
                step.detail = f"{counts.already:,} already there, {counts.missing:,} missing"
                progress.update(counts)
            if dry_run:
                for partition in missing:
                    progress.say(f"{name}: would register {partition.spec()} at {partition.location}")
                progress.say(f"{name}: dry run: would register {len(missing):,} partitions; nothing written")
            elif missing:
                with progress.step(f"{name}: register") as step:
                    self._register(table, refresh_type, missing, counts, progress)
                    step.detail = (
                        f"{counts.registered:,} of {counts.missing:,} registered ({refresh_type.value})"
                    )
        return counts

    def _find(
        self,
        table: TableInfo,
        routes: Sequence[TableRoute],
        dates: DateRange,
        counts: TableCounts,
        progress: BackfillProgress,
    ) -> list[Partition]:
        """The partitions of the table's sources in the date range, each once at its first folder (a
        partition has one folder: another folder of the same values is rejected, as the refresh does)."""

        def listed() -> None:
            counts.folders_listed += 1
            progress.update(counts)

        walker = FolderWalker(self._s3, listed)
        found: dict[tuple[str, ...], Partition] = {}
        for route in routes:
            for result in walker.walk(route, table, dates):
                if isinstance(result, Rejected):
                    counts.rejected.append(result)
                    continue
                if not dates.holds(result):
                    continue
                first = found.setdefault(result.values, result)
                if first.location != result.location:
                    counts.rejected.append(
                        Rejected(result.location, f"partition {result.spec()} is found at {first.location}")
                    )
        counts.found = len(found)
        return list(found.values())

    def _missing(self, table: TableInfo, found: list[Partition], counts: TableCounts) -> list[Partition]:
        """The partitions the catalog lacks; one it holds at another folder fails (its objects are hidden
        there), as does one it could not tell about."""
        registered = self._catalog.registered_locations(table, found, self._budget)
        missing: list[Partition] = []
        for partition in found:
            location = registered.get(partition.values)
            if location is None:
                missing.append(partition)
            elif as_folder(location) == as_folder(partition.location):
                counts.already += 1
            else:
                counts.failed.append(
                    Rejected(partition.location, f"partition {partition.spec()} is registered at {location}")
                )
        counts.missing = len(missing)
        return missing

    def _register(
        self,
        table: TableInfo,
        refresh_type: RefreshType,
        missing: list[Partition],
        counts: TableCounts,
        progress: BackfillProgress,
    ) -> None:
        """Commit the missing partitions a group at a time (one MSCK registers them all)."""
        group = len(missing) if refresh_type is RefreshType.REPAIR_HIVE_TABLE else COMMIT_GROUP
        for start in range(0, len(missing), group):
            members = missing[start : start + group]
            work = TableWork(table, refresh_type, dict.fromkeys(members))
            result = self._committer.commit(RefreshPlan(messages=[], work={table.name: work}), self._budget)
            for partition in members:
                if Need(table.name, partition) in result.done:
                    counts.registered += 1
                else:
                    counts.failed.append(
                        Rejected(partition.location, f"{partition.spec()} not registered (see the log above)")
                    )
            progress.update(counts)
