"""scripts/backfill: data already in the buckets is registered once, through each table's refresh type;
rejected folders are listed, never registered; a second run registers nothing."""

from __future__ import annotations

import datetime
import io
import json
import math
import runpy
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.athena.models import athena_backends
from rich.console import Console

from streamalert import aws
from streamalert.config import load_config
from streamalert.constants import athena_workgroup_name
from streamalert_cli import backfill
from streamalert_cli.backfill import BackfillOptions
from streamalert_cli.backfill_display import BackfillProgress
from streamalert_cli.backfill_walk import DateRange
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import ACCOUNT_ID, REGION, REPO, write_json

DATABASE = "streamalert"
REFRESH_TYPES = {
    "repair_hive_table": {"acme-legacy": "legacy"},
    "add_hive_partition": {"acme-firehose-data/cloudtrail": "cloudtrail"},
    "add_glue_partition": {
        "acme.streamalerts": "alerts",
        "acme-waf": "waf",
        "acme-firehose-data/flows": "flows",
    },
}
# table -> (partition keys, LOCATION)
TABLES = {
    "legacy": (("dt",), "s3://acme-legacy/"),
    "cloudtrail": (("dt",), "s3://acme-firehose-data/cloudtrail/"),
    "alerts": (("dt",), "s3://acme.streamalerts/alerts/"),
    "waf": (("region", "dt"), "s3://acme-waf/"),
    "flows": (("dt",), "s3://acme-firehose-data/flows/"),
}
OBJECTS = {
    "acme-legacy": ["dt=2024-01-01-00/a.json"],
    "acme-firehose-data": [
        "cloudtrail/2024/01/01/00/a.gz",
        "cloudtrail/2024/01/01/05/a.gz",
        "cloudtrail/2024/01/01/05/b.gz",
        "cloudtrail/2024/01/02/00/a.gz",
    ],
    "acme.streamalerts": [
        "alerts/dt=2024-01-01-00/a.json",
        "alerts/dt=2024-01-01-01/a.json",
        "alerts/dt=2024-01-02-00/a.json",
    ],
    "acme-waf": ["region=us-east-1/dt=2024-01-01-00/a.json", "region=eu-west-1/dt=2024-01-01-00/a.json"],
}


class Account:
    """The moto account: its clients, and what a test reads back."""

    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.glue = boto3.client("glue", region_name=REGION)

    def put(self, bucket: str, *keys: str) -> None:
        for key in keys:
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"{}")

    def register(self, table: str, values: tuple[str, ...], location: str) -> None:
        self.glue.create_partition(
            DatabaseName=DATABASE,
            TableName=table,
            PartitionInput={"Values": list(values), "StorageDescriptor": {"Location": location}},
        )

    def partitions(self, table: str) -> dict[tuple[str, ...], str]:
        pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=table)
        return {
            tuple(p["Values"]): p["StorageDescriptor"]["Location"]
            for page in pages
            for p in page["Partitions"]
        }


def queries() -> list[str]:
    return [execution.query for execution in athena_backends[ACCOUNT_ID][REGION].executions.values()]


@pytest.fixture
def account(moto: None, config_dir: Path) -> Account:
    lambda_json = json.loads((config_dir / "lambda.json").read_text())
    lambda_json["athena_partition_refresh_config"]["refresh_type"] = REFRESH_TYPES
    lambda_json["athena_partition_refresh_config"]["tables"] = {
        table: {"existing": True} for table in TABLES if table != "alerts"
    }
    write_json(config_dir / "lambda.json", lambda_json)
    result = Account()
    for bucket, keys in OBJECTS.items():
        result.s3.create_bucket(Bucket=bucket)
        result.put(bucket, *keys)
    result.glue.create_database(DatabaseInput={"Name": DATABASE})
    for name, (keys, location) in TABLES.items():
        result.glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": name,
                "PartitionKeys": [{"Name": key, "Type": "string"} for key in keys],
                "StorageDescriptor": {
                    "Columns": [{"Name": "record", "Type": "string"}],
                    "Location": location,
                },
            },
        )
    boto3.client("athena", region_name=REGION).create_work_group(Name=athena_workgroup_name("acme"))
    return result


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> CallCounter:
    """Every AWS call of the clients the command builds, counted by operation."""
    counter = CallCounter()
    real = aws.client

    def build(service: str, settings: aws.AwsSettings) -> Any:
        client = real(service, settings)
        counter.attach(client)
        return client

    monkeypatch.setattr(aws, "client", build)
    return counter


def options(config_dir: Path, *tables: str, **changes: Any) -> BackfillOptions:
    return BackfillOptions(
        **{"tables": tables, "dates": DateRange(), "dry_run": False, "config_dir": config_dir, "debug": False}
        | changes
    )


def run(config_dir: Path, *tables: str, **changes: Any) -> tuple[int, str]:
    """The command's exit code (as the guard gives it) and its output."""
    out = io.StringIO()
    err = io.StringIO()
    code = backfill.guarded(
        "backfill", False, lambda: backfill.backfill(options(config_dir, *tables, **changes), out), err
    )
    return code, out.getvalue() + err.getvalue()


