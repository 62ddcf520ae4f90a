"""What validate-config prints for the config's first-run problems: a file saved with a byte-order mark,
a placeholder other than <prefix>, a region AWS does not have, and one malformed file beside the others'
errors."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from config_schemas.regions import BOTOCORE_VERSION
from streamalert_cli.validate_config import main
from tests.helpers import write_json

INVALID = "validate-config: the config is invalid; nothing was changed:"


def run(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config-dir", str(config_dir)])
    return code, capsys.readouterr().err.splitlines()


def test_files_saved_with_a_byte_order_mark_are_valid(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in config_dir.glob("*.json"):
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())

    assert run(config_dir, capsys) == (0, [])


def test_an_unknown_placeholder_is_named(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lambda_json = json.loads((config_dir / "lambda.json").read_text())
    lambda_json["athena_partition_refresh_config"]["results_bucket"] = "<account>-athena-results"
    write_json(config_dir / "lambda.json", lambda_json)

    assert run(config_dir, capsys) == (
        1,
        [
            INVALID,
            "lambda.json: athena_partition_refresh_config.results_bucket: unknown placeholder <account> in "
            '"<account>-athena-results": only <prefix> is replaced',
        ],
    )


def test_a_region_typo_names_the_region(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    global_json = json.loads((config_dir / "global.json").read_text())
    global_json["account"]["region"] = "eu-wset-1"
    write_json(config_dir / "global.json", global_json)

    assert run(config_dir, capsys) == (
        1,
        [
            INVALID,
            'global.json: account.region: must be an AWS region name such as "us-east-1" or "us-gov-west-1", '
            f'got "eu-wset-1" (a string): no AWS partition has this region (as of botocore '
            f'{BOTOCORE_VERSION}); did you mean "eu-west-1"?',
        ],
    )


def test_a_malformed_file_does_not_hide_the_errors_of_the_others(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    global_json = json.loads((config_dir / "global.json").read_text())
    global_json["account"]["aws_account_id"] = "12345"
    write_json(config_dir / "global.json", global_json)
    (config_dir / "lambda.json").write_text('{"athena_partition_refresh_config": ')

    assert run(config_dir, capsys) == (
        2,
        [
            "validate-config: global.json: account.aws_account_id: must be a string of exactly 12 digits, "
            'such as "123456789012", got "12345" (a string)',
            "validate-config: lambda.json: invalid JSON at line 1, column 37: Expecting value",
        ],
    )
