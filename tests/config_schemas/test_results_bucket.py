"""``results_bucket`` must be a bucket of its own: the deploy empties it on destroy and expires every object
in it, so it may not be the alerts bucket, a refresh source's bucket or a rule processor input's bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamalert.config import ConfigValidationError, validate_documents
from streamalert_cli.validate_config import main
from tests.helpers import declare_existing_tables, write_json

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}
LOGS = {"cloudtrail:events": {"schema": {"eventName": "string"}}}
ATHENA = "athena_partition_refresh_config"
RULE = "rule_processor_config"
RESULTS = f"lambda.json: {ATHENA}.results_bucket"
OWN_BUCKET = (
    "Athena results need a bucket of their own "
    "(the deploy empties it on destroy and expires its objects after 30 days)"
)
SOURCES = {"add_hive_partition": {"acme-data/cloudtrail": "cloudtrail", "<prefix>-waf": "waf"}}


def documents(
    results_bucket: str | None, inputs: list[str] | None = None, prefix: str = "acme"
) -> dict[str, Any]:
    athena: dict[str, Any] = {"refresh_type": SOURCES}
    if results_bucket is not None:
        athena["results_bucket"] = results_bucket
    lambda_json: dict[str, Any] = {ATHENA: declare_existing_tables(athena)}
    if inputs is not None:
        lambda_json[RULE] = {"inputs": {"s3": inputs}}
    return {
        "global.json": {"account": {**ACCOUNT, "prefix": prefix}},
        "lambda.json": lambda_json,
        "logs.json": LOGS,
    }


def errors(documents: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(documents)
    return caught.value.lines


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("<prefix>.streamalerts", '"acme.streamalerts" (written "<prefix>.streamalerts")'),
        ("acme.streamalerts", '"acme.streamalerts"'),
    ],
)
def test_the_alerts_bucket_is_refused(written: str, shown: str) -> None:
    assert errors(documents(written)) == [
        f"{RESULTS}: results_bucket {shown} is also the alerts bucket: {OWN_BUCKET}"
    ]


@pytest.mark.parametrize(
    ("written", "use"),
    [
        ("acme-data", 'refresh source "acme-data/cloudtrail" (table cloudtrail)'),
        ("<prefix>-data", 'refresh source "acme-data/cloudtrail" (table cloudtrail)'),
        ("acme-waf", 'refresh source "acme-waf" (table waf)'),
        ("<prefix>-waf", 'refresh source "acme-waf" (table waf)'),
    ],
)
def test_the_bucket_of_a_refresh_source_is_refused(written: str, use: str) -> None:
    bucket = written.replace("<prefix>", "acme")
    shown = f'"{bucket}" (written "{written}")' if written != bucket else f'"{bucket}"'

    assert errors(documents(written)) == [
        f"{RESULTS}: results_bucket {shown} is also the bucket of {use}: {OWN_BUCKET}"
    ]


@pytest.mark.parametrize("written", ["acme-logs", "<prefix>-logs"])
@pytest.mark.parametrize("listed", ["acme-logs", "<prefix>-logs/cloudtrail"])
def test_the_bucket_of_a_rule_processor_input_is_refused(written: str, listed: str) -> None:
    source = listed.replace("<prefix>", "acme")
    shown = f'"acme-logs" (written "{written}")' if written != "acme-logs" else '"acme-logs"'

    assert errors(documents(written, inputs=["acme-other", listed])) == [
        f'{RESULTS}: results_bucket {shown} is also the bucket of rule processor input "{source}" '
        f"({RULE}.inputs.s3[1]): {OWN_BUCKET}"
    ]


def test_every_use_of_the_bucket_is_named_in_one_error() -> None:
    lambda_json = documents("acme-data", inputs=["acme-data/vpcflow"])
    lambda_json["lambda.json"][ATHENA]["refresh_type"]["add_glue_partition"] = {"acme-data/waf": "waf2"}
    lambda_json["lambda.json"][ATHENA]["tables"]["waf2"] = {"existing": True}

    assert errors(lambda_json) == [
        f'{RESULTS}: results_bucket "acme-data" is also the bucket of refresh source "acme-data/cloudtrail" '
        '(table cloudtrail), of refresh source "acme-data/waf" (table waf2) and of rule processor input '
        f'"acme-data/vpcflow" ({RULE}.inputs.s3[0]): {OWN_BUCKET}'
    ]


def test_the_default_results_bucket_is_checked_too() -> None:
    lambda_json = documents(None)
    lambda_json["lambda.json"][ATHENA]["refresh_type"] = {
        "add_hive_partition": {"<prefix>-streamalert-athena-results/x": "x"}
    }
    lambda_json["lambda.json"][ATHENA]["tables"] = {"x": {"existing": True}}

    assert errors(lambda_json) == [
        f'{RESULTS}: results_bucket "acme-streamalert-athena-results" (the default) is also the bucket of '
        f'refresh source "acme-streamalert-athena-results/x" (table x): {OWN_BUCKET}'
    ]


def test_names_holding_the_prefix_are_not_compared_when_the_prefix_is_invalid() -> None:
    lines = errors(documents("<prefix>-waf", prefix="Not Valid"))

    assert [line for line in lines if line.startswith("lambda.json")] == [
        f'lambda.json: {ATHENA}.refresh_type.add_hive_partition["<prefix>-waf"]: "<prefix>-waf" holds '
        "<prefix>, which is not replaced: account.prefix of global.json is missing or not valid",
        f'{RESULTS}: "<prefix>-waf" holds <prefix>, which is not replaced: account.prefix of global.json '
        "is missing or not valid",
    ]


@pytest.mark.parametrize(
    "written",
    [
        "<prefix>-streamalert-athena-results",
        "acme-data-results",
        "acme-streamalerts",
        "acme.streamalerts.results",
    ],
)
def test_a_bucket_of_its_own_is_valid(written: str) -> None:
    block = validate_documents(documents(written, inputs=["acme-logs", "acme-data/vpcflow"])).athena_refresh

    assert block is not None
    assert block.results_bucket == written.replace("<prefix>", "acme")


def test_validate_config_refuses_a_results_bucket_that_is_a_data_bucket(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_json = json.loads((config_dir / "lambda.json").read_text())
    lambda_json[ATHENA]["results_bucket"] = "acme-firehose-data"
    write_json(config_dir / "lambda.json", lambda_json)

    assert main(["--config-dir", str(config_dir)]) == 1

    assert capsys.readouterr().err == (
        "validate-config: the config is invalid; nothing was changed:\n"
        f'{RESULTS}: results_bucket "acme-firehose-data" is also the bucket of refresh source '
        f'"acme-firehose-data/cloudtrail" (table cloudtrail): {OWN_BUCKET}\n'
    )
