"""scripts/deploy: usage and tool errors (exit 2), invalid config and refused accounts (exit 1), and the step
sequence against moto with a stand-in terraform that records how it was called."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from moto import mock_aws

from streamalert_cli import destroy, rollback
from streamalert_cli.deploy import main

REPO = Path(__file__).resolve().parents[2]
BASIC = REPO / "tests" / "fixtures" / "terraform" / "configs" / "basic"
# terraform -json streams recorded from terraform 1.11 (tests/streamalert_cli/terraform/test_progress.py)
STREAMS = REPO / "tests" / "fixtures" / "terraform" / "json"
# It answers no version (the deploy then leaves the check to terraform's init) and records no version call
FAKE_TERRAFORM = """#!/bin/sh
[ "$1" = version ] && exit 0
echo "$@" >> "$(dirname "$0")/calls"
case "$1" in
  plan) cat "{streams}/plan_create.jsonl" ;;
  apply) cat "{streams}/apply_create.jsonl" ;;
  show) echo "Terraform will perform the following actions:" ;;
  output) echo '{{}}' ;;
esac
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "conf"
    shutil.copytree(BASIC, target)
    return target


@pytest.fixture
def moto() -> Iterator[None]:
    """moto, holding what the basic config names and the deploy does not create (its preflight checks it):
    the refresh's data bucket, and the database with the table of that bucket's route."""
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="acme-firehose-data")
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "streamalert"})
        glue.create_table(DatabaseName="streamalert", TableInput={"Name": "cloudtrail"})
        yield


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A terraform on PATH that records its arguments in ``calls`` and succeeds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(FAKE_TERRAFORM.format(streams=STREAMS))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir / "calls"


