"""The tables the refresh module creates: their contexts (columns, SerDe, formats, partitions, projection),
and what destroy keeps and the refresh is granted, from the fixture configs."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from config_schemas.models import TableFormat, TableLayout
from streamalert_cli.destroy import destroy_targets
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.athena_refresh_context import athena_refresh_context
from streamalert_cli.terraform.context import DeployTarget, shared_context
from streamalert_cli.terraform.tables import (
    JSON_SERDE,
    PARQUET_SERDE,
    Column,
    TableContext,
    table_contexts,
)
from tests.streamalert_cli.terraform.conftest import fixture_config

ATHENA = by_name("athena")


def tables_of(config_name: str) -> dict[str, TableContext]:
    config = fixture_config(config_name)
    return {table.name: table for table in athena_refresh_context(ATHENA, config).tables}


def test_the_alerts_table_is_first_json_partitioned_by_dt() -> None:
    [first, *_] = athena_refresh_context(ATHENA, fixture_config("basic")).tables

    assert first.name == "alerts"
    assert first.location == "s3://acme.streamalerts/alerts/"
    assert first.partition_keys == (Column("dt", "string"),)
    assert first.storage.serde == JSON_SERDE
    assert dict(first.storage.serde_parameters) == {"ignore.malformed.json": "true"}
    assert Column("outputs", "array<string>") in first.columns


def test_a_table_created_from_a_log_type_reads_its_source_in_the_firehose_layout() -> None:
    cloudtrail = tables_of("basic")["cloudtrail"]

    assert cloudtrail.location == "s3://acme-firehose-data/cloudtrail/"
    assert cloudtrail.partition_keys == (Column("dt", "string"),)
    assert cloudtrail.columns[:2] == (Column("eventversion", "string"), Column("eventid", "string"))
    assert Column("useridentity", "string") in cloudtrail.columns  # an object, as its JSON text
    assert dict(cloudtrail.parameters) == {"classification": "json", "EXTERNAL": "TRUE"}


def test_names_hive_cannot_hold_are_mapped_to_their_keys_case_sensitively() -> None:
    events = tables_of("all_processors")["cloudwatch_events"]
    parameters = dict(events.storage.serde_parameters)

    assert Column("detail_type", "string") in events.columns
    assert parameters["mapping.detail_type"] == "detail-type"
    assert parameters["case.insensitive"] == "false"
    assert "mapping.id" not in parameters  # a name that is its key needs no mapping


def test_camel_case_keys_are_mapped() -> None:
    parameters = dict(tables_of("basic")["cloudtrail"].storage.serde_parameters)

    assert parameters["mapping.eventname"] == "eventName"
    assert parameters["mapping.useridentity"] == "userIdentity"


def test_a_projected_table_gets_the_projection_of_its_hours_and_no_notification() -> None:
    config = fixture_config("all_processors")
    context = athena_refresh_context(ATHENA, config)
    events = {table.name: table for table in context.tables}["cloudwatch_events"]

    assert dict(events.parameters) == {
        "classification": "json",
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy/MM/dd/HH",
        "projection.dt.range": "2024/01/01/00,NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "HOURS",
        "storage.location.template": "s3://acme-data/events/${dt}/",
    }
    assert events.location == "s3://acme-data/events/"
    assert not [n for n in context.notifications if n.filter_prefix.startswith("events")]
    assert "cloudwatch_events" not in str(context.function.policy)  # not a route of the function


def test_a_projected_hive_table_projects_its_dt_folders() -> None:
    config = fixture_config("all_processors")
    block = config.athena_refresh
    assert block is not None
    [events] = [table for table in block.declared_tables if table.projection is not None]
    hive = replace(events, layout=TableLayout.HIVE)
    block = replace(block, declared_tables=(hive,))

    [_, table] = table_contexts(block, config.logs, "acme.streamalerts")

    assert table.parameters["projection.dt.format"] == "yyyy-MM-dd-HH"
    assert table.parameters["projection.dt.range"] == "2024-01-01-00,NOW"
    assert table.parameters["storage.location.template"] == "s3://acme-data/events/dt=${dt}/"


def test_a_parquet_table_reads_parquet() -> None:
    config = fixture_config("basic")
    block = config.athena_refresh
    assert block is not None
    block = replace(block, declared_tables=(replace(block.declared_tables[0], format=TableFormat.PARQUET),))

    [_, table] = table_contexts(block, config.logs, "acme.streamalerts")

    assert table.storage.serde == PARQUET_SERDE
    assert table.storage.input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert table.storage.output_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert table.parameters["classification"] == "parquet"
    assert not [key for key in table.storage.serde_parameters if key.startswith("mapping.")]


def test_existing_tables_are_neither_created_nor_protected() -> None:
    context = athena_refresh_context(ATHENA, fixture_config("athena_modes"))

    assert [table.name for table in context.tables] == ["alerts"]
    assert [p for p in context.protected if p.startswith("aws_glue_catalog_table.")] == [
        "aws_glue_catalog_table.alerts"
    ]


def test_every_created_table_is_kept_by_destroy_and_granted_to_the_refresh() -> None:
    context = athena_refresh_context(ATHENA, fixture_config("basic"))
    [grant] = [
        s for s in context.function.policy["Statement"] if s["Sid"] == "ReadTablesAndRegisterPartitions"
    ]

    assert "aws_glue_catalog_table.alerts" in context.protected
    assert "aws_glue_catalog_table.cloudtrail" in context.protected
    assert "arn:aws:glue:us-east-1:123456789012:table/streamalert/cloudtrail" in grant["Resource"]


def test_destroy_keeps_every_created_table() -> None:
    config = fixture_config("basic")
    context = athena_refresh_context(ATHENA, config)
    deployment = SimpleNamespace(
        selected=(ATHENA,),
        module_contexts={ATHENA.module: context},
        shared=shared_context(config, DeployTarget(local=False), [context]),
    )
    state = [f"module.athena_refresh.aws_glue_catalog_table.{name}" for name in ("alerts", "cloudtrail")] + [
        "module.athena_refresh.aws_sqs_queue.notifications"
    ]

    targets, kept = destroy_targets(deployment, state)  # type: ignore[arg-type]

    assert kept == state[:2]
    assert targets == state[2:]
