"""Placeholders: ``<prefix>`` is replaced in lambda.json before validation; any other placeholder, and any
placeholder in global.json (where none is replaced), is named as such instead of tripping the name rules."""

from __future__ import annotations

from typing import Any

import pytest

from config_schemas.placeholders import substitute_prefix
from streamalert.config import ConfigValidationError, validate_documents

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}
LOGS = {"cloudtrail:events": {"schema": {"eventName": "string"}}}
ATHENA = "athena_partition_refresh_config"
RULE = "rule_processor_config"


def errors(lambda_json: dict[str, Any], global_json: dict[str, Any] | None = None) -> list[str]:
    documents = {
        "global.json": global_json or {"account": ACCOUNT},
        "lambda.json": lambda_json,
        "logs.json": LOGS,
    }
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(documents)
    return caught.value.lines


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("<account>-data", 'unknown placeholder <account> in "<account>-data": only <prefix> is replaced'),
        (
            "<prefix>-<region>",
            'unknown placeholder <region> in "<prefix>-<region>": only <prefix> is replaced',
        ),
        (
            "<PREFIX>-data",
            'unknown placeholder <PREFIX> in "<PREFIX>-data": only <prefix> is replaced '
            "(did you mean <prefix>?)",
        ),
        (
            "<prefx>-<aws_region>/x",
            'unknown placeholders <prefx>, <aws_region> in "<prefx>-<aws_region>/x": only <prefix> is '
            "replaced (did you mean <prefix>?)",
        ),
    ],
)
def test_an_unknown_placeholder_is_named_instead_of_the_name_rules(written: str, message: str) -> None:
    assert errors({RULE: {"inputs": {"s3": [written]}}}) == [f"lambda.json: {RULE}.inputs.s3[0]: {message}"]


def test_an_unknown_placeholder_in_a_key_keeps_the_other_errors_of_its_entry() -> None:
    lines = errors({ATHENA: {"refresh_type": {"add_hive_partition": {"<account>-data": "Bad"}}}})

    path = f'lambda.json: {ATHENA}.refresh_type.add_hive_partition["<account>-data"]'
    assert lines == [
        f'{path}: Not a valid table name: "Bad" (Athena allows lowercase letters, digits and underscores, '
        "starting with a letter or underscore, at most 255 characters)",
        f'{path}: unknown placeholder <account> in "<account>-data": only <prefix> is replaced',
    ]


@pytest.mark.parametrize(
    ("terraform", "message"),
    [
        (
            {"state_bucket": "<prefix>-tf-state"},
            '"<prefix>-tf-state" holds <prefix>, which is replaced only in lambda.json: '
            "write the name in full",
        ),
        (
            {"state_key": "<region>/terraform.tfstate"},
            'unknown placeholder <region> in "<region>/terraform.tfstate": only <prefix> is replaced, and '
            "only in lambda.json",
        ),
    ],
)
def test_a_placeholder_in_global_json_is_named(terraform: dict[str, str], message: str) -> None:
    lambda_json = {RULE: {"inputs": {"s3": ["acme-logs"]}}}

    key = next(iter(terraform))
    assert errors(lambda_json, {"account": ACCOUNT, "terraform": terraform}) == [
        f"global.json: terraform.{key}: {message}"
    ]


def test_the_substitution_leaves_the_document_it_was_given_unchanged() -> None:
    written = {ATHENA: {"refresh_type": {"add_glue_partition": {"<prefix>.x": "t"}}}}

    substitution = substitute_prefix(written, "acme", prefix_problem=None)

    assert written == {ATHENA: {"refresh_type": {"add_glue_partition": {"<prefix>.x": "t"}}}}
    assert substitution.document == {
        ATHENA: {
            "refresh_type": {"add_glue_partition": {"acme.x": "t"}},
            "results_bucket": "acme-streamalert-athena-results",
        }
    }
    assert substitution.written_path((ATHENA, "refresh_type", "add_glue_partition", "acme.x")) == (
        ATHENA,
        "refresh_type",
        "add_glue_partition",
        "<prefix>.x",
    )
