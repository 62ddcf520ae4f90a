"""load_config: reading conf/ from an explicit directory, unreadable input, and every error at once."""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Callable
from pathlib import Path

import pytest

from apps.alert_processor.processor import AlertProcessor
from apps.athena_refresh.refresher import PartitionRefresher
from apps.rule_processor.processor import RuleProcessor
from config_schemas.models import Account, Config, GlobalConfig, RefreshType, Source, TableRoute
from streamalert.config import (
    ConfigError,
    ConfigFileError,
    ConfigValidationError,
    MissingBlockError,
    config_dir_from_env,
    load_config,
)
from streamalert.constants import ENV_CONFIG_DIR
from streamalert.exceptions import StreamAlertError
from streamalert.rules import RuleRegistry
from tests.helpers import write_json

REPO_CONF = Path(__file__).parents[2] / "conf"


def test_the_example_conf_validates() -> None:
    config = load_config(REPO_CONF)

    assert config.account.aws_account_id == "123456789012"
    assert config.account.prefix == "acme"
    assert config.account.region == "us-east-1"
    athena = config.athena_refresh
    assert athena is not None
    assert athena.routes == (
        TableRoute(Source("acme-firehose-data", "cloudtrail"), "cloudtrail", RefreshType.ADD_HIVE_PARTITION),
        TableRoute(Source("acme.streamalerts"), "alerts", RefreshType.ADD_GLUE_PARTITION),
    )
    assert athena.results_bucket == "acme-streamalert-athena-results"


def test_the_config_is_frozen(config_dir: Path) -> None:
    config = load_config(config_dir)

    with pytest.raises(AttributeError):
        config.account.prefix = "other"  # type: ignore[misc]


def test_the_directory_is_explicit_never_the_cwd(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "conf").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)

    assert load_config(config_dir).account.prefix == "acme"


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"config directory not found: .*nowhere"):
        load_config(tmp_path / "nowhere")


def test_a_file_given_as_the_directory(config_dir: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"config directory is not a directory: .*global\.json"):
        load_config(config_dir / "global.json")


@pytest.mark.parametrize("name", ["global.json", "lambda.json"])
def test_a_missing_file(config_dir: Path, name: str) -> None:
    (config_dir / name).unlink()

    with pytest.raises(ConfigFileError, match=rf"^{name}: file not found: .*{name}$"):
        load_config(config_dir)


def test_both_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_config(tmp_path)

    assert [problem.split(":")[0] for problem in caught.value.problems] == ["global.json", "lambda.json"]


def test_bad_json_gives_line_and_column(config_dir: Path) -> None:
    (config_dir / "lambda.json").write_text(
        '{\n  "athena_partition_refresh_config": {\n    "enabled": true\n    "x": 1\n'
    )

    with pytest.raises(
        ConfigFileError, match=r"^lambda.json: invalid JSON at line 4, column 5: Expecting ',' delimiter$"
    ):
        load_config(config_dir)


def test_an_empty_file_is_bad_json(config_dir: Path) -> None:
    (config_dir / "global.json").write_text("")

    with pytest.raises(
        ConfigFileError, match=r"global\.json: invalid JSON at line 1, column 1: Expecting value"
    ):
        load_config(config_dir)


def test_a_file_that_is_not_utf8(config_dir: Path) -> None:
    (config_dir / "global.json").write_bytes(b'{"account": "\xff"}')

    with pytest.raises(ConfigFileError, match=r"global\.json: not UTF-8 text at byte 13"):
        load_config(config_dir)


def test_a_file_that_starts_with_a_byte_order_mark_is_read(config_dir: Path) -> None:
    for name in ("global.json", "lambda.json"):
        (config_dir / name).write_bytes(codecs.BOM_UTF8 + (config_dir / name).read_bytes())

    assert load_config(config_dir).account.prefix == "acme"


def test_a_byte_that_is_not_utf8_after_a_byte_order_mark_is_counted_from_the_start(config_dir: Path) -> None:
    (config_dir / "global.json").write_bytes(codecs.BOM_UTF8 + b'{"account": "\xff"}')

    with pytest.raises(ConfigFileError, match=r"global\.json: not UTF-8 text at byte 16"):
        load_config(config_dir)


def test_a_directory_in_place_of_a_file(config_dir: Path) -> None:
    (config_dir / "lambda.json").unlink()
    (config_dir / "lambda.json").mkdir()

    with pytest.raises(ConfigFileError, match=r"lambda\.json: cannot read .*lambda\.json"):
        load_config(config_dir)


def test_the_files_that_could_be_read_are_checked_beside_one_that_could_not(config_dir: Path) -> None:
    write_json(
        config_dir / "global.json", {"account": {"aws_account_id": "1", "prefix": "acme", "region": "x"}}
    )
    (config_dir / "lambda.json").write_text("{")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_dir)

    assert [problem.split(": ")[:2] for problem in caught.value.problems] == [
        ["global.json", "account.aws_account_id"],
        ["global.json", "account.region"],
        ["lambda.json", "invalid JSON at line 1, column 2"],
    ]
    assert [str(error).split(": ")[1] for error in caught.value.errors] == [
        "account.aws_account_id",
        "account.region",
    ]


