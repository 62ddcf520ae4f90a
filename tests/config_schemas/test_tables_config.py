"""The refresh block's ``tables``: every routed table is ``alerts``, created from a log type of logs.json,
or existing; what validate-config refuses, and the Hive columns a log type makes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from config_schemas.hive import HiveColumn, hive_column_name, hive_columns
from config_schemas.models import (
    LogType,
    Projection,
    Source,
    TableDeclaration,
    TableFormat,
    TableLayout,
    ValueType,
)
from streamalert.config import ConfigValidationError, validate_documents

PATH = "lambda.json: athena_partition_refresh_config"
LOGS = {
    "cloudtrail:events": {"schema": {"eventName": "string", "userIdentity": "object"}},
    "cloudwatch:events": {
        "schema": {
            "detail-type": "string",
            "count": "integer",
            "ratio": "number",
            "ok": "boolean",
            "ids": "array",
        }
    },
}
THREE_WAYS = (
    'name the built-in table "alerts", declare it in tables with "log": "<a log type of logs.json>" for the '
    'deploy to create it, or with "existing": true for a table that exists'
)


def documents(refresh_type: dict[str, Any], tables: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"refresh_type": refresh_type}
    if tables is not None:
        block["tables"] = tables
    return {
        "global.json": {
            "account": {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}
        },
        "lambda.json": {"athena_partition_refresh_config": block},
        "logs.json": LOGS,
    }


def errors(docs: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(docs)
    return caught.value.lines


def declarations(docs: dict[str, Any]) -> tuple[TableDeclaration, ...]:
    block = validate_documents(docs).athena_refresh
    assert block is not None
    return block.declared_tables


def test_a_table_that_is_none_of_the_three_kinds_is_refused_naming_it_and_the_ways() -> None:
    docs = documents({"add_hive_partition": {"acme-data/cloudtrail": "cloudtrail"}})

    assert errors(docs) == [
        f'{PATH}.refresh_type.add_hive_partition["acme-data/cloudtrail"]: table "cloudtrail" is not a table '
        f"the deploy knows: {THREE_WAYS}"
    ]


def test_alerts_is_built_in_and_cannot_be_declared() -> None:
    assert declarations(documents({"add_glue_partition": {"acme.streamalerts": "alerts"}})) == ()
    docs = documents({"add_glue_partition": {"acme.streamalerts": "alerts"}}, {"alerts": {"existing": True}})

    assert errors(docs) == [
        f'{PATH}.tables.alerts: "alerts" is the built-in alerts table: the deploy creates it, leave it out'
    ]


def test_created_existing_and_projected_tables_load_with_their_defaults() -> None:
    docs = documents(
        {"add_hive_partition": {"acme-data/cloudtrail": "cloudtrail", "acme-data/waf": "waf"}},
        {
            "cloudtrail": {"log": "cloudtrail:events"},
            "waf": {"existing": True, "layout": "hive", "partition_keys": ["region", "dt"]},
            "events": {
                "log": "cloudwatch:events",
                "layout": "hive",
                "partition_keys": ["dt"],
                "projection": {"source": "acme-data/events/", "start": "2024-02-29"},
            },
        },
    )

    assert declarations(docs) == (
        TableDeclaration("cloudtrail", "cloudtrail:events", TableLayout.FIREHOSE, ("dt",), TableFormat.JSON),
        TableDeclaration("waf", None, TableLayout.HIVE, ("region", "dt")),
        TableDeclaration(
            "events",
            "cloudwatch:events",
            TableLayout.HIVE,
            ("dt",),
            projection=Projection(Source("acme-data", "events"), datetime.date(2024, 2, 29)),
        ),
    )


def test_an_existing_table_without_a_layout_has_no_keys_to_check() -> None:
    docs = documents({"repair_hive_table": {"acme-data/legacy": "legacy"}}, {"legacy": {"existing": True}})

    assert declarations(docs) == (TableDeclaration("legacy", None, None, ()),)


def test_a_log_type_not_in_logs_json_is_refused() -> None:
    docs = documents({"add_hive_partition": {"acme-data/x": "x"}}, {"x": {"log": "cloudtrail:event"}})

    assert errors(docs) == [
        f'{PATH}.tables.x.log: log type "cloudtrail:event" is not in logs.json (it declares '
        '"cloudtrail:events", '
        '"cloudwatch:events"): name one of them, add it to logs.json, or declare the table "existing": true'
    ]


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ({}, 'tables.x: has neither "log" and "existing"'),
        ({"log": "cloudtrail:events", "existing": True}, 'tables.x: has both "log" and "existing"'),
        ({"existing": True, "format": "json"}, "tables.x.format: is for a table the deploy creates"),
        ({"log": "cloudtrail:events", "format": "orc"}, 'tables.x.format: must be one of "json", "parquet"'),
        (
            {"log": "cloudtrail:events", "layout": "daily"},
            'tables.x.layout: must be one of "firehose", "hive"',
        ),
        ({"log": "cloudtrail:events", "layout": "hive"}, "tables.x.partition_keys: is required by the hive"),
        (
            {"log": "cloudtrail:events", "partition_keys": ["day"]},
            "tables.x.partition_keys: the firehose layout (YYYY/MM/DD/HH/ folders) gives one "
            'partition key, "dt"',
        ),
        (
            {"log": "cloudtrail:events", "layout": "hive", "partition_keys": ["Day"]},
            "tables.x.partition_keys[0]: a partition key is lowercase letters",
        ),
        ({"existing": True, "partition_keys": ["dt"]}, "tables.x.partition_keys: come with a layout"),
        ({"log": "cloudtrail:events", "junk": 1}, "tables.x.junk: unknown key; allowed keys: log, existing"),
    ],
)
def test_a_declaration_that_says_no_one_thing_is_refused(table: dict[str, Any], line: str) -> None:
    [error] = errors(documents({"add_hive_partition": {"acme-data/x": "x"}}, {"x": table}))

    assert error.startswith(f"{PATH}.{line}")


def test_a_firehose_table_refreshed_by_msck_is_refused() -> None:
    docs = documents({"repair_hive_table": {"acme-data/x": "x"}}, {"x": {"log": "cloudtrail:events"}})

    assert errors(docs) == [
        f'{PATH}.refresh_type.repair_hive_table["acme-data/x"]: table "x" has the firehose layout '
        "(YYYY/MM/DD/HH/ "
        "folders), which MSCK REPAIR TABLE does not read: use add_glue_partition or "
        "add_hive_partition, or the "
        "hive layout"
    ]


def test_a_created_table_reads_one_source() -> None:
    docs = documents(
        {"add_glue_partition": {"acme-data/a": "x", "acme-other/b": "x"}}, {"x": {"log": "cloudtrail:events"}}
    )

    assert errors(docs) == [
        f"{PATH}.tables.x: is created over one folder, its LOCATION, but is fed by acme-data/a, "
        "acme-other/b: map "
        "one source to it, or declare the table existing"
    ]


def test_a_created_table_without_a_source_is_refused_an_existing_one_is_not() -> None:
    docs = documents(
        {"add_glue_partition": {"acme.streamalerts": "alerts"}},
        {"x": {"log": "cloudtrail:events"}, "y": {"existing": True}},
    )

    assert errors(docs) == [
        f"{PATH}.tables.x: is created over its source's folder, but no source feeds it: map a source "
        "to it in "
        "refresh_type, give it a projection, or remove it"
    ]


def test_a_projected_table_is_no_route_and_holds_only_hours() -> None:
    projection = {"source": "acme-data/x", "start": "2024-01-01"}
    routed = documents(
        {"add_glue_partition": {"acme-data/x": "x"}},
        {"x": {"log": "cloudtrail:events", "projection": projection}},
    )
    by_day = documents(
        {"add_glue_partition": {"acme.streamalerts": "alerts"}},
        {
            "x": {
                "log": "cloudtrail:events",
                "layout": "hive",
                "partition_keys": ["region", "dt"],
                "projection": projection,
            }
        },
    )
    existing = documents(
        {"add_glue_partition": {"acme.streamalerts": "alerts"}},
        {"x": {"existing": True, "projection": projection}},
    )
    bad_start = documents(
        {"add_glue_partition": {"acme.streamalerts": "alerts"}},
        {"x": {"log": "cloudtrail:events", "projection": {**projection, "start": "2024-02-30"}}},
    )

    assert errors(routed) == [
        f"{PATH}.tables.x: is projected (Athena computes its partitions): remove it from refresh_type "
        "(acme-data/x)"
    ]
    assert errors(by_day) == [
        f'{PATH}.tables.x.projection: projects tables whose one partition key is the hour "dt", not '
        "region, dt: "
        "leave projection out and map the table's sources in refresh_type"
    ]
    assert errors(existing)[0].startswith(
        f"{PATH}.tables.x.projection: is set by the deploy on a table it creates"
    )
    assert errors(bad_start) == [
        f'{PATH}.tables.x.projection.start: must be a date, YYYY-MM-DD, got "2024-02-30" (a string)'
    ]


def test_keys_that_make_one_column_or_a_partition_key_are_refused() -> None:
    docs = documents({"add_glue_partition": {"acme-data/x": "x"}}, {"x": {"log": "clash:events"}})
    docs["logs.json"] = {
        "clash:events": {"schema": {"detail-type": "string", "detail_type": "string", "DT": "string"}}
    }

    assert errors(docs) == [
        f'{PATH}.tables.x.log: key "DT" of clash:events makes column dt, which is already a partition key: '
        "rename a key in logs.json, or declare the table existing",
        f'{PATH}.tables.x.log: key "detail_type" of clash:events makes column detail_type, which is '
        "already the "
        'column of key "detail-type": rename a key in logs.json, or declare the table existing',
    ]


def test_a_parquet_table_needs_plain_names_and_known_types() -> None:
    docs = documents(
        {"add_glue_partition": {"acme-data/x": "x"}}, {"x": {"log": "cloudwatch:events", "format": "parquet"}}
    )

    assert errors(docs) == [
        f'{PATH}.tables.x.log: key "detail-type" of cloudwatch:events is no Hive column name and '
        "Parquet columns "
        'are read by name: use "format": "json", or declare the table existing',
        f'{PATH}.tables.x.log: key "ids" of cloudwatch:events is an array, whose Parquet type '
        "logs.json does not "
        "give: declare the table existing (created with its real types)",
    ]


@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("eventName", "eventname"),
        ("detail-type", "detail_type"),
        ("a.b c", "a_b_c"),
        ("x--y", "x_y"),
        ("2fa", "_2fa"),
        ("already_fine", "already_fine"),
    ],
)
def test_hive_column_names(key: str, column: str) -> None:
    assert hive_column_name(key) == column


def test_hive_types_of_each_json_type() -> None:
    log_type = LogType(
        "t:e",
        tuple((key, ValueType(key)) for key in ("string", "integer", "number", "boolean", "object", "array")),
    )

    assert [(column.name, column.type) for column in hive_columns(log_type)] == [
        ("string", "string"),
        ("integer", "bigint"),
        ("number", "double"),
        ("boolean", "boolean"),
        ("object", "string"),  # the JSON SerDe gives nested values as their JSON text
        ("array", "string"),
    ]
    assert HiveColumn("detail_type", "string", "detail-type").mapped
    assert not HiveColumn("id", "string", "id").mapped
