"""Every script's command line: --help says the exit codes, config-taking scripts default to the repository's
conf/, and scripts/bench writes build/bench/ unless asked to publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamalert_cli import arguments, deploy, destroy, redrive, rollback, validate_config
from streamalert_cli.guard import EXIT_STATUS

REPO = Path(__file__).resolve().parents[2]
# The least each command line takes
MINIMAL_ARGV = {
    "deploy": ["--processor", "athena"],
    "rollback": ["--processor", "athena"],
    "destroy": ["--processor", "athena"],
    "redrive": [],
    "validate-config": [],
    "bootstrap": [],
    "bench": [],
    "backfill": [],
}
CONFIG_COMMANDS = ("deploy", "rollback", "destroy", "redrive", "validate-config", "backfill")


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_every_script_has_a_command_line() -> None:
    wrappers = {
        path.name
        for path in (REPO / "scripts").iterdir()
        if path.read_text().startswith("#!/usr/bin/env python3")
    }
    assert wrappers == set(arguments.COMMAND_LINES) == set(MINIMAL_ARGV)


@pytest.mark.parametrize("command", sorted(arguments.COMMAND_LINES))
def test_help_prints_the_exit_codes_and_exits_0(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        arguments.check_arguments(command, ["--help"])

    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {command} ")
    assert one_line(out).endswith(one_line(EXIT_STATUS))


def test_the_exit_codes_are_said_as_the_guard_returns_them() -> None:
    assert one_line(EXIT_STATUS) == (
        "exit status: 0 done; 1 the config is invalid (every problem listed) or a step failed; 2 a usage "
        "error, a missing or too old tool, or input that cannot be read (a missing config directory or "
        "file, malformed JSON)"
    )


@pytest.mark.parametrize("module", [deploy, rollback, destroy, redrive, validate_config])
def test_each_command_prints_the_same_help(module: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert module.main(["--help"]) == 0  # type: ignore[attr-defined]
    assert one_line(capsys.readouterr().out).endswith(one_line(EXIT_STATUS))


@pytest.mark.parametrize("command", CONFIG_COMMANDS)
def test_the_config_is_the_repository_conf_by_default(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the cwd's conf/
    args = arguments.COMMAND_LINES[command](MINIMAL_ARGV[command], command)
    assert args.config_dir == REPO / "conf"


@pytest.mark.parametrize(
    "argv", [["--processor"], ["--processor", "kinesis"], ["--processor", "athena", "--colour"]]
)
def test_usage_errors_exit_2_before_anything_is_set_up(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        arguments.check_arguments("deploy", argv)

    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("usage: deploy ")


def test_bench_writes_build_bench_by_default() -> None:
    assert arguments.bench_arguments([]).results == REPO / "build" / "bench"
    assert arguments.bench_arguments(["--quick"]).results == REPO / "build" / "bench"


def test_bench_publishes_to_docs_bench_only_when_asked(tmp_path: Path) -> None:
    assert arguments.bench_arguments(["--publish"]).results == REPO / "docs" / "bench"
    assert arguments.bench_arguments(["--out", str(tmp_path)]).results == tmp_path


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--publish", "--quick"], "not with --quick"),
        (["--publish", "--skip-scale", "--skip-cold-start"], "not with --skip-scale, --skip-cold-start"),
        (["--publish", "--skip-latency"], "not with --skip-latency"),
        (["--publish", "--out", "elsewhere"], "--publish writes docs/bench/: not with --out"),
    ],
)
def test_bench_publishes_full_runs_only(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        arguments.bench_arguments(argv)

    assert exit_.value.code == 2
    assert said in capsys.readouterr().err
