"""The ``athena_partition_refresh_config`` block of lambda.json, checked as the loader checks it
(``<prefix>`` replaced, then the combined ConfigSchema)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from config_schemas.errors import format_path
from config_schemas.lambda_config import AthenaRefreshConfigSchema
from config_schemas.models import AthenaRefreshConfig, Config, RefreshType, Source, TableRoute
from streamalert.config import ConfigValidationError, validate_documents
from tests.helpers import declare_existing_tables

VALID_DIR = Path(__file__).parents[1] / "fixtures" / "config" / "valid"
BLOCK = "athena_partition_refresh_config"
PATH = f"lambda.json: {BLOCK}"


@pytest.fixture
def documents() -> dict[str, Any]:
    """A valid config as the loader reads it: {"global.json": ..., "lambda.json": ...}."""
    return {name: json.loads((VALID_DIR / name).read_text()) for name in ("global.json", "lambda.json")}


def with_block(documents: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(documents)
    changed["lambda.json"][BLOCK] = declare_existing_tables(block)
    return changed


def with_sources(documents: dict[str, Any], **maps: dict[str, Any]) -> dict[str, Any]:
    return with_block(documents, {"refresh_type": maps})


def load(documents: dict[str, Any]) -> Config:
    return validate_documents(documents)


def athena(documents: dict[str, Any]) -> AthenaRefreshConfig:
    block = load(documents).athena_refresh
    assert block is not None
    return block


def errors(documents: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(documents)
    return caught.value.lines


def test_missing_keys_take_their_defaults(documents: dict[str, Any]) -> None:
    block = athena(with_sources(documents, add_hive_partition={"acme-data": "logs"}))

    assert block.enabled is True
    assert block.log_level == "info"
    assert block.memory == 128
    assert block.timeout == 60
    assert block.refresh_interval == "rate(10 minutes)"
    assert block.database_name == "streamalert"
    assert block.results_bucket == "acme-streamalert-athena-results"
    assert block.routes == (TableRoute(Source("acme-data"), "logs", RefreshType.ADD_HIVE_PARTITION),)


def test_missing_refresh_type_maps_default_to_empty(documents: dict[str, Any]) -> None:
    block = athena(with_sources(documents, repair_hive_table={"acme-data/x": "t"}))

    assert [route.refresh_type for route in block.routes] == [RefreshType.REPAIR_HIVE_TABLE]


def test_an_empty_lambda_json_is_valid(documents: dict[str, Any]) -> None:
    documents["lambda.json"] = {}

    assert load(documents).athena_refresh is None


def test_the_schema_never_sees_the_placeholder_the_loader_replaces_it_first() -> None:
    with pytest.raises(ValidationError) as caught:
        AthenaRefreshConfigSchema().load({"refresh_type": {"add_glue_partition": {"<prefix>.x": "t"}}})

    assert caught.value.messages_dict["refresh_type"]["add_glue_partition"]["<prefix>.x"][0].startswith(
        'Not a valid S3 bucket name: "<prefix>.x": "<" ">" not allowed'
    )
    assert caught.value.messages_dict["results_bucket"] == ["is required and must be an S3 bucket name"]


def test_routes_follow_config_order_across_refresh_types(documents: dict[str, Any]) -> None:
    block = athena(
        with_sources(
            documents,
            add_glue_partition={"glue-b": "g", "glue-a": "g"},
            add_hive_partition={"hive-b": "h", "hive-a": "h"},
            repair_hive_table={"repair-a": "r"},
        )
    )

    assert [str(route.source) for route in block.routes] == [
        "repair-a",
        "hive-b",
        "hive-a",
        "glue-b",
        "glue-a",
    ]


def test_a_table_named_under_two_refresh_types_is_refused(documents: dict[str, Any]) -> None:
    found = errors(
        with_sources(
            documents,
            repair_hive_table={"other-bucket": "alerts"},
            add_glue_partition={"acme.streamalerts": "alerts", "acme-data": "cloudtrail"},
        )
    )

    assert found == [
        "lambda.json: athena_partition_refresh_config.refresh_type.add_glue_partition: table 'alerts' is "
        "also refreshed by repair_hive_table: a table is refreshed one way, name it under one refresh type"
    ]


def test_prefix_is_substituted_in_sources_and_results_bucket(documents: dict[str, Any]) -> None:
    block = athena(
        with_block(
            documents,
            {
                "refresh_type": {
                    "add_glue_partition": {"<prefix>.streamalerts": "alerts", "data/<prefix>/x/": "d"}
                },
                "results_bucket": "<prefix>-results",
                "database_name": "<prefix>_db",
            },
        )
    )

    assert [route.source for route in block.routes] == [Source("acme.streamalerts"), Source("data", "acme/x")]
    assert block.results_bucket == "acme-results"
    assert block.database_name == "acme_db"


def test_the_documents_given_are_left_as_they_were(documents: dict[str, Any]) -> None:
    written = with_block(documents, {"refresh_type": {"add_glue_partition": {"<prefix>.x": "t"}}})
    before = copy.deepcopy(written)

    load(written)

    assert written == before


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("enabled", 1, "must be true or false, got 1 (an integer)"),
        ("enabled", "on", 'must be true or false, got "on" (a string)'),
        ("enabled", "true", 'must be true or false, got "true" (a string)'),
        ("enabled", None, "must be true or false, got null"),
        ("memory", "256", 'must be an integer from 128 to 10240, got "256" (a string)'),
        ("memory", 256.5, "must be an integer from 128 to 10240, got 256.5 (a decimal number)"),
        ("memory", 256.0, "must be an integer from 128 to 10240, got 256.0 (a decimal number)"),
        ("memory", True, "must be an integer from 128 to 10240, got true (a boolean)"),
        ("memory", 127, "must be an integer from 128 to 10240, got 127 (an integer)"),
        ("memory", 10241, "must be an integer from 128 to 10240, got 10241 (an integer)"),
        ("timeout", 0, "must be an integer from 1 to 900, got 0 (an integer)"),
        ("timeout", 901, "must be an integer from 1 to 900, got 901 (an integer)"),
        ("timeout", "60", 'must be an integer from 1 to 900, got "60" (a string)'),
        ("log_level", "INFO", 'must be "info" or "debug", got "INFO" (a string)'),
        ("log_level", "warning", 'must be "info" or "debug", got "warning" (a string)'),
        ("log_level", 10, 'must be "info" or "debug", got 10 (an integer)'),
    ],
)
def test_strict_types_and_ranges(documents: dict[str, Any], key: str, value: Any, message: str) -> None:
    block = {key: value, "refresh_type": {"add_hive_partition": {"acme-data": "t"}}}

    assert errors(with_block(documents, block)) == [f"{PATH}.{key}: {message}"]


@pytest.mark.parametrize(
    ("key", "value"), [("memory", 10240), ("memory", 128), ("timeout", 1), ("timeout", 900)]
)
def test_range_bounds_are_inclusive(documents: dict[str, Any], key: str, value: int) -> None:
    block = athena(
        with_block(documents, {key: value, "refresh_type": {"add_hive_partition": {"acme-x": "t"}}})
    )

    assert getattr(block, key) == value


def test_invalid_refresh_interval_says_what_is_allowed(documents: dict[str, Any]) -> None:
    block = {"refresh_interval": "rate(1 minutes)", "refresh_type": {"add_hive_partition": {"acme-x": "t"}}}

    assert errors(with_block(documents, block)) == [
        f"{PATH}.refresh_interval: must be a schedule expression, rate(N minutes|hours|days) or cron(...), "
        'got "rate(1 minutes)" (a string): a value of 1 takes the singular unit: rate(1 minute)'
    ]


@pytest.mark.parametrize(
    ("bucket", "reason"),
    [
        ("ab", "it has 2 characters"),
        ("a" * 64, "it has 64 characters"),
        ("Acme-data", "uppercase letters are not allowed"),
        ("acme_data", '"_" not allowed'),
        ("-acme", "it must start and end with a letter or digit"),
        ("acme.", "it must start and end with a letter or digit"),
        ("acme..data", "two dots in a row"),
        ("192.168.1.10", "it must not be shaped like an IP address"),
        ("xn--acme", 'the prefix "xn--" is reserved'),
        ("sthree-acme", 'the prefix "sthree-" is reserved'),
        ("acme-s3alias", 'the suffix "-s3alias" is reserved'),
        ("acme--ol-s3", 'the suffix "--ol-s3" is reserved'),
    ],
)
def test_invalid_bucket_names(documents: dict[str, Any], bucket: str, reason: str) -> None:
    lines = errors(with_sources(documents, add_hive_partition={f"{bucket}/logs": "logs"}))

    assert len(lines) == 1
    assert lines[0].startswith(
        f'{PATH}.refresh_type.add_hive_partition["{bucket}/logs"]: '
        f'Not a valid S3 bucket name: "{bucket}": {reason}'
    )


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "acme-data.logs", "1.2.3", "9acme"])
def test_valid_bucket_names(documents: dict[str, Any], bucket: str) -> None:
    assert athena(with_sources(documents, add_hive_partition={bucket: "t"})).routes[0].source == Source(
        bucket
    )


def test_invalid_results_bucket(documents: dict[str, Any]) -> None:
    block = {"results_bucket": "Results_Bucket", "refresh_type": {"add_hive_partition": {"acme-x": "t"}}}

    assert errors(with_block(documents, block)) == [
        f'{PATH}.results_bucket: Not a valid S3 bucket name: "Results_Bucket": uppercase letters are not '
        "allowed (a bucket name has 3 to 63 lowercase letters, digits, dots and hyphens, "
        "and starts and ends with a letter or digit)"
    ]


def test_results_bucket_is_checked_after_prefix_substitution(documents: dict[str, Any]) -> None:
    block = {"results_bucket": "<prefix>-s3alias", "refresh_type": {"add_hive_partition": {"acme-x": "t"}}}

    [line] = errors(with_block(documents, block))

    assert line.startswith(
        f'{PATH}.results_bucket: Not a valid S3 bucket name: "acme-s3alias" (written "<prefix>-s3alias"): '
        'the suffix "-s3alias" is reserved'
    )


def test_source_bucket_is_checked_after_prefix_substitution(documents: dict[str, Any]) -> None:
    prefix = "a" * 20
    documents["global.json"]["account"]["prefix"] = prefix
    key = "<prefix>-" + "b" * 43

    [line] = errors(with_sources(documents, add_glue_partition={f"{key}/logs": "t"}))

    assert line.startswith(
        f'{PATH}.refresh_type.add_glue_partition["{key}/logs"]: Not a valid S3 bucket name: '
        f'"{prefix}-{"b" * 43}" (written "{key}"): it has 64 characters'
    )


def test_a_value_that_becomes_invalid_says_what_was_written(documents: dict[str, Any]) -> None:
    documents["global.json"]["account"]["prefix"] = "my-co"
    block = {"database_name": "<prefix>_db", "refresh_type": {"add_hive_partition": {"acme-x": "t"}}}

    assert errors(with_block(documents, block)) == [
        f'{PATH}.database_name: Not a valid database name: "my-co_db" (written "<prefix>_db") '
        "(Athena allows lowercase letters, digits and underscores, starting with a letter or underscore, "
        "at most 255 characters)"
    ]


@pytest.mark.parametrize("prefix", [None, "Not Valid"])
def test_names_holding_the_prefix_are_named_as_such_when_the_prefix_is_unusable(
    documents: dict[str, Any], prefix: str | None
) -> None:
    if prefix is None:
        del documents["global.json"]["account"]["prefix"]
    else:
        documents["global.json"]["account"]["prefix"] = prefix
    block = {
        "refresh_type": {"add_glue_partition": {"<prefix>.x": "Bad", "acme-y": "y"}},
        "results_bucket": "<prefix>-results",
    }

    lines = [line for line in errors(with_block(documents, block)) if line.startswith("lambda.json")]

    unusable = "which is not replaced: account.prefix of global.json is missing or not valid"
    assert lines == [
        f'{PATH}.refresh_type.add_glue_partition["<prefix>.x"]: "<prefix>.x" holds <prefix>, {unusable}',
        f'{PATH}.refresh_type.add_glue_partition["<prefix>.x"]: Not a valid table name: "Bad" (Athena '
        "allows lowercase letters, digits and underscores, starting with a letter or underscore, at most "
        "255 characters)",
        f'{PATH}.results_bucket: "<prefix>-results" holds <prefix>, {unusable}',
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("acme-data//logs", "an empty path segment"),
        ("acme-data/logs//", "an empty path segment"),
        ('acme-data/lo"gs', "a quote"),
        ("acme-data/lo'gs", "a quote"),
        ("acme-data/lo\\gs", "a backslash"),
        ("acme-data/lo\x01gs", "a control character"),
        ("acme-data/lo\tgs", "a control character"),
    ],
)
def test_invalid_source_prefixes(documents: dict[str, Any], source: str, reason: str) -> None:
    [line] = errors(with_sources(documents, repair_hive_table={source: "t"}))

    assert f"Not a valid source: {json.dumps(source)} has {reason}" in line


def test_keys_that_are_plain_words_are_dotted_others_bracketed(documents: dict[str, Any]) -> None:
    lines = errors(with_sources(documents, add_hive_partition={"acme-data": "Bad", "acme.data": "Bad"}))

    assert [line.split(": ")[1] for line in lines] == [
        f"{BLOCK}.refresh_type.add_hive_partition.acme-data",
        f'{BLOCK}.refresh_type.add_hive_partition["acme.data"]',
    ]


@pytest.mark.parametrize(
    ("written", "source"),
    [("acme-data/", Source("acme-data")), ("acme-data/logs/", Source("acme-data", "logs"))],
)
def test_one_trailing_slash_is_stripped(documents: dict[str, Any], written: str, source: Source) -> None:
    assert athena(with_sources(documents, add_hive_partition={written: "t"})).routes[0].source == source


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("CloudTrail", 'Not a valid table name: "CloudTrail" (Athena allows lowercase letters'),
        ("1logs", 'Not a valid table name: "1logs"'),
        ("cloud-trail", 'Not a valid table name: "cloud-trail"'),
        ("", 'Not a valid table name: ""'),
        ("a" * 256, "Not a valid table name"),
        (5, "a table name must be a string of lowercase letters, digits and underscores"),
        (None, "got null"),
    ],
)
def test_invalid_table_names(documents: dict[str, Any], table: Any, message: str) -> None:
    [line] = errors(with_sources(documents, add_hive_partition={"acme-data/logs": table}))

    assert line.startswith(f'{PATH}.refresh_type.add_hive_partition["acme-data/logs"]: ')
    assert message in line


@pytest.mark.parametrize("table", ["_logs", "cloudtrail_2", "a" * 255])
def test_valid_table_names(documents: dict[str, Any], table: str) -> None:
    assert athena(with_sources(documents, add_hive_partition={"acme-data": table})).tables == (table,)


@pytest.mark.parametrize("database", ["Bad-DB", "1db", "", 7])
def test_invalid_database_name(documents: dict[str, Any], database: Any) -> None:
    block = {"database_name": database, "refresh_type": {"add_hive_partition": {"acme-x": "t"}}}

    [line] = errors(with_block(documents, block))

    assert line.startswith(f"{PATH}.database_name: ")
    assert "database name" in line


def test_two_buckets_may_feed_one_table(documents: dict[str, Any]) -> None:
    block = athena(with_sources(documents, add_hive_partition={"bucket-a": "logs", "bucket-b/x": "logs"}))

    assert block.tables == ("logs",)
    assert block.buckets == ("bucket-a", "bucket-b")


def test_a_source_mapped_in_two_refresh_types(documents: dict[str, Any]) -> None:
    lines = errors(
        with_sources(
            documents, repair_hive_table={"acme-data/x": "a"}, add_glue_partition={"acme-data/x": "b"}
        )
    )

    assert lines == [
        f'{PATH}.refresh_type.add_glue_partition["acme-data/x"]: source "acme-data/x" is already mapped by '
        'refresh_type.repair_hive_table["acme-data/x"]; map each source once'
    ]


def test_a_source_mapped_twice_after_prefix_substitution(documents: dict[str, Any]) -> None:
    lines = errors(
        with_sources(documents, repair_hive_table={"<prefix>.x": "a"}, add_glue_partition={"acme.x": "b"})
    )

    assert lines == [
        f'{PATH}.refresh_type.add_glue_partition["acme.x"]: source "acme.x" is already mapped by '
        'refresh_type.repair_hive_table["<prefix>.x"]; map each source once'
    ]


def test_a_source_overlapping_one_that_held_the_prefix_names_it_as_written(documents: dict[str, Any]) -> None:
    lines = errors(with_sources(documents, repair_hive_table={"<prefix>.x/a": "a", "<prefix>.x": "b"}))

    assert lines == [
        f'{PATH}.refresh_type.repair_hive_table["<prefix>.x"]: source "acme.x" (written "<prefix>.x") '
        'overlaps source "acme.x/a" mapped by refresh_type.repair_hive_table["<prefix>.x/a"]: the sources '
        "of one bucket must not overlap (S3 refuses overlapping notification filters)"
    ]


@pytest.mark.parametrize(("first", "second"), [("<prefix>.x", "acme.x"), ("acme.x", "<prefix>.x")])
def test_two_keys_of_one_object_that_become_one(documents: dict[str, Any], first: str, second: str) -> None:
    lines = errors(with_sources(documents, add_glue_partition={first: "a", second: "b"}))

    assert lines == [
        f'{PATH}.refresh_type.add_glue_partition["{second}"]: same key as "{first}" once <prefix> is '
        'replaced (both are "acme.x"): write each key once'
    ]


def test_a_source_mapped_twice_with_and_without_trailing_slash(documents: dict[str, Any]) -> None:
    [line] = errors(with_sources(documents, add_hive_partition={"acme-data/x": "a", "acme-data/x/": "a"}))

    assert line.startswith(f'{PATH}.refresh_type.add_hive_partition["acme-data/x/"]: source "acme-data/x" is')


@pytest.mark.parametrize(
    ("first", "second"),
    [("acme-data", "acme-data/x"), ("acme-data/x", "acme-data/x/y"), ("acme-data/x/y", "acme-data/x")],
)
def test_overlapping_sources_of_one_bucket(documents: dict[str, Any], first: str, second: str) -> None:
    lines = errors(with_sources(documents, add_hive_partition={first: "a"}, add_glue_partition={second: "b"}))

    assert lines == [
        f'{PATH}.refresh_type.add_glue_partition["{second}"]: source "{second}" overlaps source "{first}" '
        f"mapped by {format_path(('refresh_type', 'add_hive_partition', first))}: "
        "the sources of one bucket must not overlap "
        "(S3 refuses overlapping notification filters)"
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("acme-data/cloudtrail", "acme-data/cloudtrail2"),
        ("acme-data/x", "acme-other/x"),
        ("acme-a", "acme-b"),
    ],
)
def test_sources_that_do_not_overlap(documents: dict[str, Any], first: str, second: str) -> None:
    assert len(athena(with_sources(documents, add_hive_partition={first: "a", second: "b"})).routes) == 2


@pytest.mark.parametrize(
    "block",
    [
        {},
        {"refresh_type": {}},
        {"refresh_type": {"repair_hive_table": {}, "add_hive_partition": {}, "add_glue_partition": {}}},
    ],
)
def test_refresh_type_must_map_a_source(documents: dict[str, Any], block: dict[str, Any]) -> None:
    assert errors(with_block(documents, block)) == [
        f"{PATH}.refresh_type: must map at least one source to a table "
        "(in repair_hive_table, add_hive_partition, add_glue_partition)"
    ]


def test_an_invalid_source_still_counts_as_mapped(documents: dict[str, Any]) -> None:
    [line] = errors(with_sources(documents, add_hive_partition={"A": "t"}))

    assert "must map at least one source" not in line


@pytest.mark.parametrize(
    ("block", "line"),
    [
        (
            {"memroy": 256, "refresh_type": {"add_hive_partition": {"acme-x": "t"}}},
            f"{PATH}.memroy: unknown key; allowed keys: enabled, log_level, memory, timeout, trigger, "
            "event_source, refresh_interval, refresh_type, database_name, results_bucket, tables",
        ),
        (
            {"refresh_type": {"add_hive_partition": {"acme-x": "t"}, "add_partition": {}}},
            f"{PATH}.refresh_type.add_partition: unknown key; allowed keys: repair_hive_table, "
            "add_hive_partition, add_glue_partition",
        ),
        (
            {"refresh_type": {"add_hive_partition": ["acme-x"]}},
            f"{PATH}.refresh_type.add_hive_partition: must be an object mapping sources (bucket or "
            'bucket/prefix) to table names, got ["acme-x"] (an array)',
        ),
        ({"refresh_type": "acme-x"}, f'{PATH}.refresh_type: must be a JSON object, got "acme-x" (a string)'),
    ],
)
def test_unknown_keys_and_wrong_shapes(documents: dict[str, Any], block: dict[str, Any], line: str) -> None:
    assert errors(with_block(documents, block)) == [line]


@pytest.mark.parametrize(
    ("lambda_json", "line"),
    [
        ({"threat_intel_config": {}}, "lambda.json: threat_intel_config: unknown key"),
        ({BLOCK: None}, f"{PATH}: must be a JSON object, got null"),
        ({BLOCK: []}, f"{PATH}: must be a JSON object, got [] (an array)"),
        ([], "lambda.json: must be a JSON object, got [] (an array)"),
    ],
)
def test_lambda_json_blocks(documents: dict[str, Any], lambda_json: Any, line: str) -> None:
    documents["lambda.json"] = lambda_json

    [error] = errors(documents)

    assert error.startswith(line)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
_keys = st.sampled_from(["enabled", "memory", "results_bucket", "refresh_type", "junk"])
_maps = st.dictionaries(st.sampled_from([kind.value for kind in RefreshType]), _json_values, max_size=3)
_block = st.dictionaries(_keys, _json_values, max_size=4) | st.fixed_dictionaries({"refresh_type": _maps})
_account = (
    st.dictionaries(st.sampled_from(["prefix", "region", "aws_account_id"]), _json_values) | _json_values
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(block=_block | _json_values, account=_account)
def test_any_json_is_either_valid_or_reported_never_a_crash(block: Any, account: Any) -> None:
    documents = {"global.json": {"account": account}, "lambda.json": {BLOCK: block}}
    try:
        load(documents)
    except ConfigValidationError as err:
        lines = err.lines
        assert lines
        assert all(line.startswith(("global.json: ", "lambda.json: ")) for line in lines)


def test_a_source_key_that_is_not_a_string_is_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        AthenaRefreshConfigSchema().load(
            {"refresh_type": {"add_hive_partition": {7: "t"}}, "results_bucket": "acme-results"}
        )

    assert caught.value.messages_dict == {
        "refresh_type": {"add_hive_partition": {7: ["a source must be a string, got 7 (an integer)"]}}
    }


def test_an_unknown_key_that_held_the_prefix_is_named_as_written(documents: dict[str, Any]) -> None:
    documents["lambda.json"]["<prefix>_config"] = {}

    [line] = errors(documents)

    assert line.startswith('lambda.json: ["<prefix>_config"]: unknown key; allowed keys: ')
