"""The preflight of a deploy to AWS, on moto: what the config names and the deployment does not create is
checked, every problem told at once before any plan; the keys of the rule processor's buckets are read."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from config_schemas.models import BucketKey
from streamalert.config import load_config, validate_documents
from streamalert_cli.deploy import main
from streamalert_cli.preflight import NamedBucket, NamedResources, Preflight, named_resources
from tests.streamalert_cli.test_deploy import FAKE_TERRAFORM, STREAMS

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "tests" / "fixtures" / "terraform" / "configs"
ACCOUNT = "123456789012"
RULE_S3 = "lambda.json rule_processor_config.inputs.s3"
HIVE = "lambda.json athena_partition_refresh_config.refresh_type.add_hive_partition"
TRAIL_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {name: boto3.client(name) for name in ("s3", "kinesis", "glue", "kms")}


def preflight(clients: dict[str, Any], config_name: str = "all_processors") -> Preflight:
    account = load_config(CONFIGS / config_name).account
    return Preflight(account, clients["s3"], clients["kinesis"], clients["glue"], clients["kms"])


def all_processors_named() -> NamedResources:
    config = load_config(CONFIGS / "all_processors")
    created = {"acme.streamalerts", "acme-streamalert-athena-results"}
    return named_resources(config, {"athena_refresh", "rule_processor", "alert_processor"}, created)


def test_the_config_names_what_the_deployment_does_not_create() -> None:
    named = all_processors_named()

    assert named.buckets == (
        NamedBucket("acme-cloudtrail-logs", (RULE_S3,), objects_read=True),
        NamedBucket("acme-data", (RULE_S3, HIVE), objects_read=True),
    )
    assert named.streams == ("acme_other_stream", "acme_stream")
    assert [(t.database, t.name, t.locations) for t in named.tables] == [
        ("streamalert", "vpc_flow", ("s3://acme-data/vpc/",))
    ]


def test_only_what_the_selected_processors_need_is_named() -> None:
    config = load_config(CONFIGS / "all_processors")

    named = named_resources(config, {"athena_refresh"}, {"acme.streamalerts"})

    assert [(b.name, b.objects_read) for b in named.buckets] == [("acme-data", False)]
    assert named.streams == ()


def test_every_missing_or_unusable_resource_is_told_at_once_with_what_to_do(aws: dict[str, Any]) -> None:
    aws["s3"].create_bucket(Bucket="acme-cloudtrail-logs")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="acme-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    aws["kinesis"].create_stream(StreamName="acme_stream", ShardCount=1)
    aws["glue"].create_database(DatabaseInput={"Name": "streamalert"})

    report = preflight(aws).check(all_processors_named())

    assert report.problems == [
        "bucket acme-data is in eu-west-1, not in us-east-1 (global.json account.region): S3 notifies "
        "queues and functions of its own region only; use a bucket in us-east-1, or remove it from "
        f"{RULE_S3} and {HIVE}",
        "Kinesis stream acme_other_stream does not exist in us-east-1 (account 123456789012): create it, or "
        "remove it from lambda.json rule_processor_config.inputs.kinesis",
        "table streamalert.vpc_flow does not exist: create it (an Athena CREATE EXTERNAL TABLE over "
        f"s3://acme-data/vpc/), or remove it from {HIVE}",
    ]
    assert report.input_keys == []


def test_a_missing_bucket_says_where_to_create_it(aws: dict[str, Any]) -> None:
    named = NamedResources(buckets=(NamedBucket("acme-cloudtrail-logs", (RULE_S3,), objects_read=True),))

    assert preflight(aws).check(named).problems == [
        "bucket acme-cloudtrail-logs does not exist: create it in us-east-1 (account 123456789012), or "
        f"remove it from {RULE_S3}"
    ]


def test_a_bucket_of_another_account_is_unusable(aws: dict[str, Any]) -> None:
    def forbidden(**kwargs: Any) -> None:  # S3's answer to ExpectedBucketOwner of another account
        assert kwargs["ExpectedBucketOwner"] == ACCOUNT
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadBucket")

    aws["s3"].head_bucket = forbidden
    named = NamedResources(buckets=(NamedBucket("their-logs", (RULE_S3,), objects_read=True),))

    assert preflight(aws).check(named).problems == [
        "bucket their-logs cannot be read with these credentials (403): it is another account's, or they "
        "lack s3:ListBucket and s3:GetBucketLocation on it (scripts/deploy --print-deployer-policy); use a "
        f"bucket of account 123456789012, or remove it from {RULE_S3}"
    ]


def test_tables_of_a_database_this_deploy_creates_are_a_note(aws: dict[str, Any]) -> None:
    named = all_processors_named()
    report = preflight(aws).check(NamedResources(tables=named.tables))

    assert report.problems == []
    assert report.notes == [
        "database streamalert does not exist yet (this deploy creates it): create its table vpc_flow once "
        "it does; until then the refresh cannot register its partitions"
    ]


def test_all_present_is_no_problem_and_says_what_was_checked(aws: dict[str, Any]) -> None:
    aws["s3"].create_bucket(Bucket="acme-cloudtrail-logs")
    aws["s3"].create_bucket(Bucket="acme-data")
    for stream in ("acme_stream", "acme_other_stream"):
        aws["kinesis"].create_stream(StreamName=stream, ShardCount=1)
    aws["glue"].create_database(DatabaseInput={"Name": "streamalert"})
    aws["glue"].create_table(DatabaseName="streamalert", TableInput={"Name": "vpc_flow"})

    report = preflight(aws).check(all_processors_named())

    assert (report.problems, report.notes) == ([], [])
    assert report.summary == "2 buckets, 2 streams, 1 table"


def encrypt(s3: Any, bucket: str, key_id: str | None, algorithm: str = "aws:kms") -> None:
    default: dict[str, str] = {"SSEAlgorithm": algorithm}
    if key_id:
        default["KMSMasterKeyID"] = key_id
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
    )


def test_the_keys_of_the_buckets_the_rule_processor_reads_are_found(aws: dict[str, Any]) -> None:
    key = aws["kms"].create_key()["KeyMetadata"]
    aws["kms"].create_alias(AliasName="alias/logs", TargetKeyId=key["KeyId"])
    buckets = {
        "by-arn": TRAIL_KEY,
        "by-id": "mrk-0123456789abcdef0123456789abcdef",
        "by-alias": "alias/logs",
        "aws-managed": "alias/aws/s3",
        "default-managed": None,
    }
    for bucket, key_id in buckets.items():
        aws["s3"].create_bucket(Bucket=bucket)
        encrypt(aws["s3"], bucket, key_id)
    aws["s3"].create_bucket(Bucket="sse-s3")
    encrypt(aws["s3"], "sse-s3", None, "AES256")
    aws["s3"].create_bucket(Bucket="refresh-only")
    encrypt(aws["s3"], "refresh-only", TRAIL_KEY)
    named = NamedResources(
        buckets=(
            *(NamedBucket(name, (RULE_S3,), objects_read=True) for name in (*buckets, "sse-s3")),
            NamedBucket("refresh-only", (HIVE,), objects_read=False),
        )
    )

    report = preflight(aws).check(named)

    assert report.problems == []
    assert sorted(report.input_keys) == [
        BucketKey("by-alias", key["Arn"]),
        BucketKey("by-arn", TRAIL_KEY),
        BucketKey("by-id", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef"),
    ]


def test_an_unreadable_default_encryption_needs_the_key_in_the_config(aws: dict[str, Any]) -> None:
    aws["s3"].create_bucket(Bucket="acme-cloudtrail-logs")
    s3 = aws["s3"]
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetBucketEncryption")

    def refuse(**kwargs: Any) -> None:
        raise denied

    s3.get_bucket_encryption = refuse
    named = NamedResources(buckets=(NamedBucket("acme-cloudtrail-logs", (RULE_S3,), objects_read=True),))

    assert preflight(aws).check(named).problems == [
        "the default encryption of bucket acme-cloudtrail-logs cannot be read (AccessDenied), so the rule "
        "processor may lack kms:Decrypt on its key: grant the deployer s3:GetEncryptionConfiguration on it, "
        "or name its key's ARN in lambda.json rule_processor_config.inputs.kms_keys"
    ]
    configured = [BucketKey("acme-cloudtrail-logs", TRAIL_KEY)]
    assert preflight(aws).check(named, configured).problems == []


def test_a_rollback_reads_the_keys_only_and_a_missing_bucket_is_not_its_problem(aws: dict[str, Any]) -> None:
    aws["s3"].create_bucket(Bucket="acme-data")
    encrypt(aws["s3"], "acme-data", TRAIL_KEY)

    report = preflight(aws).keys_only(all_processors_named())

    assert report.problems == []
    assert report.input_keys == [BucketKey("acme-data", TRAIL_KEY)]


# --- the deploy: the preflight runs before render and plan, on AWS only ---


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A terraform that records its calls and plans as terraform 1.11 did (tests/.../test_deploy.py)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM.format(streams=STREAMS))
    (bin_dir / "terraform").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir / "calls"


def plan_all(tmp_path: Path) -> list[str]:
    config_dir = tmp_path / "conf"
    shutil.copytree(CONFIGS / "all_processors", config_dir)
    return [
        "--processor",
        "all",
        "--plan",
        "--config-dir",
        str(config_dir),
        "--build-dir",
        str(tmp_path / "b"),
    ]


def test_a_deploy_with_missing_resources_stops_before_render_and_plan(
    tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = plan_all(tmp_path)

    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="acme-data")
        assert main(argv) == 1

    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "deploy: preflight failed: 3 problems with what the config names and the deployment does not create; "
        "nothing was planned or applied",
        "  bucket acme-cloudtrail-logs does not exist: create it in us-east-1 (account 123456789012), or "
        f"remove it from {RULE_S3}",
        "  Kinesis stream acme_other_stream does not exist in us-east-1 (account 123456789012): create it, "
        "or remove it from lambda.json rule_processor_config.inputs.kinesis",
        "  Kinesis stream acme_stream does not exist in us-east-1 (account 123456789012): create it, or "
        "remove it from lambda.json rule_processor_config.inputs.kinesis",
    ]
    assert "render terraform" not in captured.out
    assert not fake_terraform.exists()


def test_the_rule_processor_may_decrypt_with_the_key_its_bucket_names(
    tmp_path: Path, fake_terraform: Path, aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    for bucket in ("acme-cloudtrail-logs", "acme-data"):
        aws["s3"].create_bucket(Bucket=bucket)
    encrypt(aws["s3"], "acme-cloudtrail-logs", TRAIL_KEY)
    for stream in ("acme_stream", "acme_other_stream"):
        aws["kinesis"].create_stream(StreamName=stream, ShardCount=1)

    assert main(plan_all(tmp_path)) == 0

    out = capsys.readouterr().out
    assert (
        f"deploy: preflight: 2 buckets, 2 streams, 1 table; the rule processor decrypts with {TRAIL_KEY}"
        in out
    )
    assert "deploy: preflight: database streamalert does not exist yet (this deploy creates it)" in out
    rendered = (tmp_path / "b" / "terraform" / "aws" / "rule_processor" / "main.tf").read_text()
    assert f'"Action" = ["kms:Decrypt"]\n"Resource" = ["{TRAIL_KEY}"]' in rendered  # before terraform fmt


def declared_named(tables: dict[str, Any]) -> NamedResources:
    """The tables named by a refresh block of two hive routes whose ``tables`` are ``tables``."""
    documents = {
        "global.json": {"account": {"aws_account_id": ACCOUNT, "prefix": "acme", "region": "us-east-1"}},
        "lambda.json": {
            "athena_partition_refresh_config": {
                "refresh_type": {"add_hive_partition": {"acme-data/flows": "flows", "acme-data/waf": "waf"}},
                "tables": tables,
            }
        },
    }
    return named_resources(validate_documents(documents), {"athena_refresh"}, set())


def create_table(glue: Any, name: str, *keys: str) -> None:
    partition_keys = [{"Name": key, "Type": "string"} for key in keys]
    glue.create_table(DatabaseName="streamalert", TableInput={"Name": name, "PartitionKeys": partition_keys})


def test_a_declared_existing_table_whose_keys_fit_its_layout_is_no_problem(aws: dict[str, Any]) -> None:
    aws["glue"].create_database(DatabaseInput={"Name": "streamalert"})
    create_table(aws["glue"], "flows", "dt")
    create_table(aws["glue"], "waf", "Region", "dt")  # Glue may hold a name in upper case
    named = declared_named(
        {
            "flows": {"existing": True, "layout": "firehose"},
            "waf": {"existing": True, "layout": "hive", "partition_keys": ["region", "dt"]},
        }
    )

    report = preflight(aws).check(NamedResources(tables=named.tables))

    assert (report.problems, report.summary) == ([], "2 tables")


def test_a_declared_existing_table_whose_keys_do_not_fit_its_layout_stops_the_deploy(
    aws: dict[str, Any],
) -> None:
    aws["glue"].create_database(DatabaseInput={"Name": "streamalert"})
    create_table(aws["glue"], "flows", "year", "month")
    create_table(aws["glue"], "waf")
    named = declared_named(
        {
            "flows": {"existing": True},  # no layout declared: its keys are the refresh's to check
            "waf": {"existing": True, "layout": "hive", "partition_keys": ["region", "dt"]},
        }
    )

    report = preflight(aws).check(NamedResources(tables=named.tables))

    assert report.problems == [
        "table streamalert.waf has partition keys (none), not (region, dt) as its declared hive "
        "layout gives: "
        'declare its folders in lambda.json athena_partition_refresh_config.tables.waf ("layout", '
        '"partition_keys"), or recreate the table with those keys'
    ]


def test_a_created_table_is_not_checked_but_an_existing_one_is() -> None:
    config = load_config(CONFIGS / "basic")  # cloudtrail: created from logs.json's cloudtrail:events

    assert named_resources(config, {"athena_refresh"}, set()).tables == ()
    assert [table.name for table in all_processors_named().tables] == ["vpc_flow"]  # declared existing
