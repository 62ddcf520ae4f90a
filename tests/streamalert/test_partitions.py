"""Partitions from object keys: the two layouts, their locations, and every key kept out of queries."""

from __future__ import annotations

import pytest

from streamalert.partitions import (
    Partition,
    PartitionKeyError,
    as_folder,
    check_repairable,
    check_under_table,
    conform_to_table,
    partition_from_key,
)

BUCKET = "acme-data"


@pytest.mark.parametrize(
    ("key", "columns", "values", "location"),
    [
        (
            "a/dt=2024-01-01-05/x.json",
            ("dt",),
            ("2024-01-01-05",),
            "s3://acme-data/a/dt=2024-01-01-05/",
        ),
        (
            "waf/region=us-east-1/dt=2024-01-01-05/x.json",
            ("region", "dt"),
            ("us-east-1", "2024-01-01-05"),
            "s3://acme-data/waf/region=us-east-1/dt=2024-01-01-05/",
        ),
        (
            "dt=2024-01-01-05/x.json",
            ("dt",),
            ("2024-01-01-05",),
            "s3://acme-data/dt=2024-01-01-05/",
        ),
        (
            "logs/prod/year=2024/month=01/day=02/part-0000.parquet",
            ("year", "month", "day"),
            ("2024", "01", "02"),
            "s3://acme-data/logs/prod/year=2024/month=01/day=02/",
        ),
        (
            "a/dt=2024-01-01-05/sub/dir/x.json",
            ("dt",),
            ("2024-01-01-05",),
            "s3://acme-data/a/dt=2024-01-01-05/",
        ),
        (
            "a/ts=2024-01-01T05:00:00/x.json",
            ("ts",),
            ("2024-01-01T05:00:00",),
            "s3://acme-data/a/ts=2024-01-01T05:00:00/",
        ),
        (
            "a/name=two words_v1.2/x.json",
            ("name",),
            ("two words_v1.2",),
            "s3://acme-data/a/name=two words_v1.2/",
        ),
    ],
    ids=["one-column", "two-columns", "bucket-root", "three-columns", "deeper-object", "colons", "space"],
)
def test_hive_keys_give_their_columns_values_and_folder(
    key: str, columns: tuple[str, ...], values: tuple[str, ...], location: str
) -> None:
    assert partition_from_key(BUCKET, key) == Partition(columns, values, location)


@pytest.mark.parametrize(
    ("key", "dt", "location"),
    [
        ("cloudtrail/2024/01/02/03/file.gz", "2024-01-02-03", "s3://acme-data/cloudtrail/2024/01/02/03/"),
        ("2024/12/31/23/file.gz", "2024-12-31-23", "s3://acme-data/2024/12/31/23/"),
        (
            "firehose/acme/vpcflow/2023/06/09/00/acme-1-2023-06-09.gz",
            "2023-06-09-00",
            "s3://acme-data/firehose/acme/vpcflow/2023/06/09/00/",
        ),
    ],
    ids=["prefixed", "bucket-root", "deep-prefix"],
)
def test_firehose_keys_give_one_dt_column_through_the_hour(key: str, dt: str, location: str) -> None:
    assert partition_from_key(BUCKET, key) == Partition(("dt",), (dt,), location)


@pytest.mark.parametrize(
    "key",
    [
        "cloudtrail/2024/13/02/03/file.gz",
        "cloudtrail/2024/02/30/03/file.gz",
        "cloudtrail/2023/02/29/00/file.gz",
        "cloudtrail/2024/00/02/03/file.gz",
        "cloudtrail/2024/01/32/03/file.gz",
        "cloudtrail/2024/01/00/03/file.gz",
        "cloudtrail/2024/01/02/24/file.gz",
        "cloudtrail/24/01/02/03/file.gz",
        "cloudtrail/2024/1/02/03/file.gz",
        "cloudtrail/2024/01/02/file.gz",
        "cloudtrail/2024/01/02/03/04/file.gz",
        "cloudtrail/2024/01/02/03",
        "file.gz",
        "cloudtrail/file.gz",
    ],
    ids=[
        "month-13",
        "february-30",
        "february-29-not-leap",
        "month-00",
        "day-32",
        "day-00",
        "hour-24",
        "short-year",
        "one-digit-month",
        "no-hour",
        "minute-folder",
        "no-file",
        "bucket-root-file",
        "no-layout",
    ],
)
def test_keys_that_fit_no_layout_are_refused(key: str) -> None:
    with pytest.raises(PartitionKeyError, match="fits no partition layout"):
        partition_from_key(BUCKET, key)