def test_without_a_readable_global_json_names_holding_the_prefix_are_left_unchecked(config_dir: Path) -> None:
    (config_dir / "global.json").write_bytes(b"\xff")
    write_json(
        config_dir / "lambda.json",
        {
            "athena_partition_refresh_config": {
                "memory": 1,
                "refresh_type": {"add_glue_partition": {"<prefix>.x": "t"}},
            }
        },
    )

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_dir)

    assert caught.value.problems == (
        "global.json: not UTF-8 text at byte 0: " + str(config_dir / "global.json"),
        "lambda.json: athena_partition_refresh_config.memory: must be an integer from 128 to 10240, "
        "got 1 (an integer)",
    )


def test_without_a_readable_logs_json_the_rule_processor_is_not_told_it_lacks_log_types(
    config_dir: Path,
) -> None:
    write_json(config_dir / "lambda.json", {"rule_processor_config": {"inputs": {"s3": ["acme-logs"]}}})
    (config_dir / "logs.json").write_text("{,}")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_dir)

    assert caught.value.problems == (
        "logs.json: invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes",
    )
    assert caught.value.errors == ()


def test_a_top_level_array_is_a_validation_error(config_dir: Path) -> None:
    write_json(config_dir / "lambda.json", [])

    with pytest.raises(ConfigValidationError) as caught:
        load_config(config_dir)

    assert caught.value.lines == ["lambda.json: must be a JSON object, got [] (an array)"]


def test_duplicate_json_keys_are_errors(config_dir: Path) -> None:
    (config_dir / "lambda.json").write_text(
        '{"athena_partition_refresh_config": {"refresh_type": {"add_hive_partition": '
        '{"acme.data": "a", "acme.data": "b"}}, "memory": 256, "memory": 512, '
        '"tables": {"a": {"existing": true}, "b": {"existing": true}}}}'
    )

    with pytest.raises(ConfigValidationError) as caught:
        load_config(config_dir)

    assert caught.value.lines == [
        "lambda.json: athena_partition_refresh_config.memory: "
        "key appears more than once in this object (JSON keeps only the last)",
        'lambda.json: athena_partition_refresh_config.refresh_type.add_hive_partition["acme.data"]: '
        "key appears more than once in this object (JSON keeps only the last)",
    ]


def test_every_error_of_both_files_is_reported_sorted(config_dir: Path) -> None:
    write_json(
        config_dir / "global.json", {"account": {"aws_account_id": "1", "prefix": "acme", "region": "x"}}
    )
    write_json(
        config_dir / "lambda.json",
        {
            "athena_partition_refresh_config": {
                "timeout": 0,
                "memory": "256",
                "refresh_type": {"add_hive_partition": {"acme.data": "t", "acme.data/x": "u"}},
            }
        },
    )

    with pytest.raises(ConfigValidationError) as caught:
        load_config(config_dir)

    assert [line.split(": ")[:2] for line in caught.value.lines] == [
        ["global.json", "account.aws_account_id"],
        ["global.json", "account.region"],
        ["lambda.json", "athena_partition_refresh_config.memory"],
        ["lambda.json", 'athena_partition_refresh_config.refresh_type.add_hive_partition["acme.data/x"]'],
        ["lambda.json", "athena_partition_refresh_config.timeout"],
    ]
    assert str(caught.value) == "\n".join(caught.value.lines)


def test_config_errors_share_the_project_base() -> None:
    assert issubclass(ConfigFileError, ConfigError)
    assert issubclass(ConfigValidationError, ConfigError)
    assert issubclass(ConfigError, StreamAlertError)


@pytest.mark.parametrize(("value", "expected"), [("/etc/streamalert", Path("/etc/streamalert")), ("", None)])
def test_config_dir_from_env(monkeypatch: pytest.MonkeyPatch, value: str, expected: Path | None) -> None:
    monkeypatch.setenv(ENV_CONFIG_DIR, value)

    assert config_dir_from_env(Path("default")) == (expected or Path("default"))


def test_config_dir_from_env_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CONFIG_DIR, raising=False)

    assert config_dir_from_env(Path("/var/task/conf")) == Path("/var/task/conf")


@pytest.mark.parametrize(
    ("build", "block"),
    [
        (PartitionRefresher.from_config, "athena_partition_refresh_config"),
        (lambda config: RuleProcessor.from_config(config, RuleRegistry()), "rule_processor_config"),
        (AlertProcessor.from_config, "alert_processor_config"),
    ],
)
def test_a_function_without_its_block_is_a_missing_block_error(
    build: Callable[[Config], object], block: str
) -> None:
    config = Config(global_config=GlobalConfig(Account("123456789012", "acme", "us-east-1")))

    with pytest.raises(MissingBlockError, match=f"^lambda.json has no {block} block$") as caught:
        build(config)

    assert caught.value.block == block
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    "module",
    [
        "streamalert.config",
        *(f"config_schemas.{path.stem}" for path in (REPO_CONF.parent / "config_schemas").glob("[!_]*.py")),
    ],
)
def test_every_error_class_of_the_config_derives_from_the_project_base(module: str) -> None:
    classes = [value for value in vars(importlib.import_module(module)).values() if isinstance(value, type)]

    errors = [cls for cls in classes if issubclass(cls, Exception) and cls.__module__ == module]

    assert all(issubclass(cls, StreamAlertError) for cls in errors), errors
