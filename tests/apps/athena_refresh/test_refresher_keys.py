"""Which keys a run registers and which it keeps: the table's LOCATION, MSCK's own rules, folder spelling."""

from __future__ import annotations

import json

import pytest

from streamalert import logger
from streamalert.deadline import Deadline
from tests.apps.athena_refresh.conftest import DATABASE
from tests.helpers import FakeContext, s3_body, s3_record


def run(refresher):
    return refresher.run_scheduled(Deadline.from_context(FakeContext(60_000)))


def register(deployment, table: str, values: list[str], location: str) -> None:
    """A partition written by another tool (or by Hive, MSCK, the replaced function) before this run."""
    descriptor = deployment.glue.get_table(DatabaseName=DATABASE, Name=table)["Table"]["StorageDescriptor"]
    deployment.glue.create_partition(
        DatabaseName=DATABASE,
        TableName=table,
        PartitionInput={"Values": values, "StorageDescriptor": {**descriptor, "Location": location}},
    )


@pytest.fixture
def error_log(capsys):
    logger.configure("info")

    def read() -> str:
        return capsys.readouterr().err

    return read


# -- repair_hive_table: only what MSCK REPAIR TABLE really registers is deleted


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("x/y.json", "no partition folder"),
        ("x/2024/01/01/05/y.json", "Firehose layout"),
        ("x/dt=2024-01-01 05:00/y.json", "a value Hive escapes"),
        ("x/sub/dt=2024-01-01-05/y.json", "a folder MSCK does not look into"),
        ("other/dt=2024-01-01-05/y.json", "outside the table's LOCATION"),
        ("x/day=2024-01-01-05/y.json", "a column the table does not have"),
        ("x/DT=2024-01-01-05/y.json", "a folder name Athena's MSCK does not read (not lower case)"),
    ],
)
def test_a_repair_source_keeps_what_msck_cannot_register(deployment, make_refresher, error_log, key, why):
    deployment.send(s3_body(("acme-legacy", key)))

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1, why
    assert deployment.messages_left() == 1
    assert deployment.queries() == [], "no MSCK for nothing it can register"
    log = error_log()
    assert "Message kept on the queue" in log
    assert key.replace('"', '\\"') in log


def test_a_repair_source_registers_hive_folders_under_the_table_and_keeps_the_others(
    deployment, make_refresher
):
    deployment.send(
        s3_body(("acme-legacy", "x/dt=2024-01-01-05/a.json")),
        s3_body(("acme-legacy", "x/dt=2024-01-01-06/b.json")),
        s3_body(("acme-legacy", "x/DT=2024-01-01-07/c.json")),  # Athena's MSCK skips upper case folders
        s3_body(("acme-legacy", "x/2024/01/01/05/d.json")),
    )

    summary = run(make_refresher())

    assert deployment.queries() == ["MSCK REPAIR TABLE `streamalert`.`legacy`"]
    assert summary["tables_repaired"] == ["legacy"]
    assert (summary["messages_deleted"], summary["messages_kept"]) == (2, 2)


# -- a partition folder lies under its table's LOCATION


def test_a_stray_folder_of_a_source_cannot_take_the_tables_partition(deployment, make_refresher, error_log):
    deployment.send(
        s3_body(("acme.streamalerts", "tmp/dt=2024-01-01-05/stray.json")),
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/real.json")),
    )

    summary = run(make_refresher())

    assert deployment.partitions("alerts") == {
        ("2024-01-01-05",): "s3://acme.streamalerts/alerts/dt=2024-01-01-05/"
    }
    assert (summary["messages_deleted"], summary["messages_kept"]) == (1, 1)
    log = error_log()
    assert "s3://acme.streamalerts/alerts/" in log
    assert "tmp/dt=2024-01-01-05/stray.json" in log


@pytest.mark.parametrize(
    "key",
    ["alerts/../alerts/dt=2024-01-01-05/a.json", "alerts/./dt=2024-01-01-05/a.json", "alerts/dt=1/../x.json"],
)
def test_dot_folders_are_refused_outright(deployment, make_refresher, key):
    deployment.send(s3_body(("acme.streamalerts", key)))

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1
    assert deployment.partitions("alerts") == {}


# -- a folder is a folder, with or without its trailing slash


@pytest.mark.parametrize("registered", ["dt=2024-01-01-05", "dt=2024-01-01-05/", "dt=2024-01-01-05//"])
@pytest.mark.parametrize(
    ("bucket", "table"),
    [
        ("acme.streamalerts", "alerts"),  # Glue: AlreadyExists, then read back
        ("acme-data", "vpcflow"),  # Athena: ADD IF NOT EXISTS, then read back
    ],
)
def test_a_partition_registered_without_its_trailing_slash_is_the_same_folder(
    deployment, make_refresher, registered, bucket, table
):
    register(deployment, table, ["2024-01-01-05"], f"s3://{bucket}/{table}/{registered}")
    deployment.send(s3_body((bucket, f"{table}/dt=2024-01-01-05/late.json")))

    summary = run(make_refresher())

    assert summary["messages_deleted"] == 1
    assert deployment.messages_left() == 0


@pytest.mark.parametrize(
    ("bucket", "table", "folder"),
    [
        ("acme.streamalerts", "alerts", "alerts"),  # Glue: AlreadyExists at another folder
        ("acme-data", "vpcflow", "vpcflow"),  # Athena: ADD IF NOT EXISTS keeps the other folder
        ("acme-legacy", "legacy", "x"),  # MSCK: adds what the catalog lacks, moves nothing
    ],
)
def test_a_partition_at_another_folder_still_keeps_its_messages(
    deployment, make_refresher, error_log, *, bucket, table, folder
):
    register(deployment, table, ["2024-01-01-05"], f"s3://{bucket}/{folder}/old/dt=2024-01-01-05")
    deployment.send(
        s3_body((bucket, f"{folder}/dt=2024-01-01-05/late.json")),
        s3_body((bucket, f"{folder}/dt=2024-01-01-06/new.json")),
    )

    summary = run(make_refresher())

    assert (summary["messages_deleted"], summary["messages_kept"]) == (1, 1)
    assert "Partition not registered at its folder" in error_log()


# -- a poison key does not fail the run


def test_a_key_with_a_lone_surrogate_is_kept_and_the_run_goes_on(deployment, make_refresher):
    record = s3_record("acme-data", "placeholder", encode=False)
    record["s3"]["object"]["key"] = "vpcflow/x\ud800/dt=2024-01-01-05/a.json"
    poison = json.dumps({"Records": [record]})  # JSON escapes it: the queue holds plain ASCII
    deployment.send(poison, s3_body(("acme-data", "vpcflow/dt=2024-01-01-06/b.json")))

    summary = run(make_refresher())

    assert (summary["messages_deleted"], summary["messages_kept"]) == (1, 1)
    assert any("2024-01-01-06" in query for query in deployment.queries())
