"""The ``rule_processor_config`` and ``alert_processor_config`` blocks of lambda.json, checked as the loader
checks them (``<prefix>`` replaced first; repeats, overlaps, log types declared in logs.json)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from config_schemas.lambda_config import (
    AlertProcessorConfigSchema,
    AthenaRefreshConfigSchema,
    FunctionSettingsSchema,
    RuleProcessorConfigSchema,
)
from config_schemas.models import (
    AlertProcessorConfig,
    AthenaRefreshConfig,
    BucketKey,
    Config,
    FunctionSettings,
    RuleInputs,
    RuleProcessorConfig,
    Source,
)
from streamalert.config import ConfigValidationError, validate_documents

ACCOUNT = {"aws_account_id": "123456789012", "prefix": "acme", "region": "us-east-1"}
LOGS = {"cloudtrail:events": {"schema": {"eventName": "string"}}}
RULE = "rule_processor_config"
ALERT = "alert_processor_config"


def documents(lambda_json: Any, logs: Any = LOGS, prefix: str = "acme") -> dict[str, Any]:
    result = {"global.json": {"account": {**ACCOUNT, "prefix": prefix}}, "lambda.json": lambda_json}
    if logs is not None:
        result["logs.json"] = logs
    return result


def load(lambda_json: Any, **kwargs: Any) -> Config:
    return validate_documents(documents(lambda_json, **kwargs))


def rule_block(block: dict[str, Any], **kwargs: Any) -> RuleProcessorConfig:
    loaded = load({RULE: block}, **kwargs).rule_processor
    assert loaded is not None
    return loaded


def errors(lambda_json: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        validate_documents(documents(lambda_json, **kwargs))
    return caught.value.lines


def test_rule_processor_defaults() -> None:
    block = rule_block({"inputs": {"s3": ["acme-logs"]}})

    assert block == RuleProcessorConfig(
        enabled=True, log_level="info", memory=256, timeout=120, inputs=RuleInputs(s3=(Source("acme-logs"),))
    )


def test_rule_processor_inputs_with_prefix_substituted() -> None:
    block = rule_block(
        {
            "inputs": {
                "s3": ["acme-cloudtrail-logs", "<prefix>-data/cloudtrail/", "other/<prefix>/x"],
                "kinesis": ["<prefix>_stream", "Stream.2-b"],
            }
        }
    )

    assert block.inputs == RuleInputs(
        s3=(Source("acme-cloudtrail-logs"), Source("acme-data", "cloudtrail"), Source("other", "acme/x")),
        kinesis=("acme_stream", "Stream.2-b"),
    )
    assert block.buckets == ("acme-cloudtrail-logs", "acme-data", "other")


def test_the_schema_never_sees_the_placeholder_the_loader_replaces_it_first() -> None:
    with pytest.raises(ValidationError) as caught:
        RuleProcessorConfigSchema().load({"inputs": {"kinesis": ["<prefix>_stream"]}})

    assert caught.value.messages_dict == {
        "inputs": {
            "kinesis": {
                0: [
                    'Not a valid Kinesis stream name: "<prefix>_stream" (a Kinesis stream name has 1 to 128 '
                    "letters, digits, underscores, hyphens and dots)"
                ]
            }
        }
    }


@pytest.mark.parametrize(
    "inputs",
    [None, {}, {"s3": []}, {"s3": [], "kinesis": []}],
)
def test_inputs_must_list_something(inputs: Any) -> None:
    block = {} if inputs is None else {"inputs": inputs}

    assert errors({RULE: block}) == [
        f"lambda.json: {RULE}.inputs: must list at least one bucket (s3) or stream (kinesis)"
    ]


@pytest.mark.parametrize(
    ("inputs", "line"),
    [
        (
            {"s3": ["Acme_Logs"]},
            f'{RULE}.inputs.s3[0]: Not a valid S3 bucket name: "Acme_Logs": uppercase letters are not',
        ),
        (
            {"s3": "acme-logs"},
            f'{RULE}.inputs.s3: must be an array of sources (bucket or bucket/prefix), got "acme-logs"',
        ),
        ({"s3": [7]}, f"{RULE}.inputs.s3[0]: a source must be a string, got 7 (an integer)"),
        (
            {"s3": ["acme-logs//x"]},
            f'{RULE}.inputs.s3[0]: Not a valid source: "acme-logs//x" has an empty path segment',
        ),
        (
            {"kinesis": ["bad stream"]},
            f'{RULE}.inputs.kinesis[0]: Not a valid Kinesis stream name: "bad stream"',
        ),
        ({"kinesis": ["x" * 129]}, f"{RULE}.inputs.kinesis[0]: Not a valid Kinesis stream name"),
        ({"kinesis": [""]}, f'{RULE}.inputs.kinesis[0]: Not a valid Kinesis stream name: ""'),
        ({"kinesis": [None]}, f"{RULE}.inputs.kinesis[0]: a stream name must be a string, got null"),
        (
            {"kinesis": ["a"], "sqs": ["q"]},
            f"{RULE}.inputs.sqs: unknown key; allowed keys: s3, kinesis, kms_keys",
        ),
    ],
)
def test_invalid_inputs(inputs: dict[str, Any], line: str) -> None:
    [error] = errors({RULE: {"inputs": inputs}})

    assert error.startswith(f"lambda.json: {line}")


def test_every_invalid_input_is_reported() -> None:
    lines = errors({RULE: {"inputs": {"s3": ["ok-bucket", "A", "B"], "kinesis": ["ok", "no way"]}}})

    assert [line.split(": ")[1] for line in lines] == [
        f"{RULE}.inputs.kinesis[1]",
        f"{RULE}.inputs.s3[1]",
        f"{RULE}.inputs.s3[2]",
    ]


def test_names_holding_the_prefix_are_checked_after_substitution() -> None:
    prefix = "a" * 20
    lines = errors(
        {RULE: {"inputs": {"s3": ["<prefix>-" + "b" * 43], "kinesis": ["<prefix>" + "s" * 109]}}},
        prefix=prefix,
    )

    assert lines == [
        f'lambda.json: {RULE}.inputs.kinesis[0]: Not a valid Kinesis stream name: "{prefix}{"s" * 109}" '
        f'(written "<prefix>{"s" * 109}") (a Kinesis stream name has 1 to 128 letters, digits, '
        "underscores, hyphens and dots)",
        f'lambda.json: {RULE}.inputs.s3[0]: Not a valid S3 bucket name: "{prefix}-{"b" * 43}" '
        f'(written "<prefix>-{"b" * 43}"): it has 64 characters (a bucket name has 3 to 63 lowercase '
        "letters, digits, dots and hyphens, and starts and ends with a letter or digit)",
    ]


@pytest.mark.parametrize(
    ("s3", "message"),
    [
        (
            ["acme-logs/x", "acme-logs/x/"],
            'source "acme-logs/x" is already listed at inputs.s3[0]; list it once',
        ),
        (
            ["<prefix>-logs", "acme-logs"],
            'source "acme-logs" is already listed at inputs.s3[0]; list it once',
        ),
        (
            ["acme-logs", "<prefix>-logs"],
            'source "acme-logs" (written "<prefix>-logs") is already listed at inputs.s3[0]; list it once',
        ),
        (
            ["acme-logs", "acme-logs/x"],
            'source "acme-logs/x" overlaps source "acme-logs" listed at inputs.s3[0]: the sources of one '
            "bucket must not overlap (S3 refuses overlapping notification filters)",
        ),
    ],
)
def test_repeated_and_overlapping_sources(s3: list[str], message: str) -> None:
    assert errors({RULE: {"inputs": {"s3": s3}}}) == [f"lambda.json: {RULE}.inputs.s3[1]: {message}"]


def test_a_stream_listed_twice_after_substitution() -> None:
    assert errors({RULE: {"inputs": {"kinesis": ["<prefix>_s", "acme_s"]}}}) == [
        f'lambda.json: {RULE}.inputs.kinesis[1]: stream "acme_s" is already listed at inputs.kinesis[0]; '
        "list it once"
    ]


KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_kms_keys_of_input_buckets_with_prefix_substituted() -> None:
    block = rule_block(
        {"inputs": {"s3": ["<prefix>-trail/AWSLogs", "acme-logs"], "kms_keys": {"<prefix>-trail": KEY_ARN}}}
    )

    assert block.inputs.kms_keys == (BucketKey("acme-trail", KEY_ARN),)
    assert rule_block({"inputs": {"s3": ["acme-logs"]}}).inputs.kms_keys == ()


def test_every_wrong_kms_key_is_reported() -> None:
    lines = errors(
        {
            RULE: {
                "inputs": {
                    "s3": ["acme-logs"],
                    "kms_keys": {"acme-logs": "alias/cloudtrail", "acme-other": KEY_ARN},
                }
            }
        }
    )

    assert lines == [
        f"lambda.json: {RULE}.inputs.kms_keys.acme-logs: must be the ARN of a KMS key, "
        "arn:aws:kms:<region>:<account>:key/<key id> (an alias or a key id cannot be granted in a policy), "
        'got "alias/cloudtrail" (a string)',
        f"lambda.json: {RULE}.inputs.kms_keys.acme-other: is not a bucket of inputs.s3: keys are given for "
        "the buckets listed there",
    ]


def test_kms_keys_must_be_an_object() -> None:
    [line] = errors({RULE: {"inputs": {"s3": ["acme-logs"], "kms_keys": [KEY_ARN]}}})

    assert line.startswith(
        f"lambda.json: {RULE}.inputs.kms_keys: must be an object mapping input buckets to the ARNs of their "
        'KMS keys, got ["arn:aws:kms:'
    )


@pytest.mark.parametrize("logs", [None, {}])
def test_an_enabled_rule_processor_needs_log_types(logs: Any) -> None:
    assert errors({RULE: {"inputs": {"s3": ["acme-logs"]}}}, logs=logs) == [
        f"lambda.json: {RULE}: no log type is declared in logs.json: every record would be unclassified "
        "(declare log types in logs.json, next to lambda.json)"
    ]


def test_a_disabled_rule_processor_needs_no_log_types() -> None:
    assert not rule_block({"enabled": False, "inputs": {"s3": ["acme-logs"]}}, logs=None).enabled


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("enabled", "yes", 'must be true or false, got "yes" (a string)'),
        ("memory", 100, "must be an integer from 128 to 10240, got 100 (an integer)"),
        ("timeout", 901, "must be an integer from 1 to 900, got 901 (an integer)"),
        ("log_level", "warn", 'must be "info" or "debug", got "warn" (a string)'),
    ],
)
@pytest.mark.parametrize("block_name", [RULE, ALERT])
def test_strict_types_and_ranges(block_name: str, key: str, value: Any, message: str) -> None:
    block: dict[str, Any] = {key: value}
    if block_name == RULE:
        block["inputs"] = {"s3": ["acme-logs"]}

    assert errors({block_name: block}) == [f"lambda.json: {block_name}.{key}: {message}"]


def test_unknown_keys_list_the_allowed_ones() -> None:
    lines = errors({RULE: {"inputs": {"s3": ["acme-logs"]}, "outputs": []}, ALERT: {"inputs": {}}})

    common = "unknown key; allowed keys: enabled, log_level, memory, timeout"
    assert lines == [
        f"lambda.json: {ALERT}.inputs: {common}, outputs",
        f"lambda.json: {RULE}.outputs: {common}, inputs",
    ]


def test_alert_processor_defaults() -> None:
    assert load({ALERT: {}}).alert_processor == AlertProcessorConfig(
        enabled=True, log_level="info", memory=128, timeout=60, outputs=("s3:alerts",)
    )
    assert AlertProcessorConfigSchema().load({"outputs": ["log", "s3:alerts"]}).outputs == (
        "log",
        "s3:alerts",
    )


@pytest.mark.parametrize(
    ("outputs", "lines"),
    [
        (
            ["s3:alerts", "slack"],
            [f'{ALERT}.outputs[1]: must be one of "s3:alerts", "log", got "slack" (a string)'],
        ),
        (
            ["s3:alerts", "log", "log"],
            [f'{ALERT}.outputs[2]: "log" (a string) is already listed at [1]; list it once'],
        ),
        (
            ["log"],
            [
                f'{ALERT}.outputs: must include "s3:alerts": every alert is written to the alerts bucket, '
                "which the Athena alerts table reads"
            ],
        ),
        ("log", [f'{ALERT}.outputs: must be an array of output names, got "log" (a string)']),
    ],
)
def test_invalid_outputs(outputs: Any, lines: list[str]) -> None:
    assert errors({ALERT: {"outputs": outputs}}) == [f"lambda.json: {line}" for line in lines]


def test_the_blocks_are_optional_and_independent() -> None:
    config = load({ALERT: {}}, logs=None)

    assert config.rule_processor is None
    assert config.athena_refresh is None
    assert config.alert_processor is not None


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
_names = st.sampled_from(["acme-logs", "<prefix>-x/y", "<prefix>_s", "s3:alerts", "log", "A", ""])
_inputs = st.fixed_dictionaries(
    {},
    optional={"s3": st.lists(_names | _json_values, max_size=3), "kinesis": st.lists(_names, max_size=3)},
)
_blocks = st.dictionaries(
    st.sampled_from(["enabled", "memory", "inputs", "outputs", "junk"]), _json_values | _inputs, max_size=4
)


_schemas = st.dictionaries(st.text(max_size=4), st.sampled_from(["string", "object", "int"]) | _json_values)
_logs = st.dictionaries(
    st.sampled_from(["a:b", "cloudtrail", "Bad", ""]),
    st.fixed_dictionaries({"schema": _schemas | _json_values}) | _json_values,
    max_size=3,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rule=_blocks | _json_values, alert=_blocks | _json_values, logs=_logs | _json_values)
def test_any_json_is_either_valid_or_reported_never_a_crash(rule: Any, alert: Any, logs: Any) -> None:
    try:
        load({RULE: rule, ALERT: alert}, logs=logs)
    except ConfigValidationError as err:
        lines = err.lines
        assert lines
        assert all(line.startswith(("lambda.json: ", "logs.json: ")) for line in lines)


@pytest.mark.parametrize(
    ("schema", "model", "memory", "timeout"),
    [
        (AthenaRefreshConfigSchema, AthenaRefreshConfig, 128, 60),
        (RuleProcessorConfigSchema, RuleProcessorConfig, 256, 120),
        (AlertProcessorConfigSchema, AlertProcessorConfig, 128, 60),
    ],
)
def test_every_block_has_the_common_function_settings_with_its_own_defaults(
    schema: type[FunctionSettingsSchema], model: type[FunctionSettings], memory: int, timeout: int
) -> None:
    RuleProcessorConfigSchema()  # another block's defaults must not leak into this one
    fields = schema().fields

    assert issubclass(schema, FunctionSettingsSchema)
    assert issubclass(model, FunctionSettings)
    assert list(fields)[:4] == ["enabled", "log_level", "memory", "timeout"]
    assert (fields["memory"].load_default, fields["timeout"].load_default) == (memory, timeout)