@pytest.fixture
def no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call attempted, refused."""
    calls: list[str] = []

    def refuse(self: BaseClient, operation: str, params: object) -> None:
        calls.append(operation)
        raise AssertionError(f"unexpected AWS call {operation}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    return calls


def args(config_dir: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["--config-dir", str(config_dir), "--build-dir", str(tmp_path / "build"), *extra]


@pytest.mark.parametrize(
    "argv",
    [[], ["--processor"], ["--processor", "kinesis"], ["--processor", "athena", "--colour"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: deploy" in capsys.readouterr().err


@pytest.mark.parametrize(("processor", "block"), [("rule", "rule_processor"), ("alert", "alert_processor")])
def test_processors_missing_from_lambda_json_are_refused(
    processor: str, block: str, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--processor", processor, "--yes", *args(config_dir, tmp_path)]) == 2
    expected = f"lambda.json has no {block}_config block: nothing to deploy for {processor}"
    assert expected in capsys.readouterr().err


def test_an_invalid_config_stops_before_any_aws_call(
    config_dir: Path, tmp_path: Path, no_aws_calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_json = config_dir / "lambda.json"
    document = json.loads(lambda_json.read_text())
    document["athena_partition_refresh_config"]["memory"] = "lots"
    document["athena_partition_refresh_config"]["timeout"] = 0
    lambda_json.write_text(json.dumps(document))

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "deploy: the config is invalid; nothing was changed:"
    assert err[1].startswith("lambda.json: athena_partition_refresh_config.memory: must be an integer")
    assert err[2].startswith("lambda.json: athena_partition_refresh_config.timeout: must be an integer")
    assert no_aws_calls == []
    assert not (tmp_path / "build").exists()


def test_an_unreadable_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--processor", "athena", "--yes", *args(tmp_path / "nowhere", tmp_path)]) == 2
    assert "config directory not found" in capsys.readouterr().err


def test_missing_terraform_is_said_as_such(
    config_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_aws_calls: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 2

    assert capsys.readouterr().err == (
        "deploy: terraform is not on PATH: install Terraform 1.10 or later (a prerequisite of deploying)\n"
    )
    assert no_aws_calls == []


def test_without_a_terminal_apply_needs_yes(
    config_dir: Path, tmp_path: Path, no_aws_calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--processor", "athena", *args(config_dir, tmp_path)]) == 2
    assert "pass --yes" in capsys.readouterr().err


@pytest.mark.usefixtures("moto")
def test_credentials_of_another_account_are_refused(
    config_dir: Path,
    tmp_path: Path,
    fake_terraform: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 1

    err = capsys.readouterr().err
    assert "check AWS account failed: the credentials are of account 999999999999" in err
    assert "global.json says 123456789012: refusing to deploy" in err
    assert not fake_terraform.exists()


@pytest.mark.usefixtures("moto", "fake_terraform")
def test_a_session_in_another_region_is_refused(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 1
    assert "region is eu-west-1 but global.json says us-east-1" in capsys.readouterr().err


@pytest.mark.usefixtures("moto")
def test_plan_runs_every_step_up_to_the_plan(
    config_dir: Path, tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--processor", "athena", "--plan", *args(config_dir, tmp_path)]) == 0

    out = capsys.readouterr().out
    steps = [line.split(":")[1].strip() for line in out.splitlines() if line.startswith("deploy: ")]
    assert steps == [
        "validate config",
        "check AWS account",
        "preflight",
        "bucket notifications",
        "render terraform",
        "package athena",
        "upload",
        "state bucket",
        "terraform init",
        "terraform plan",
    ]
    assert "upload: skipped (--plan)" in out
    assert "s3://acme-streamalert-terraform-state does not exist yet: planning against an empty state" in out
    assert "Terraform will perform the following actions:" in out
    calls = fake_terraform.read_text().splitlines()
    assert [call.split()[0] for call in calls] == ["fmt", "init", "plan", "show"]
    assert "-target=module.athena_refresh" in calls[2]
    assert "-target=aws_s3_bucket_notification.bucket_acme_streamalerts" in calls[2]
    variables = json.loads((tmp_path / "build" / "terraform" / "aws" / "deploy.tfvars.json").read_text())
    assert variables["athena_refresh_package"]["bucket"] == "acme-streamalert-source"
    assert variables["athena_refresh_pinned_version"] == ""


@pytest.mark.usefixtures("moto")
def test_apply_uploads_the_zip_once(
    config_dir: Path, tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 0
    assert main(["--processor", "all", "--yes", *args(config_dir, tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "upload: 1 of 1 zips uploaded to s3://acme-streamalert-source" in out
    assert "upload: 0 of 1 zips uploaded to s3://acme-streamalert-source (unchanged)" in out
    assert [call.split()[0] for call in fake_terraform.read_text().splitlines()].count("apply") == 2


@pytest.mark.usefixtures("moto", "fake_terraform")
def test_without_a_terminal_apply_says_a_line_per_resource_then_its_summary(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 0

    lines = capsys.readouterr().out.splitlines()
    plan = next(line for line in lines if line.startswith("deploy: terraform plan: "))
    assert plan.startswith("deploy: terraform plan: Plan: 3 to add, 0 to change, 0 to destroy. (")
    applied = lines[lines.index(plan) + 1 : lines.index(plan) + 5]
    assert applied[:3] == [
        "deploy: apply: 1/3 module.athena_refresh.terraform_data.queue created (0.0s)",
        "deploy: apply: 2/3 module.athena_refresh.terraform_data.function created (1.2s)",
        "deploy: apply: 3/3 module.athena_refresh.terraform_data.alias created (0.0s)",
    ]
    assert applied[3].startswith(
        "deploy: terraform apply: Apply complete! Resources: 3 added, 0 changed, 0 destroyed. ("
    )


@pytest.mark.usefixtures("moto")
def test_a_terraform_error_is_shown_whole_with_the_log_it_is_in(
    config_dir: Path, tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = fake_terraform.parent / "terraform"
    script.write_text(
        script.read_text().replace(
            "case", f'[ "$1" = init ] && {{ cat "{STREAMS}/init_error.jsonl"; exit 1; }}\ncase', 1
        )
    )

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 1

    log = tmp_path / "build" / "terraform" / "aws" / "terraform.log"
    assert capsys.readouterr().err.splitlines() == [
        f"deploy: terraform init failed: terraform's full output is in {log}",
        "  Error: Failed to query available provider packages",
        "    Could not retrieve the list of available versions for provider hashicorp/aws: no available "
        "releases match the given constraints 5.99.0",
        "",
        "    To see which modules are currently depending on hashicorp/aws and what versions are specified, "
        "run the following command:",
        "        terraform providers",
    ]
    assert "Error: Failed to query available provider packages" in log.read_text()


@pytest.mark.parametrize("command", [rollback, destroy])
def test_rollback_and_destroy_refuse_local(
    command: object, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_of = command.main  # type: ignore[attr-defined]

    assert main_of(["--processor", "athena", "--local", *args(config_dir, tmp_path)]) == 2
    assert "--local: the embedded emulator" in capsys.readouterr().err


@pytest.mark.parametrize(("script", "action"), [("scripts/deploy", None), ("manage.py", "deploy")])
def test_the_executables_run_the_same_code(script: str, action: str | None, config_dir: Path) -> None:
    command = [sys.executable, str(REPO / script)]
    if action:
        command += ["lambda", action]
    result = subprocess.run(
        [*command, "--processor", "rule", "--yes", "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "lambda.json has no rule_processor_config block" in result.stderr


def test_overlapping_sources_of_two_processors_stop_before_any_aws_call(
    tmp_path: Path, no_aws_calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "conf"
    shutil.copytree(BASIC.parent / "all_processors", config_dir)
    lambda_json = config_dir / "lambda.json"
    document = json.loads(lambda_json.read_text())
    document["rule_processor_config"]["inputs"]["s3"] = ["<prefix>-data"]
    lambda_json.write_text(json.dumps(document))

    assert main(["--processor", "rule", "--yes", *args(config_dir, tmp_path)]) == 1

    err = capsys.readouterr().err
    assert err.startswith(
        "deploy: render terraform failed: bucket acme-data: the athena_refresh source acme-data/vpc"
    )
    assert "rule_processor source acme-data overlap" in err
    assert no_aws_calls == []


def _foreign_queue(prefix: str) -> str:
    """Another team's queue notification on the refresh's data bucket, under ``prefix``; its ARN."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="other-team")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("s3").put_bucket_notification_configuration(
        Bucket="acme-firehose-data",
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "other-team",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return str(arn)


