"""The deployment every reliability test runs on: six tables over five buckets and three layouts, a moto Glue
catalog and Athena shared by all runs of a test (one fresh database per run), and quiet logs."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.glue.models import glue_backends

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from config_schemas.models import AthenaRefreshConfig, RefreshType, Source, TableRoute
from streamalert.aws import AwsSettings
from streamalert.constants import athena_queue_name, athena_workgroup_name
from tests.helpers import ACCOUNT_ID, REGION
from tests.reliability.fault_injection import PartitionId, VirtualClock

PREFIX = "acme"
QUEUE = athena_queue_name(PREFIX)
RESULTS_BUCKET = f"{PREFIX}-streamalert-athena-results"
RESULTS = f"s3://{RESULTS_BUCKET}/refresh/"
TIMEOUT_SECONDS = 60.0

# table -> partition keys, as the catalog holds them
TABLES: dict[str, tuple[str, ...]] = {
    "alerts": ("dt",),
    "cloudtrail": ("dt",),
    "findings": ("region", "dt"),
    "vpcflow": ("dt",),
    "waf": ("region", "dt"),
    "legacy": ("dt",),
}

ROUTES = (
    TableRoute(Source("acme.streamalerts"), "alerts", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "cloudtrail"), "cloudtrail", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-findings", "gd/v1"), "findings", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "vpcflow"), "vpcflow", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-waf"), "waf", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-legacy"), "legacy", RefreshType.REPAIR_HIVE_TABLE),
    TableRoute(Source("acme-ghost"), "ghost", RefreshType.ADD_GLUE_PARTITION),  # a table nobody created
)
REPAIRED_TABLES = frozenset(r.table for r in ROUTES if r.refresh_type is RefreshType.REPAIR_HIVE_TABLE)


@dataclass(frozen=True)
class Layout:
    """How a table's objects are named: the key of object ``name`` in partition ``(region, day, hour)``."""

    bucket: str
    table: str

    def key(self, region: str, day: int, hour: int, name: str) -> str:
        dt = f"2024-01-{day:02d}-{hour:02d}"
        return {
            "alerts": f"alerts/dt={dt}/{name}.json",
            "cloudtrail": f"cloudtrail/2024/01/{day:02d}/{hour:02d}/{name}.json.gz",
            "findings": f"gd/v1/region={region}/dt={dt}/{name}.json",
            "vpcflow": f"vpcflow/dt={dt}/{name}.log.gz",
            "waf": f"region={region}/dt={dt}/{name}.gz",
            "legacy": f"logs/dt={dt}/{name}.json",
        }[self.table]

    def partition(self, key: str) -> PartitionId | str:
        """What the object needs: its partition ``(table, values, location)``, or the table to repair."""
        if self.table in REPAIRED_TABLES:
            return self.table
        folders = key.split("/")[:-1]
        if self.table == "cloudtrail":
            return (self.table, ("-".join(folders[-4:]),), f"s3://{self.bucket}/{'/'.join(folders)}/")
        values = tuple(folder.partition("=")[2] for folder in folders if "=" in folder)
        return (self.table, values, f"s3://{self.bucket}/{'/'.join(folders)}/")


LAYOUTS = tuple(Layout(route.source.bucket, route.table) for route in ROUTES if route.table in TABLES)


# table -> its LOCATION, under which every one of its partition folders lies
LOCATIONS = {
    "alerts": "s3://acme.streamalerts/alerts/",
    "cloudtrail": "s3://acme-data/cloudtrail/",
    "findings": "s3://acme-findings/gd/v1/",
    "vpcflow": "s3://acme-data/vpcflow/",
    "waf": "s3://acme-waf/",
    "legacy": "s3://acme-legacy/logs/",
}


def table_input(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in keys],
        "StorageDescriptor": {
            "Columns": [{"Name": "record", "Type": "string"}],
            "Location": LOCATIONS[name],
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        },
    }


class Catalog:
    """moto's Glue and Athena for a whole test; each run takes a database of its own."""

    def __init__(self) -> None:
        self.glue = boto3.client("glue", region_name=REGION)
        self.athena = boto3.client("athena", region_name=REGION)
        self.athena.create_work_group(Name=athena_workgroup_name(PREFIX))
        self._backend = glue_backends[ACCOUNT_ID][REGION]

    def new_database(self, name: str) -> str:
        """A database holding every table of ``TABLES``, written straight into moto (no API round trip)."""
        self._backend.create_database(name, {"Name": name})
        for table, keys in TABLES.items():
            self._backend.create_table(name, table, table_input(table, keys))
        return name

    def partitions(self, database: str) -> set[PartitionId]:
        """Every partition the database holds, as ``(table, values, location)``."""
        return {
            (table.name, tuple(p.values), p.partition_input["StorageDescriptor"]["Location"])
            for table in self._backend.databases[database].tables.values()
            for p in table.partitions.values()
        }


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    with mock_aws():
        yield Catalog()


@pytest.fixture(autouse=True)
def quiet() -> Iterator[None]:
    """Thousands of runs log tens of thousands of expected errors and write a metric line each: keep them
    out of pytest's capture. Reports meant for the reader go to ``sys.__stdout__`` (shown by ``-s``)."""
    project = logging.getLogger("streamalert")
    level = project.level
    project.setLevel(logging.CRITICAL + 1)
    with contextlib.redirect_stdout(io.StringIO()):
        yield
    project.setLevel(level)


def build_refresher(
    sqs: Any,
    glue: Any,
    athena: Any,
    database: str,
    clock: VirtualClock,
    *,
    routes: tuple[TableRoute, ...] = ROUTES,
    settings: RefreshSettings | None = None,
    attempt_seconds: float = 0.0,
    client_settings: AwsSettings | None = None,
) -> PartitionRefresher:
    """A refresher built as a deployment's is; Athena polls on the virtual clock. ``attempt_seconds``:
    the longest an attempt of a call may take (the client's timeouts); ``client_settings``: the clients'
    settings of a deployment (``AwsSettings.for_function``), which decide it as ``from_config`` does."""
    block = AthenaRefreshConfig(
        enabled=True,
        log_level="info",
        memory=128,
        timeout=int(TIMEOUT_SECONDS),
        refresh_interval="rate(10 minutes)",
        routes=routes,
        database_name=database,
        results_bucket=RESULTS_BUCKET,
    )
    return PartitionRefresher.build(
        block,
        prefix=PREFIX,
        sqs=sqs,
        glue=glue,
        athena=athena,
        settings=settings,
        sleep=clock.advance,
        attempt_seconds=attempt_seconds,
        client_settings=client_settings,
    )
