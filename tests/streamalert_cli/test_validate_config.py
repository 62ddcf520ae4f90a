"""validate-config: exit codes, what lands on stdout and stderr (the guard every command shares), the
repository's conf/ by default, and the script run as a real executable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamalert_cli import validate_config
from streamalert_cli.validate_config import main
from tests.helpers import write_json

REPO = Path(__file__).parents[2]


def test_a_valid_config_exits_0(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config-dir", str(config_dir)]) == 0

    captured = capsys.readouterr()
    assert captured.out == f"config valid: {config_dir}\n"
    assert captured.err == ""


def test_the_default_directory_is_the_repositorys_conf_not_the_cwds(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(config_dir / "lambda.json", {"athena_partition_refresh_config": {"memory": "256"}})
    monkeypatch.chdir(config_dir.parent)  # a conf/ here that is invalid

    assert main([]) == 0
    assert capsys.readouterr().out == f"config valid: {REPO / 'conf'}\n"


def test_the_example_conf_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config-dir", str(REPO / "conf")]) == 0
    assert capsys.readouterr().err == ""


def test_every_error_of_both_files_is_printed_at_once(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(
        config_dir / "global.json",
        {"account": {"aws_account_id": 123456789012, "prefix": "acme", "region": "us-east-1"}, "deploy": {}},
    )
    write_json(
        config_dir / "lambda.json",
        {
            "athena_partition_refresh_config": {
                "memory": "256",
                "enabled": 1,
                "refresh_type": {
                    "add_hive_partition": {"acme.data": "Logs", "<prefix>.streamalerts": "alerts"},
                    "add_glue_partition": {"acme.streamalerts": "alerts", "acme.data/x": "x"},
                },
            }
        },
    )

    assert main(["--config-dir", str(config_dir)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    block = "lambda.json: athena_partition_refresh_config"
    assert captured.err.splitlines() == [
        "validate-config: the config is invalid; nothing was changed:",
        'global.json: account.aws_account_id: must be a string of exactly 12 digits, such as "123456789012", '
        "got 123456789012 (an integer)",
        "global.json: deploy: unknown key; allowed keys: account, terraform, source_bucket, buckets",
        f"{block}.enabled: must be true or false, got 1 (an integer)",
        f"{block}.memory: must be an integer from 128 to 10240, got " + '"256" (a string)',
        f'{block}.refresh_type.add_glue_partition["acme.data/x"]: '
        'source "acme.data/x" overlaps source "acme.data" '
        'mapped by refresh_type.add_hive_partition["acme.data"]: '
        "the sources of one bucket must not overlap (S3 refuses overlapping notification filters)",
        f'{block}.refresh_type.add_glue_partition["acme.streamalerts"]: '
        'source "acme.streamalerts" is already mapped by '
        'refresh_type.add_hive_partition["<prefix>.streamalerts"]; '
        "map each source once",
        f'{block}.refresh_type.add_hive_partition["acme.data"]: Not a valid table name: "Logs" '
        "(Athena allows lowercase letters, digits and underscores, starting with a letter or underscore, "
        "at most 255 characters)",
    ]


def test_a_block_wide_error_goes_on_the_block_path(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(config_dir / "lambda.json", {"athena_partition_refresh_config": {"refresh_type": {}}})

    assert main(["--config-dir", str(config_dir)]) == 1
    assert capsys.readouterr().err == (
        "validate-config: the config is invalid; nothing was changed:\n"
        "lambda.json: athena_partition_refresh_config.refresh_type: must map at least one source to a table "
        "(in repair_hive_table, add_hive_partition, add_glue_partition)\n"
    )


def test_bad_json_exits_2_with_line_and_column(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (config_dir / "lambda.json").write_text('{\n  "a": 1\n    "b": 2\n}\n')

    assert main(["--config-dir", str(config_dir)]) == 2

    captured = capsys.readouterr()
    assert captured.err == (
        "validate-config: lambda.json: invalid JSON at line 3, column 5: Expecting ',' delimiter\n"
    )
    assert captured.out == ""


def test_a_missing_file_exits_2(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (config_dir / "lambda.json").unlink()

    assert main(["--config-dir", str(config_dir)]) == 2
    assert (
        capsys.readouterr().err
        == f"validate-config: lambda.json: file not found: {config_dir / 'lambda.json'}\n"
    )


def test_each_unreadable_file_is_a_line_of_its_own(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "global.json").unlink()
    (config_dir / "lambda.json").write_text("[")

    assert main(["--config-dir", str(config_dir)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"validate-config: global.json: file not found: {config_dir / 'global.json'}",
        "validate-config: lambda.json: invalid JSON at line 1, column 2: Expecting value",
    ]


def test_a_missing_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config-dir", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"validate-config: config directory not found: {tmp_path / 'nowhere'}\n"


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config-dri", "conf"]) == 2
    assert "unrecognized arguments: --config-dri" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "conf/ of this repository" in capsys.readouterr().out


def test_an_unexpected_error_is_one_line_without_debug(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(config_dir: Path) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(validate_config, "load_config", broken)

    assert main(["--config-dir", str(config_dir)]) == 1
    assert capsys.readouterr().err == (
        "validate-config: unexpected error: RuntimeError: disk on fire (run with --debug for the traceback)\n"
    )


def test_debug_lets_an_unexpected_error_show_its_traceback(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(config_dir: Path) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(validate_config, "load_config", broken)

    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--config-dir", str(config_dir), "--debug"])


def test_the_script_runs_as_an_executable_without_importing_boto3() -> None:
    env = {
        **os.environ,
        # the shebang's python3 must be the one with the project's dependencies
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # lists every module imported on stderr: proof that validation makes no AWS call possible
        "PYTHONPROFILEIMPORTTIME": "1",
    }

    result = subprocess.run(
        [str(REPO / "scripts" / "validate-config")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"config valid: {REPO / 'conf'}\n"
    assert "marshmallow" in result.stderr
    assert "boto3" not in result.stderr
    assert "botocore" not in result.stderr