def test_registers_only_the_missing_partitions_of_each_layout(account: Account, config_dir: Path) -> None:
    account.register("alerts", ("2024-01-01-00",), "s3://acme.streamalerts/alerts/dt=2024-01-01-00/")

    code, output = run(config_dir, "alerts", "waf", "flows")

    assert code == 0, output
    assert account.partitions("alerts") == {
        (f"2024-01-0{day}-0{hour}",): f"s3://acme.streamalerts/alerts/dt=2024-01-0{day}-0{hour}/"
        for day, hour in ((1, 0), (1, 1), (2, 0))
    }
    assert account.partitions("waf") == {
        ("us-east-1", "2024-01-01-00"): "s3://acme-waf/region=us-east-1/dt=2024-01-01-00/",
        ("eu-west-1", "2024-01-01-00"): "s3://acme-waf/region=eu-west-1/dt=2024-01-01-00/",
    }
    alerts_row = next(line for line in output.splitlines() if line.startswith("backfill: alerts "))
    assert alerts_row.split()[3:] == ["2", "3", "1", "2", "0", "0"]  # listed, found, there, registered...


def test_hive_and_msck_tables_register_through_athena(account: Account, config_dir: Path) -> None:
    code, output = run(config_dir, "cloudtrail", "legacy")

    assert code == 0, output
    sent = queries()
    assert "MSCK REPAIR TABLE `streamalert`.`legacy`" in sent
    (add,) = [query for query in sent if query.startswith("ALTER TABLE")]
    for hour in ("2024-01-01-00", "2024-01-01-05", "2024-01-02-00"):
        folder = hour.replace("-", "/")
        assert f"PARTITION (`dt` = '{hour}') LOCATION 's3://acme-firehose-data/cloudtrail/{folder}/'" in add


def test_rejected_folders_are_listed_never_registered_and_exit_1(account: Account, config_dir: Path) -> None:
    account.put("acme.streamalerts", "tmp/dt=2024-01-01-03/a.json")  # outside the table's LOCATION
    account.put("acme-waf", "region=us'x/dt=2024-01-01-00/a.json")  # a quote: unsafe in a query
    account.put("acme-firehose-data", "cloudtrail/2024/02/30/00/a.gz")  # no such day

    code, output = run(config_dir)

    assert code == 1
    assert "rejected: alerts: s3://acme.streamalerts/tmp/dt=2024-01-01-03/: partition folder" in output
    assert "not under the table's LOCATION" in output
    assert "rejected: waf: s3://acme-waf/region=us'x/dt=2024-01-01-00/:" in output
    assert "rejected: cloudtrail: s3://acme-firehose-data/cloudtrail/2024/02/30/00/: key fits no" in output
    assert "backfill: backfill failed: 3 folders rejected, 0 partitions not registered" in output
    assert ("2024-01-01-03",) not in account.partitions("alerts")
    assert set(account.partitions("waf")) == {("us-east-1", "2024-01-01-00"), ("eu-west-1", "2024-01-01-00")}


def test_a_partition_registered_at_another_folder_fails(account: Account, config_dir: Path) -> None:
    account.register("alerts", ("2024-01-02-00",), "s3://acme.streamalerts/alerts/old/")

    code, output = run(config_dir, "alerts")

    assert code == 1
    assert (
        "failed: alerts: s3://acme.streamalerts/alerts/dt=2024-01-02-00/: partition dt='2024-01-02-00'"
        in output
    )
    assert account.partitions("alerts")[("2024-01-02-00",)] == "s3://acme.streamalerts/alerts/old/"


def test_dry_run_lists_and_writes_nothing(account: Account, config_dir: Path, calls: CallCounter) -> None:
    code, output = run(config_dir, dry_run=True)

    assert code == 0, output
    assert (
        "backfill: alerts: would register dt='2024-01-02-00' at s3://acme.streamalerts/alerts/dt=2024-01-02-00/"
        in output
    )
    assert "would register" in output.splitlines()[-6]  # the closing table's header
    writes = {"BatchCreatePartition", "CreatePartition", "StartQueryExecution"}
    assert not writes & set(calls.calls)
    assert all(not account.partitions(table) for table in TABLES)


def test_a_second_run_registers_nothing(account: Account, config_dir: Path, calls: CallCounter) -> None:
    assert run(config_dir, "alerts", "waf")[0] == 0
    calls.reset()

    code, output = run(config_dir, "alerts", "waf")

    assert code == 0
    assert calls["BatchCreatePartition"] == 0
    assert "alerts: check catalog: 3 already there, 0 missing" in output