@pytest.mark.usefixtures("moto")
def test_an_entry_of_another_consumer_is_kept_and_shown_with_the_plan(
    config_dir: Path, tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = _foreign_queue("other/")

    assert main(["--processor", "athena", "--plan", *args(config_dir, tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "deploy: bucket notifications: 2 bucket(s), 1 there: 1 entry(ies) of others kept" in out
    assert f"deploy: kept: other-team -> {arn} (s3://acme-firehose-data)" in out
    main_tf = (tmp_path / "build" / "terraform" / "aws" / "main.tf").read_text()
    assert f'queue_arn     = "{arn}"' in main_tf


@pytest.mark.usefixtures("moto")
def test_an_entry_of_another_consumer_overlapping_ours_stops_the_deploy_before_any_change(
    config_dir: Path, tmp_path: Path, fake_terraform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _foreign_queue("cloud")  # a prefix of cloudtrail/: the same objects

    assert main(["--processor", "athena", "--yes", *args(config_dir, tmp_path)]) == 1

    err = capsys.readouterr().err
    assert err.startswith(
        'deploy: bucket notifications failed: bucket acme-firehose-data: the entry "other-team"'
    )
    assert "athena_refresh source acme-firehose-data/cloudtrail" in err
    assert '"acme-firehose-data": {"notifications": "eventbridge"}' in err
    assert not fake_terraform.exists()  # no terraform run at all
    buckets = [bucket["Name"] for bucket in boto3.client("s3").list_buckets()["Buckets"]]
    assert "acme-streamalert-source" not in buckets  # nothing uploaded
    configuration = boto3.client("s3").get_bucket_notification_configuration(Bucket="acme-firehose-data")
    assert [entry["Id"] for entry in configuration["QueueConfigurations"]] == ["other-team"]