@pytest.mark.parametrize(
    "value",
    [
        "2024'01",
        "x';DROP TABLE t;--",
        "2024;01",
        "donn\u00e9es",
        "2024%2701",
        "line\nbreak",
        "back\\slash",
        'dou"ble',
        "tab\there",
        "",
        "a=b",
        "2024,01",
        "(x)",
    ],
    ids=[
        "quote",
        "injection",
        "semicolon",
        "unicode",
        "percent",
        "newline",
        "backslash",
        "double-quote",
        "tab",
        "empty",
        "equals",
        "comma",
        "parentheses",
    ],
)
def test_unsafe_partition_values_are_refused(value: str) -> None:
    with pytest.raises(PartitionKeyError, match="partition value"):
        partition_from_key(BUCKET, f"alerts/dt={value}/x.json")


def test_trailing_newline_does_not_slip_past_the_value_check() -> None:
    with pytest.raises(PartitionKeyError):
        partition_from_key(BUCKET, "alerts/dt=2024\n/x.json")


@pytest.mark.parametrize(
    "key",
    [
        "it's/dt=2024-01-01-05/x.json",
        'say"hi/dt=2024-01-01-05/x.json',
        "back\\slash/dt=2024-01-01-05/x.json",
        "new\nline/dt=2024-01-01-05/x.json",
        "nul\x00/dt=2024-01-01-05/x.json",
        "del\x7f/dt=2024-01-01-05/x.json",
        "it's/2024/01/02/03/file.gz",
        "back\\slash/2024/01/02/03/file.gz",
        "a//dt=2024-01-01-05/x.json",
        "/dt=2024-01-01-05/x.json",
        "a//2024/01/02/03/file.gz",
    ],
    ids=[
        "hive-quote",
        "hive-double-quote",
        "hive-backslash",
        "hive-newline",
        "hive-nul",
        "hive-del",
        "firehose-quote",
        "firehose-backslash",
        "hive-double-slash",
        "hive-leading-slash",
        "firehose-double-slash",
    ],
)
def test_unsafe_partition_folders_are_refused(key: str) -> None:
    with pytest.raises(PartitionKeyError, match="partition folder"):
        partition_from_key(BUCKET, key)


def test_unsafe_characters_below_the_partition_folder_do_not_matter() -> None:
    partition = partition_from_key(BUCKET, "a/dt=2024-01-01-05/it's here/x'.json")

    assert partition.location == "s3://acme-data/a/dt=2024-01-01-05/"


def test_unicode_prefix_folder_is_kept_in_the_location() -> None:
    partition = partition_from_key(BUCKET, "données/dt=2024-01-01-05/x.json")

    assert partition.location == "s3://acme-data/données/dt=2024-01-01-05/"


@pytest.mark.parametrize(
    "key",
    ["a/region=us/mid/dt=2024/x.json", "region=us/a/b/dt=2024/x.json"],
)
def test_name_value_folders_must_be_contiguous(key: str) -> None:
    with pytest.raises(PartitionKeyError, match="not contiguous"):
        partition_from_key(BUCKET, key)


@pytest.mark.parametrize(
    "folder",
    ["1dt=2024", "d-t=2024", "=2024", "d t=2024", "dt;=2024", "d\u00e9=2024", "dt'=2024"],
    ids=["leading-digit", "hyphen", "empty", "space", "semicolon", "unicode", "quote"],
)
def test_column_names_must_be_identifiers(folder: str) -> None:
    with pytest.raises(PartitionKeyError, match="column name"):
        partition_from_key(BUCKET, f"a/{folder}/x.json")


def test_hive_layout_wins_over_dates_in_the_key() -> None:
    partition = partition_from_key(BUCKET, "2024/01/02/03/dt=x/file.gz")

    assert partition.columns == ("dt",)
    assert partition.values == ("x",)


def test_spec_is_readable() -> None:
    partition = Partition(("region", "dt"), ("us-east-1", "2024-01-01-05"), "s3://b/x/")

    assert partition.spec() == "region='us-east-1', dt='2024-01-01-05'"


