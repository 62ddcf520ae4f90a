"""global.json: the account block, checked alone and through the combined ConfigSchema."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from config_schemas.config import ConfigSchema
from config_schemas.errors import flatten_errors
from config_schemas.global_config import GlobalConfigSchema
from config_schemas.models import Account, GlobalConfig
from config_schemas.regions import BOTOCORE_VERSION

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}


def errors(global_json: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ConfigSchema().load({"global.json": global_json, "lambda.json": {}})
    return [str(line) for line in flatten_errors(caught.value.messages_dict)]


def with_account(**changes: Any) -> dict[str, Any]:
    return {"account": {**ACCOUNT, **changes}}


def test_a_global_json_with_only_account_is_valid() -> None:
    assert GlobalConfigSchema().load({"account": ACCOUNT}) == GlobalConfig(
        Account(aws_account_id="123456789012", prefix="acme", region="us-east-1")
    )


def test_the_combined_schema_returns_the_account() -> None:
    config = ConfigSchema().load({"global.json": {"account": ACCOUNT}, "lambda.json": {}})

    assert config.account.prefix == "acme"
    assert config.athena_refresh is None


@pytest.mark.parametrize(
    "account_id",
    [
        123456789012,
        "12345678901",
        "1234567890123",
        "12345678901a",
        "",
        " 123456789012",
        "\N{FULLWIDTH DIGIT ONE}" * 12,
    ],
)
def test_invalid_account_ids(account_id: Any) -> None:
    [line] = errors(with_account(aws_account_id=account_id))

    assert line.startswith(
        "global.json: account.aws_account_id: "
        'must be a string of exactly 12 digits, such as "123456789012", got '
    )


def test_an_account_id_written_as_a_number_says_so() -> None:
    assert errors(with_account(aws_account_id=123456789012)) == [
        'global.json: account.aws_account_id: must be a string of exactly 12 digits, such as "123456789012", '
        "got 123456789012 (an integer)"
    ]


@pytest.mark.parametrize("prefix", ["a", "acme", "acme-2", "a" * 20])
def test_valid_prefixes(prefix: str) -> None:
    assert GlobalConfigSchema().load(with_account(prefix=prefix)).account.prefix == prefix


@pytest.mark.parametrize("prefix", ["Acme", "1acme", "-acme", "acme_x", "acme.x", "", "a" * 21, 7])
def test_invalid_prefixes(prefix: Any) -> None:
    [line] = errors(with_account(prefix=prefix))

    assert line.startswith(
        "global.json: account.prefix: must be 1 to 20 lowercase letters, digits and hyphens, "
        "starting with a letter, got "
    )


@pytest.mark.parametrize(
    "region", ["us-east-1", "ap-southeast-2", "us-gov-west-1", "eu-central-2", "cn-north-1", "us-isob-east-1"]
)
def test_valid_regions(region: str) -> None:
    assert GlobalConfigSchema().load(with_account(region=region)).account.region == region


@pytest.mark.parametrize("region", ["US-EAST-1", "us-east", "useast1", "us-east-1a", "us_east_1", "", None])
def test_invalid_regions(region: Any) -> None:
    [line] = errors(with_account(region=region))

    assert line.startswith('global.json: account.region: must be an AWS region name such as "us-east-1"')


@pytest.mark.parametrize(
    ("region", "closest"),
    [
        ("us-esat-1", '"us-east-1"'),
        ("US-EAST-1", '"us-east-1"'),
        ("us-east-1a", '"us-east-1"'),
        ("useast1", '"us-east-1"'),
        ("us-gov-wset-1", '"us-gov-west-1"'),
        ("cn-nrth-1", '"cn-north-1"'),
        ("us-east-7", '"us-east-1" or "us-east-2"'),
        ("mars-north-1", None),
        ("aws-global", None),
        ("", None),
    ],
)
def test_a_region_aws_does_not_have_is_refused_naming_the_closest(region: str, closest: str | None) -> None:
    [line] = errors(with_account(region=region))

    hint = f"; did you mean {closest}?" if closest else ""
    assert line == (
        'global.json: account.region: must be an AWS region name such as "us-east-1" or "us-gov-west-1", '
        f'got "{region}" (a string): no AWS partition has this region (as of botocore {BOTOCORE_VERSION})'
        f"{hint}"
    )


@pytest.mark.parametrize("key", ["aws_account_id", "prefix", "region"])
def test_every_account_key_is_required(key: str) -> None:
    account = {name: value for name, value in ACCOUNT.items() if name != key}

    [line] = errors({"account": account})

    assert line.startswith(f"global.json: account.{key}: is required and must be ")


@pytest.mark.parametrize(
    ("global_json", "expected"),
    [
        ({}, ["global.json: account: is required and must be a JSON object"]),
        ({"account": "acme"}, ['global.json: account: must be a JSON object, got "acme" (a string)']),
        ([], ["global.json: must be a JSON object, got [] (an array)"]),
        (None, ["global.json: must be a JSON object, got null"]),
        (
            {"account": ACCOUNT, "deploy": {}},
            ["global.json: deploy: unknown key; allowed keys: account, terraform, source_bucket, buckets"],
        ),
        (
            with_account(profile="dev"),
            ["global.json: account.profile: unknown key; allowed keys: aws_account_id, prefix, region"],
        ),
    ],
)
def test_missing_unknown_and_misshapen_blocks(global_json: Any, expected: list[str]) -> None:
    assert errors(global_json) == expected


def test_every_account_error_is_reported_at_once() -> None:
    lines = errors({"account": {"aws_account_id": "1", "prefix": "A", "region": "x"}})

    assert [line.split(": ")[1] for line in lines] == [
        "account.aws_account_id",
        "account.prefix",
        "account.region",
    ]
