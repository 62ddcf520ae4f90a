"""The table of AWS regions is botocore's partitions data: a botocore that knows a new region (or drops
one) fails here until the table is brought up to date."""

from __future__ import annotations

import botocore
from botocore.loaders import create_loader

from config_schemas.regions import AWS_REGIONS, BOTOCORE_VERSION


def test_the_table_is_every_partition_of_the_installed_botocore() -> None:
    partitions = create_loader().load_data("partitions")["partitions"]

    shipped = {
        partition["id"]: tuple(sorted(name for name in partition["regions"] if not name.endswith("-global")))
        for partition in partitions
    }

    assert dict(sorted(shipped.items())) == AWS_REGIONS, (
        f"config_schemas/regions.py holds the regions of botocore {BOTOCORE_VERSION}; "
        f"botocore {botocore.__version__} has other ones: copy them into AWS_REGIONS"
    )


def test_the_table_holds_the_three_public_partitions() -> None:
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(AWS_REGIONS)
    assert "us-east-1" in AWS_REGIONS["aws"]
    assert "cn-north-1" in AWS_REGIONS["aws-cn"]
    assert "us-gov-west-1" in AWS_REGIONS["aws-us-gov"]