@pytest.mark.parametrize(
    ("table_columns", "expected"),
    [
        (("region", "dt"), ("region", "dt")),
        (("REGION", "Dt"), ("REGION", "Dt")),
    ],
    ids=["same-case", "table-case-wins"],
)
def test_conform_to_table_uses_the_tables_names(
    table_columns: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    partition = partition_from_key(BUCKET, "waf/Region=us-east-1/DT=2024-01-01-05/x.json")

    conformed = conform_to_table(partition, table_columns)

    assert conformed == Partition(expected, partition.values, partition.location)


@pytest.mark.parametrize(
    "table_columns",
    [("dt", "region"), ("region",), ("region", "dt", "hour"), (), ("region", "day")],
    ids=["order", "fewer", "more", "unpartitioned", "other-name"],
)
def test_conform_to_table_refuses_other_columns(table_columns: tuple[str, ...]) -> None:
    partition = partition_from_key(BUCKET, "waf/region=us-east-1/dt=2024-01-01-05/x.json")

    with pytest.raises(PartitionKeyError, match=r"partition columns \(region, dt\) are not the table's"):
        conform_to_table(partition, table_columns)


def test_firehose_partition_conforms_to_a_dt_table() -> None:
    partition = partition_from_key(BUCKET, "cloudtrail/2024/01/02/03/file.gz")

    assert conform_to_table(partition, ("DT",)).columns == ("DT",)


def test_a_folder_is_the_same_with_or_without_its_trailing_slash() -> None:
    assert as_folder("s3://b/alerts/dt=1") == as_folder("s3://b/alerts/dt=1/") == "s3://b/alerts/dt=1/"
    assert as_folder("s3://b/alerts/dt=1") != as_folder("s3://b/alerts/dt=10")


@pytest.mark.parametrize("key", ["alerts/../dt=1/x.json", "alerts/./dt=1/x.json", "../dt=1/x.json"])
def test_dot_folders_are_refused(key: str) -> None:
    with pytest.raises(PartitionKeyError, match=r"'\.' or '\.\.'"):
        partition_from_key("b", key)


def test_a_lone_surrogate_in_the_folder_is_refused_before_any_statement() -> None:
    with pytest.raises(PartitionKeyError, match="surrogate"):
        partition_from_key("b", "logs\ud800/dt=2024-01-01-05/x.json")


@pytest.mark.parametrize("table_location", ["s3://b/alerts", "s3://b/alerts/", "s3://b/"])
def test_a_partition_under_the_table_location_is_accepted(table_location: str) -> None:
    check_under_table(partition_from_key("b", "alerts/dt=2024-01-01-05/x.json"), table_location)


@pytest.mark.parametrize(
    "table_location", ["s3://b/alerts/", "s3://b/alert", "s3://other/", "", "s3://b/tmp/dt=2024-01-01-05/x"]
)
def test_a_partition_outside_the_table_location_is_refused(table_location: str) -> None:
    stray = partition_from_key("b", "tmp/dt=2024-01-01-05/x.json")

    with pytest.raises(PartitionKeyError, match="LOCATION"):
        check_under_table(stray, table_location)


def test_msck_registers_name_value_folders_right_under_the_table() -> None:
    partition = conform_to_table(
        partition_from_key("b", "logs/region=x/dt=2024-01-01-05/y.json"), ("region", "dt")
    )

    check_repairable(partition, "s3://b/logs")


@pytest.mark.parametrize(
    ("key", "columns", "why"),
    [
        ("logs/DT=2024-01-01-05/y.json", ("dt",), "lower case"),
        ("logs/userId=7/y.json", ("userid",), "lower case"),
        ("logs/_dt=2024-01-01-05/y.json", ("_dt",), "starting with '_'"),
    ],
)
def test_msck_skips_folders_athena_does_not_read_as_partitions(
    key: str, columns: tuple[str, ...], why: str
) -> None:
    """Athena's MSCK adds no partition whose folder name is not in lower case (AWS Knowledge Center,
    athena-aws-glue-msck-repair-table) nor one of a column starting with '_' (MSCK REPAIR TABLE docs);
    ALTER TABLE ADD PARTITION would, but a repair source's message would be deleted with nothing added."""
    partition = conform_to_table(partition_from_key("b", key), columns)

    with pytest.raises(PartitionKeyError, match=why):
        check_repairable(partition, "s3://b/logs/")


@pytest.mark.parametrize(
    ("key", "columns"),
    [
        ("logs/2024/01/01/05/y.json", ("dt",)),
        ("logs/deeper/dt=2024-01-01-05/y.json", ("dt",)),
        ("logs/dt=2024-01-01 05:00/y.json", ("dt",)),
        ("other/dt=2024-01-01-05/y.json", ("dt",)),
    ],
)
def test_msck_skips_what_is_not_a_hive_folder_of_the_table(key: str, columns: tuple[str, ...]) -> None:
    partition = conform_to_table(partition_from_key("b", key), columns)

    with pytest.raises(PartitionKeyError):
        check_repairable(partition, "s3://b/logs/")
