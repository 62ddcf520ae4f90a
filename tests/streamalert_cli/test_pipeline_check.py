"""What the --local proof reports: catalog partitions of Glue sources, statements of Athena ones."""

from __future__ import annotations

import boto3
import pytest

from streamalert.aws import AwsSettings
from streamalert_cli.pipeline_check import changes
from tests.helpers import REGION
from tests.streamalert_cli.terraform.conftest import fixture_config

SETTINGS = AwsSettings(region=REGION)


@pytest.mark.usefixtures("moto")
def test_glue_sources_report_the_partitions_in_the_catalog() -> None:
    block = fixture_config("custom_settings").athena_refresh
    assert block is not None
    glue = boto3.client("glue", region_name=REGION)
    glue.create_database(DatabaseInput={"Name": "streamalert"})
    for table in ("alerts", "odd_names"):
        glue.create_table(
            DatabaseName="streamalert",
            TableInput={"Name": table, "PartitionKeys": [{"Name": "dt", "Type": "string"}]},
        )
    glue.create_partition(
        DatabaseName="streamalert",
        TableName="alerts",
        PartitionInput={
            "Values": ["2024-05-01-10"],
            "StorageDescriptor": {"Location": "s3://prod.streamalerts/alerts/dt=2024-05-01-10/"},
        },
    )

    assert changes(block, SETTINGS) == [
        "glue partition streamalert.alerts ['2024-05-01-10'] at s3://prod.streamalerts/alerts/dt=2024-05-01-10/"
    ]


@pytest.mark.usefixtures("moto")
def test_athena_sources_report_the_statements_the_emulator_received() -> None:
    block = fixture_config("athena_modes").athena_refresh
    assert block is not None
    boto3.client("athena", region_name=REGION).start_query_execution(
        QueryString="MSCK REPAIR TABLE `beta_team_streamalert`.`alerts`",
        ResultConfiguration={"OutputLocation": "s3://results/"},
    )

    assert changes(block, SETTINGS) == [
        "athena statement (SUCCEEDED, recorded by the emulator, not run): "
        "MSCK REPAIR TABLE `beta_team_streamalert`.`alerts`"
    ]


@pytest.mark.usefixtures("moto")
def test_nothing_changed_is_said() -> None:
    block = fixture_config("athena_modes").athena_refresh
    assert block is not None

    assert changes(block, SETTINGS) == ["the refresh changed nothing in the catalog"]
