"""scripts/backfill on the emulator: a Firehose source of hourly folders, none registered, backfilled into a
Glue table. Its calls grow with the folders, never with the objects: the listings are one a folder above
the hours (the source, each year, month and day), the catalog reads one per 1,000 partitions and the
writes one per 100.

The objects are written straight into the emulator's store (a hundred thousand ``PutObject`` calls through
boto3 would take minutes and measure nothing of the backfill); only the backfill is timed.
"""

from __future__ import annotations

import datetime
import io
import math
import time
from collections import Counter
from dataclasses import dataclass

import boto3
from moto import mock_aws
from moto.s3.models import s3_backends

from apps.athena_refresh.committer import PartitionCommitter
from benchmarks.workload import DATABASE, PREFIX, REGION, RESULTS_BUCKET
from config_schemas.models import RefreshType, Source, TableRoute
from streamalert.athena import AthenaQueryRunner
from streamalert.deadline import Deadline, RunBudget
from streamalert.glue import GlueCatalog
from streamalert_cli.backfill import Backfiller
from streamalert_cli.backfill_display import BackfillProgress
from streamalert_cli.backfill_walk import DateRange
from streamalert_cli.testing.calls import CallCounter

ACCOUNT_ID = "123456789012"
BUCKET = f"{PREFIX}-firehose-data"
TABLE = "flows"
ROUTE = TableRoute(Source(BUCKET, TABLE), TABLE, RefreshType.ADD_GLUE_PARTITION)
FIRST_HOUR = datetime.datetime(2024, 1, 1)
# The benchmark's source: 100,000 objects in 2,000 hourly folders
HOURS = 2_000
OBJECTS_PER_HOUR = 50


@dataclass(frozen=True)
class BackfillRun:
    """One backfill: the source's size, the calls it made and their bounds, and its wall time."""

    objects: int
    hours: int
    calls: Counter[str]
    bounds: dict[str, int]
    seconds: float

    @property
    def over(self) -> dict[str, tuple[int, int]]:
        """operation -> (calls, bound) of the operations over their bound."""
        return {
            operation: (self.calls[operation], bound)
            for operation, bound in self.bounds.items()
            if self.calls[operation] > bound
        }


def hour_folders(hours: int) -> list[datetime.datetime]:
    return [FIRST_HOUR + datetime.timedelta(hours=n) for n in range(hours)]


def bounds(hours: list[datetime.datetime]) -> dict[str, int]:
    """The fewest calls a backfill of these hours, none registered, can make (listings of at most 1,000
    children: one page each)."""
    years = {hour.year for hour in hours}
    months = {(hour.year, hour.month) for hour in hours}
    days = {hour.date() for hour in hours}
    return {
        "ListObjectsV2": 1 + len(years) + len(months) + len(days),
        "GetTable": 1,
        "BatchGetPartition": math.ceil(len(hours) / 1000),
        "BatchCreatePartition": math.ceil(len(hours) / 100),
    }


def measure(hours: int = HOURS, objects_per_hour: int = OBJECTS_PER_HOUR) -> BackfillRun:
    """Backfill a source of ``hours`` hourly folders holding ``objects_per_hour`` objects each."""
    folders = hour_folders(hours)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        glue = boto3.client("glue", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        store = s3_backends[ACCOUNT_ID]["aws"]
        for hour in folders:
            for index in range(objects_per_hour):
                store.put_object(BUCKET, f"{TABLE}/{hour:%Y/%m/%d/%H}/{index}.json.gz", b"{}")
        glue.create_database(DatabaseInput={"Name": DATABASE})
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": TABLE,
                "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                "StorageDescriptor": {"Location": f"s3://{BUCKET}/{TABLE}/"},
            },
        )
        counter = CallCounter().attach(s3, glue)
        catalog = GlueCatalog(glue, DATABASE)
        athena = AthenaQueryRunner(
            boto3.client("athena", region_name=REGION), DATABASE, f"s3://{RESULTS_BUCKET}/backfill/"
        )
        budget = RunBudget(Deadline.after(3600.0), margin=1.0)
        backfiller = Backfiller(s3, catalog, PartitionCommitter(catalog, athena), budget)
        started = time.perf_counter()
        counts = backfiller.run(TABLE, [ROUTE], DateRange(), BackfillProgress("backfill", io.StringIO()))
        seconds = time.perf_counter() - started
    if counts.registered != hours:
        raise RuntimeError(f"the backfill registered {counts.registered} of {hours} partitions")
    return BackfillRun(hours * objects_per_hour, hours, Counter(counter.calls), bounds(folders), seconds)


def markdown(run: BackfillRun) -> list[str]:
    """The run as a table: each operation's calls beside its bound, with the objects and the time."""
    cells = " | ".join(f"{run.calls[operation]} ({bound})" for operation, bound in run.bounds.items())
    return [
        "| objects | hourly folders | " + " | ".join(run.bounds) + " | wall time |",
        "|---:|---:|" + "---:|" * len(run.bounds) + "---:|",
        f"| {run.objects:,} | {run.hours:,} | {cells} | {run.seconds:.1f} s |",
    ]
