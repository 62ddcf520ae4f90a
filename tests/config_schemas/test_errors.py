"""marshmallow's nested error dicts as ``<file>: <path>: <message>`` lines."""

from __future__ import annotations

from config_schemas.errors import UNKNOWN_KEY, flatten_errors


def test_errors_of_an_object_are_named_by_its_path() -> None:
    lines = flatten_errors({"lambda.json": {"block": {"routes": {"_schema": ["must map a source"]}}}})

    assert [str(line) for line in lines] == ["lambda.json: block.routes: must map a source"]


def test_an_unknown_key_named_underscore_schema_is_told_apart_from_the_errors_of_its_object() -> None:
    # marshmallow files both under "_schema": the unknown-key message names the key
    unknown = f"{UNKNOWN_KEY}database_name, routes"
    lines = flatten_errors({"lambda.json": {"block": {"_schema": ["must map a source", unknown]}}})

    assert [str(line) for line in lines] == [
        "lambda.json: block: must map a source",
        f"lambda.json: block._schema: {unknown}",
    ]


def test_the_errors_inside_a_users_key_named_underscore_schema_are_named_by_it() -> None:
    # a log type or a source named "_schema": its errors are a mapping, never a list
    lines = flatten_errors({"logs.json": {"_schema": {"schema": ["must be an object"]}}})

    assert [str(line) for line in lines] == ["logs.json: _schema.schema: must be an object"]


def test_keys_that_are_no_plain_names_are_quoted() -> None:
    lines = flatten_errors({"logs.json": {"a.b": {"schema": {"x y": ["bad"]}}}})

    assert [str(line) for line in lines] == ['logs.json: ["a.b"].schema["x y"]: bad']