def test_the_api_backfills_a_loaded_config_and_leaves_the_verdict_to_its_caller(
    account: Account, config_dir: Path
) -> None:
    config = load_config(config_dir)
    account.put("acme.streamalerts", "tmp/dt=2024-01-01-03/a.json")  # outside the table's LOCATION
    routes = backfill.select_routes(backfill.refresh_block(config), ("alerts", "waf"))
    out = io.StringIO()

    first = backfill.backfill_tables(config, routes, BackfillProgress("deploy", out), DateRange())
    again = backfill.backfill_tables(config, routes, BackfillProgress("deploy", out), DateRange())

    assert [(c.table, c.found, c.already, c.registered) for c in first] == [
        ("alerts", 3, 0, 3),
        ("waf", 2, 0, 2),
    ]
    assert [(c.table, c.found, c.already, c.registered) for c in again] == [
        ("alerts", 3, 3, 0),
        ("waf", 2, 2, 0),
    ]
    assert [r.location for r in first[0].rejected] == ["s3://acme.streamalerts/tmp/dt=2024-01-01-03/"]
    assert "deploy: alerts: register: 3 of 3 registered" in out.getvalue()
    assert sorted(account.partitions("alerts")) == [
        ("2024-01-01-00",),
        ("2024-01-01-01",),
        ("2024-01-02-00",),
    ]


def test_a_config_without_the_refresh_block_has_no_table_to_backfill(config_dir: Path) -> None:
    lambda_json = json.loads((config_dir / "lambda.json").read_text())
    del lambda_json["athena_partition_refresh_config"]
    write_json(config_dir / "lambda.json", lambda_json)
    out = io.StringIO()
    err = io.StringIO()

    code = backfill.guarded("backfill", False, lambda: backfill.backfill(options(config_dir), out), err)

    assert code == 2
    assert "backfill: lambda.json has no athena_partition_refresh_config block" in err.getvalue()
    assert "check AWS account" not in out.getvalue()  # refused before any AWS call


def test_since_and_until_prune_the_hour_folders(
    account: Account, config_dir: Path, calls: CallCounter
) -> None:
    account.put("acme-firehose-data", "flows/2023/12/31/23/a.gz", "flows/2024/01/01/00/a.gz")
    account.put("acme-firehose-data", "flows/2024/01/02/07/a.gz", "flows/2024/01/03/00/a.gz")
    dates = DateRange(datetime.date(2024, 1, 2), datetime.date(2024, 1, 2))

    code, output = run(config_dir, "flows", dates=dates)

    assert code == 0, output
    assert set(account.partitions("flows")) == {("2024-01-02-07",)}
    # flows/, 2024/, 2024/01/, 2024/01/02/: neither 2023/ nor the other days are listed
    assert calls["ListObjectsV2"] == 4


def test_hive_partitions_outside_the_dates_are_left(account: Account, config_dir: Path) -> None:
    code, _ = run(config_dir, "alerts", dates=DateRange(since=datetime.date(2024, 1, 2)))

    assert code == 0
    assert set(account.partitions("alerts")) == {("2024-01-02-00",)}


def test_calls_stay_within_their_bounds(account: Account, config_dir: Path, calls: CallCounter) -> None:
    start = datetime.datetime(2024, 3, 1)
    hours = [start + datetime.timedelta(hours=n) for n in range(250)]  # 11 days
    account.put("acme-firehose-data", *(f"flows/{hour:%Y/%m/%d/%H}/a.gz" for hour in hours))
    account.register(
        "flows", (f"{start:%Y-%m-%d-%H}",), f"s3://acme-firehose-data/flows/{start:%Y/%m/%d/%H}/"
    )
    calls.reset()

    code, output = run(config_dir, "flows")

    assert code == 0, output
    assert len(account.partitions("flows")) == 250
    days = len({hour.date() for hour in hours})
    assert calls["ListObjectsV2"] == 1 + 1 + 1 + days  # flows/, 2024/, 2024/03/, each day
    assert f"flows: list folders: {3 + days} folders listed, 250 partitions found" in output
    assert calls["BatchGetPartition"] == math.ceil(250 / 1000)
    assert calls["BatchCreatePartition"] == math.ceil(249 / 100)


def test_a_terminal_shows_a_bar_and_the_same_summary(account: Account, config_dir: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)

    assert backfill.backfill(options(config_dir, "alerts"), out, console) == 0

    assert "backfill: alerts: register: 3 of 3 registered" in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2024-1-1"], "must be a date YYYY-MM-DD"),
        (["--since", "2024-02-01", "--until", "2024-01-01"], "is after --until"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill.main(argv) == 2
    assert message in capsys.readouterr().err


def test_help_exits_0_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert backfill.main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: backfill ")


def test_an_unknown_table_exits_2(account: Account, config_dir: Path) -> None:
    code, output = run(config_dir, "nope")

    assert code == 2
    assert "backfill: not a configured table: nope (configured: legacy, cloudtrail, alerts" in output


def test_the_wrapper_help_needs_no_environment(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(sys, "argv", ["scripts/backfill", "--help"])
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(REPO / "scripts" / "backfill"), run_name="__main__")

    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: backfill ")
