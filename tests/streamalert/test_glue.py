"""The Glue Data Catalog on moto: the database check, table metadata, and partitions written in batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from streamalert.deadline import Deadline, RunBudget
from streamalert.glue import DatabaseNotFoundError, GlueCatalog, TableInfo, TableNotFoundError
from streamalert.partitions import Partition
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import REGION, FaultyClient

DATABASE = "streamalert"
TABLE = "cloudtrail"
COLUMNS = [{"Name": "eventname", "Type": "string"}, {"Name": "useridentity", "Type": "string"}]
SERDE = {
    "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
    "Parameters": {"ignore.malformed.json": "true"},
}
STORAGE = {
    "Columns": COLUMNS,
    "Location": "s3://acme-data/cloudtrail/",
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": SERDE,
}


@pytest.fixture
def glue(moto: None) -> Any:
    client = boto3.client("glue", region_name=REGION)
    client.create_database(DatabaseInput={"Name": DATABASE})
    client.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": TABLE,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": STORAGE,
        },
    )
    return client


@pytest.fixture
def table(glue: Any) -> TableInfo:
    return GlueCatalog(glue, DATABASE).get_table(TABLE)


BUDGET = RunBudget(Deadline(lambda: 600_000.0), 5.0)  # time enough for every call


def hourly(count: int) -> list[Partition]:
    return [
        Partition(("dt",), (f"2024-01-{1 + n // 24:02d}-{n % 24:02d}",), f"s3://acme-data/cloudtrail/p{n}/")
        for n in range(count)
    ]


def stored_partitions(glue: Any) -> dict[tuple[str, ...], dict[str, Any]]:
    """values -> storage descriptor of every partition the catalog holds for the table."""
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=DATABASE, TableName=TABLE)
    return {tuple(p["Values"]): p["StorageDescriptor"] for page in pages for p in page["Partitions"]}


def refusing(
    values: set[tuple[str, ...]], *, times: int = 1, code: str = "InternalServiceException"
) -> Callable[..., Any]:
    """A batch_create_partition that refuses the partitions with those values, ``times`` times each."""
    refusals: dict[tuple[str, ...], int] = {}

    def batch_create(real: Callable[..., Any], **kwargs: Any) -> Any:
        accepted, errors = [], []
        for entry in kwargs["PartitionInputList"]:
            entry_values = tuple(entry["Values"])
            if entry_values in values and refusals.get(entry_values, 0) < times:
                refusals[entry_values] = refusals.get(entry_values, 0) + 1
                errors.append(
                    {
                        "PartitionValues": entry["Values"],
                        "ErrorDetail": {"ErrorCode": code, "ErrorMessage": "no"},
                    }
                )
            else:
                accepted.append(entry)
        response = real(**{**kwargs, "PartitionInputList": accepted}) if accepted else {}
        return {"Errors": [*response.get("Errors", []), *errors]}

    return batch_create


def recorded(calls: list[list[dict[str, Any]]], batch_create: Callable[..., Any]) -> Callable[..., Any]:
    """The same override, keeping the PartitionInputList of every call."""

    def record(real: Callable[..., Any], **kwargs: Any) -> Any:
        calls.append(kwargs["PartitionInputList"])
        return batch_create(real, **kwargs)

    return record


# --- database and table ----------------------------------------------------------------------------


def test_existing_database_passes_the_check(glue: Any) -> None:
    calls = CallCounter().attach(glue)

    GlueCatalog(glue, DATABASE).check_database()

    assert calls["GetDatabase"] == 1


def test_missing_database_says_which_and_how_to_create_it(glue: Any) -> None:
    with pytest.raises(DatabaseNotFoundError, match="'analytics' does not exist") as raised:
        GlueCatalog(glue, "analytics").check_database()

    message = str(raised.value)
    assert "CREATE DATABASE analytics" in message
    assert "scripts/deploy --processor athena" in message
    assert raised.value.database == "analytics"


def test_table_gives_its_partition_keys_and_storage(glue: Any) -> None:
    info = GlueCatalog(glue, DATABASE).get_table(TABLE)

    assert info.name == TABLE
    assert info.partition_keys == ("dt",)
    assert info.storage_descriptor["Columns"] == COLUMNS
    assert info.storage_descriptor["SerdeInfo"] == SERDE
    assert info.storage_descriptor["Location"] == "s3://acme-data/cloudtrail/"


def test_table_with_several_partition_keys_keeps_their_order(glue: Any) -> None:
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "waf",
            "PartitionKeys": [{"Name": "region", "Type": "string"}, {"Name": "dt", "Type": "string"}],
            "StorageDescriptor": STORAGE,
        },
    )

    assert GlueCatalog(glue, DATABASE).get_table("waf").partition_keys == ("region", "dt")


def test_missing_table_is_named(glue: Any) -> None:
    with pytest.raises(TableNotFoundError, match=r"table streamalert\.vpcflow does not exist"):
        GlueCatalog(glue, DATABASE).get_table("vpcflow")


# --- partitions ------------------------------------------------------------------------------------


def test_partitions_are_created_100_a_call_with_their_own_location(glue: Any, table: TableInfo) -> None:
    calls = CallCounter().attach(glue)
    partitions = hourly(250)

    failed = GlueCatalog(glue, DATABASE).create_partitions(table, partitions, BUDGET)

    assert failed == set()
    assert calls["BatchCreatePartition"] == 3
    stored = stored_partitions(glue)
    assert len(stored) == 250
    for partition in partitions:
        descriptor = stored[partition.values]
        assert descriptor["Location"] == partition.location
        assert descriptor["Columns"] == COLUMNS
        assert descriptor["SerdeInfo"] == SERDE
        assert descriptor["InputFormat"] == STORAGE["InputFormat"]


def test_no_partitions_no_calls(glue: Any, table: TableInfo) -> None:
    calls = CallCounter().attach(glue)

    assert GlueCatalog(glue, DATABASE).create_partitions(table, [], BUDGET) == set()
    assert calls["BatchCreatePartition"] == 0


def test_partitions_that_already_exist_count_as_created(glue: Any, table: TableInfo) -> None:
    catalog = GlueCatalog(glue, DATABASE)
    catalog.create_partitions(table, hourly(5), BUDGET)
    calls = CallCounter().attach(glue)

    failed = catalog.create_partitions(table, hourly(8), BUDGET)

    assert failed == set()
    assert calls["BatchCreatePartition"] == 1  # AlreadyExists entries are not sent again
    assert len(stored_partitions(glue)) == 8


def test_refused_partition_alone_is_sent_again_and_succeeds(glue: Any, table: TableInfo) -> None:
    partitions = hourly(5)
    calls: list[list[dict[str, Any]]] = []
    client = FaultyClient(glue, batch_create_partition=recorded(calls, refusing({partitions[3].values})))

    failed = GlueCatalog(client, DATABASE).create_partitions(table, partitions, BUDGET)

    assert failed == set()
    assert len(calls) == 2
    assert len(calls[0]) == 5
    assert [entry["Values"] for entry in calls[1]] == [list(partitions[3].values)]
    assert calls[1][0]["StorageDescriptor"]["Location"] == partitions[3].location
    assert len(stored_partitions(glue)) == 5


def test_partition_refused_every_time_is_returned_after_bounded_resends(glue: Any, table: TableInfo) -> None:
    partitions = hourly(150)
    stubborn = partitions[120]
    calls: list[list[dict[str, Any]]] = []
    client = FaultyClient(glue, batch_create_partition=recorded(calls, refusing({stubborn.values}, times=99)))

    failed = GlueCatalog(client, DATABASE).create_partitions(table, partitions, BUDGET)

    assert failed == {stubborn}
    assert [len(entries) for entries in calls] == [100, 50, 1, 1]  # first chunk once, second + 2 resends
    assert len(stored_partitions(glue)) == 149


def test_already_exists_beside_another_error_only_resends_the_other(glue: Any, table: TableInfo) -> None:
    partitions = hourly(3)
    catalog = GlueCatalog(glue, DATABASE)
    catalog.create_partitions(table, partitions[:1], BUDGET)
    calls: list[list[dict[str, Any]]] = []
    client = FaultyClient(glue, batch_create_partition=recorded(calls, refusing({partitions[2].values})))

    failed = GlueCatalog(client, DATABASE).create_partitions(table, partitions, BUDGET)

    assert failed == set()
    assert [[entry["Values"] for entry in entries] for entries in calls][1] == [list(partitions[2].values)]


def test_error_without_partition_values_fails_its_whole_chunk_only(glue: Any, table: TableInfo) -> None:
    partitions = hourly(150)
    calls = CallCounter().attach(glue)

    def batch_create(real: Callable[..., Any], **kwargs: Any) -> Any:
        response = real(**kwargs)
        if len(kwargs["PartitionInputList"]) == 50:  # the second chunk
            return {
                "Errors": [{"ErrorDetail": {"ErrorCode": "InternalServiceException", "ErrorMessage": "?"}}]
            }
        return response

    failed = GlueCatalog(FaultyClient(glue, batch_create_partition=batch_create), DATABASE).create_partitions(
        table, partitions, BUDGET
    )

    assert failed == set(partitions[100:])
    assert calls["BatchCreatePartition"] == 2  # nothing to resend that can be placed


def test_empty_error_list_is_success(glue: Any, table: TableInfo) -> None:
    def batch_create(real: Callable[..., Any], **kwargs: Any) -> Any:
        real(**kwargs)
        return {"Errors": []}

    client = FaultyClient(glue, batch_create_partition=batch_create)

    assert GlueCatalog(client, DATABASE).create_partitions(table, hourly(3), BUDGET) == set()


def test_partitions_of_a_table_dropped_meanwhile_all_fail(glue: Any, table: TableInfo) -> None:
    gone = TableInfo("gone", ("dt",), STORAGE)

    assert GlueCatalog(glue, DATABASE).create_partitions(gone, hourly(2), BUDGET) == set(hourly(2))
