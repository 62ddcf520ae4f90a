"""The data-table step of the --local proof: which route it writes to, and the key it writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from config_schemas.models import TableLayout
from streamalert.partitions import partition_from_key
from streamalert_cli.pipeline_tables import created_firehose_route, firehose_key
from tests.streamalert_cli.terraform.conftest import fixture_config


def test_the_step_writes_to_the_created_firehose_table_of_the_config() -> None:
    route = created_firehose_route(fixture_config("basic"))

    assert route is not None
    assert (str(route.source), route.table) == ("acme-firehose-data/cloudtrail", "cloudtrail")


def test_no_created_firehose_table_no_step() -> None:
    assert created_firehose_route(fixture_config("athena_modes")) is None  # existing tables only
    config = fixture_config("basic")
    block = config.athena_refresh
    assert block is not None
    hive = replace(block.declared_tables[0], layout=TableLayout.HIVE, partition_keys=("dt",))
    changed = replace(
        config,
        lambda_config=replace(
            config.lambda_config, athena_partition_refresh=replace(block, declared_tables=(hive,))
        ),
    )

    assert created_firehose_route(changed) is None


def test_the_key_is_in_the_firehose_layout_of_its_hour() -> None:
    route = created_firehose_route(fixture_config("basic"))
    assert route is not None

    key = firehose_key(route, datetime(2024, 2, 29, 5, 30, tzinfo=timezone.utc))
    partition = partition_from_key("acme-firehose-data", key)

    assert key.startswith("cloudtrail/2024/02/29/05/local-check-")
    assert (partition.columns, partition.values) == (("dt",), ("2024-02-29-05",))
    assert partition.location == "s3://acme-firehose-data/cloudtrail/2024/02/29/05/"
