"""The exit codes every command follows (streamalert_cli.guard.EXIT_STATUS): 1 for a config the schemas
refuse (or any other config error, one line), 2 for a config that cannot be read (malformed JSON),
whichever command reads it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from streamalert.config import MissingBlockError
from streamalert.exceptions import StreamAlertError
from streamalert_cli import deploy, destroy, redrive, rollback, validate_config
from streamalert_cli.guard import EXIT_FAILED, EXIT_USAGE, guarded
from streamalert_cli.processors import ProcessorSelectionError
from streamalert_cli.terraform.hcl import HclValueError

Main = Callable[[Sequence[str]], int]
COMMANDS: dict[str, tuple[Main, list[str]]] = {
    "deploy": (deploy.main, ["--processor", "athena", "--yes"]),
    "rollback": (rollback.main, ["--processor", "athena", "--yes"]),
    "destroy": (destroy.main, ["--processor", "athena", "--yes"]),
    "redrive": (redrive.main, []),
    "validate-config": (validate_config.main, []),
}


def run(command: str, config_dir: Path, tmp_path: Path) -> int:
    main, argv = COMMANDS[command]
    build = ["--build-dir", str(tmp_path / "build")] if command in ("deploy", "rollback", "destroy") else []
    return main([*argv, "--config-dir", str(config_dir), *build])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_malformed_lambda_json_exits_2(
    command: str, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "lambda.json").write_text('{"athena_partition_refresh_config": ')

    assert run(command, config_dir, tmp_path) == EXIT_USAGE

    err = capsys.readouterr().err
    assert err.startswith(f"{command}: ")
    assert "lambda.json" in err
    assert not (tmp_path / "build").exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_invalid_config_exits_1(
    command: str, config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_json = config_dir / "lambda.json"
    document = json.loads(lambda_json.read_text())
    document["athena_partition_refresh_config"]["memory"] = "lots"
    lambda_json.write_text(json.dumps(document))

    assert run(command, config_dir, tmp_path) == EXIT_FAILED

    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{command}: the config is invalid; nothing was changed:"
    assert err[1].startswith("lambda.json: athena_partition_refresh_config.memory: must be an integer")
    assert not (tmp_path / "build").exists()


def test_any_other_config_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> int:
        raise MissingBlockError("rule_processor_config")

    assert guarded("deploy", False, body) == EXIT_FAILED
    assert capsys.readouterr().err == "deploy: lambda.json has no rule_processor_config block\n"


@pytest.mark.parametrize(
    ("error", "was"),
    [
        (ProcessorSelectionError("unknown processor"), ValueError),
        (HclValueError("no HCL form"), TypeError),
    ],
)
def test_the_tooling_errors_are_the_projects_and_what_they_were(error: Exception, was: type) -> None:
    assert isinstance(error, StreamAlertError)
    assert isinstance(error, was)
