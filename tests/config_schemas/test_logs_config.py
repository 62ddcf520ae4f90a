"""logs.json: log types in file order, strict key types, every error with its path; read if present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from config_schemas.config import ConfigSchema
from config_schemas.errors import flatten_errors
from config_schemas.logs_config import log_type_name_problem
from config_schemas.models import LogsConfig, LogType, ValueType
from streamalert.config import ConfigFileError, ConfigValidationError, load_config
from tests.helpers import REPO, write_json

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}


def load_logs(logs: Any) -> LogsConfig:
    documents = {"global.json": {"account": ACCOUNT}, "lambda.json": {}, "logs.json": logs}
    config = ConfigSchema().load(documents)
    result: LogsConfig = config.logs
    return result


def errors(logs: Any) -> list[str]:
    documents = {"global.json": {"account": ACCOUNT}, "lambda.json": {}, "logs.json": logs}
    with pytest.raises(ValidationError) as caught:
        ConfigSchema().load(documents)
    return [str(line) for line in flatten_errors(caught.value.messages_dict)]


def test_log_types_keep_file_order_and_types() -> None:
    logs = load_logs(
        {
            "osquery:differential": {"schema": {"name": "string", "columns": "object"}},
            "cloudtrail:events": {
                "schema": {
                    "eventName": "string",
                    "count": "integer",
                    "ratio": "number",
                    "readOnly": "boolean",
                    "resources": "array",
                }
            },
        }
    )

    assert logs == LogsConfig(
        (
            LogType("osquery:differential", (("name", ValueType.STRING), ("columns", ValueType.OBJECT))),
            LogType(
                "cloudtrail:events",
                (
                    ("eventName", ValueType.STRING),
                    ("count", ValueType.INTEGER),
                    ("ratio", ValueType.NUMBER),
                    ("readOnly", ValueType.BOOLEAN),
                    ("resources", ValueType.ARRAY),
                ),
            ),
        )
    )
    assert logs.names == ("osquery:differential", "cloudtrail:events")


def test_logs_json_absent_means_no_log_types() -> None:
    config = ConfigSchema().load({"global.json": {"account": ACCOUNT}, "lambda.json": {}})

    assert config.logs == LogsConfig()


@pytest.mark.parametrize("name", ["cloudtrail", "cloudtrail:events", "a1_b:c_2", "x" * 64])
def test_valid_log_type_names(name: str) -> None:
    assert log_type_name_problem(name) is None


@pytest.mark.parametrize("name", ["CloudTrail", "cloudtrail:", ":events", "a:b:c", "1x", "a-b", "", "x" * 65])
def test_invalid_log_type_names(name: str) -> None:
    [line] = errors({name: {"schema": {"k": "string"}}})

    assert f"Not a valid log type name: {json.dumps(name)}" in line


@pytest.mark.parametrize(
    ("logs", "expected"),
    [
        (None, ['logs.json: must be a JSON object mapping log type names to {"schema": {...}}, got null']),
        (
            {"a:b": {"schema": {"k": [], "m": {"type": "string"}}}},
            [
                'logs.json: ["a:b"].schema.k: must be one of "string", "integer", "number", "boolean", '
                '"object", "array", got [] (an array)',
                'logs.json: ["a:b"].schema.m: must be one of "string", "integer", "number", "boolean", '
                '"object", "array", got {"type": "string"} (an object)',
            ],
        ),
        (
            [],
            [
                'logs.json: must be a JSON object mapping log type names to {"schema": {...}}, '
                "got [] (an array)"
            ],
        ),
        (
            {"cloudtrail:events": []},
            [
                'logs.json: ["cloudtrail:events"]: must be a JSON object like {"schema": {...}}, '
                "got [] (an array)"
            ],
        ),
        (
            {"cloudtrail:events": {}},
            ['logs.json: ["cloudtrail:events"].schema: is required and must be an object'],
        ),
        (
            {"cloudtrail:events": {"schema": {}}},
            [
                'logs.json: ["cloudtrail:events"].schema: must name at least one key '
                "(a log type without keys would take every record)"
            ],
        ),
        (
            {"cloudtrail:events": {"schema": {"eventName": "str", "userIdentity": "dict", "": "string"}}},
            [
                'logs.json: ["cloudtrail:events"].schema[""]: a record key must not be empty',
                'logs.json: ["cloudtrail:events"].schema.eventName: must be one of "string", "integer", '
                '"number", "boolean", "object", "array", got "str" (a string)',
                'logs.json: ["cloudtrail:events"].schema.userIdentity: must be one of "string", "integer", '
                '"number", "boolean", "object", "array", got "dict" (a string)',
            ],
        ),
        (
            {"cloudtrail:events": {"schema": {"k": "string"}, "parser": "json"}},
            ['logs.json: ["cloudtrail:events"].parser: unknown key; allowed keys: schema'],
        ),
        (
            {"Bad": {"schema": {"k": 1}}},
            [
                'logs.json: Bad: Not a valid log type name: "Bad" (lowercase letters, digits and '
                "underscores, starting with a letter, optionally followed by ':' and a second such word, "
                'at most 64 characters, e.g. "cloudtrail:events")',
                'logs.json: Bad.schema.k: must be one of "string", "integer", "number", "boolean", "object", '
                '"array", got 1 (an integer)',
            ],
        ),
    ],
)
def test_every_error_is_reported_with_its_path(logs: Any, expected: list[str]) -> None:
    lines = errors(logs)

    assert [line[: len(want)] for line, want in zip(lines, expected, strict=True)] == expected


def test_the_example_conf_declares_cloudtrail_first() -> None:
    config = load_config(REPO / "conf")

    assert config.logs.names[0] == "cloudtrail:events"
    assert config.rule_processor is not None
    assert config.alert_processor is not None


@pytest.fixture
def conf_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "conf"
    shutil.copytree(REPO / "conf", directory)
    return directory


def _declare_tables_existing(conf: Path) -> None:
    """The shipped tables declared existing: none is created from a log type of the shipped logs.json."""
    lambda_json = json.loads((conf / "lambda.json").read_text())
    block = lambda_json["athena_partition_refresh_config"]
    block["tables"] = {name: {"existing": True} for name in block["tables"]}
    write_json(conf / "lambda.json", lambda_json)


def test_load_config_reads_logs_json_when_present(conf_copy: Path) -> None:
    write_json(conf_copy / "logs.json", {"only:type": {"schema": {"k": "string"}}})
    _declare_tables_existing(conf_copy)

    assert load_config(conf_copy).logs.names == ("only:type",)


def test_load_config_without_logs_json(conf_copy: Path) -> None:
    (conf_copy / "logs.json").unlink()
    _declare_tables_existing(conf_copy)
    lambda_json = json.loads((conf_copy / "lambda.json").read_text())
    del lambda_json["rule_processor_config"]
    write_json(conf_copy / "lambda.json", lambda_json)

    assert load_config(conf_copy).logs == LogsConfig()


def test_logs_json_errors_come_with_the_others(conf_copy: Path) -> None:
    (conf_copy / "logs.json").write_text('{"a:b": {"schema": {"k": "text"}}, "a:b": {"schema": {}}}')

    with pytest.raises(ConfigValidationError) as caught:
        load_config(conf_copy)

    assert [line.split(": ")[:2] for line in caught.value.lines] == [
        ["logs.json", '["a:b"]'],
        ["logs.json", '["a:b"].schema'],
    ]


def test_unreadable_logs_json_is_a_file_error(conf_copy: Path) -> None:
    (conf_copy / "logs.json").write_text("{")

    with pytest.raises(ConfigFileError, match=r"^logs\.json: invalid JSON at line 1, column 2"):
        load_config(conf_copy)
