"""scripts/* re-run themselves inside .venv: created, or given the missing extras, first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamalert_cli import bootstrap


class Recorder:
    """What ensure_environment asked for: environments created, and the command it re-ran as."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.created: list[tuple[str, Path]] = []
        self.exec: list[str] | None = None
        monkeypatch.setattr(bootstrap, "create_environment", self._create)
        monkeypatch.setattr(bootstrap.os, "execv", self._execv)
        monkeypatch.delenv(bootstrap._INSTALLED, raising=False)

    def _create(self, extras: str, venv_dir: Path) -> Path:
        self.created.append((extras, venv_dir))
        return bootstrap.venv_python(venv_dir)

    def _execv(self, path: str, args: list[str]) -> None:
        self.exec = args


def test_an_interpreter_with_every_module_runs_the_script_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = Recorder(monkeypatch)

    bootstrap.ensure_environment("scripts/x", ["--local"], modules=["json"], venv_dir=tmp_path / "venv")

    assert (recorder.created, recorder.exec) == ([], None)


def test_without_a_venv_it_is_created_with_the_extras_and_the_script_rerun_in_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = Recorder(monkeypatch)
    venv_dir = tmp_path / "venv"

    bootstrap.ensure_environment(
        "scripts/bench", ["--quick"], modules=["no_such_module"], extras="bench", venv_dir=venv_dir
    )

    assert recorder.created == [("bench", venv_dir)]
    assert recorder.exec == [str(venv_dir / "bin" / "python"), "scripts/bench", "--quick"]


def test_a_venv_without_the_extras_gets_them_then_reruns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = Recorder(monkeypatch)
    venv_dir = tmp_path / "venv"
    monkeypatch.setattr(sys, "prefix", str(venv_dir))  # running inside it

    bootstrap.ensure_environment(
        "scripts/bench", [], modules=["no_such_module"], extras="bench", venv_dir=venv_dir
    )

    assert recorder.created == [("bench", venv_dir)]
    assert recorder.exec == [str(venv_dir / "bin" / "python"), "scripts/bench"]


def test_a_module_still_missing_after_installing_is_an_error_not_a_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(monkeypatch)
    venv_dir = tmp_path / "venv"
    monkeypatch.setattr(sys, "prefix", str(venv_dir))
    monkeypatch.setenv(bootstrap._INSTALLED, "bench")

    with pytest.raises(SystemExit) as exit_info:
        bootstrap.ensure_environment(
            "scripts/bench", [], modules=["no_such_module"], extras="bench", venv_dir=venv_dir
        )

    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no_such_module missing from" in err
    assert "-m pip install -e" in err
    assert "[bench]" in err
    assert (recorder.created, recorder.exec) == ([], None)


@pytest.mark.parametrize(("argv", "expected"), [([], []), (["--local"], ["no_moto_here"])])
def test_the_deploy_needs_moto_only_for_local(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[str]
) -> None:
    monkeypatch.setattr(bootstrap, "LOCAL_MODULES", ("no_moto_here",))

    assert bootstrap.missing_modules(argv) == expected


def test_an_install_that_fails_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(monkeypatch)

    def fail(extras: str, venv_dir: Path) -> Path:
        raise subprocess.CalledProcessError(1, ["pip", "install"])

    monkeypatch.setattr(bootstrap, "create_environment", fail)

    with pytest.raises(SystemExit) as exit_info:
        bootstrap.ensure_environment("scripts/bench", [], modules=["no_such_module"], venv_dir=tmp_path / "v")

    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith("bench: cannot set up ")
    assert recorder.exec is None


def executable(path: Path, script: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def record_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands bootstrap runs (each succeeds without running), the runtime probes left out."""
    commands: list[list[str]] = []

    def run(command: list[Any], **_: Any) -> subprocess.CompletedProcess[str]:
        if command[1:] != ["-c", "pass"]:
            commands.append([str(part) for part in command])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bootstrap.subprocess, "run", run)
    return commands


def test_the_runtime_python_is_found_in_pyenv_when_path_lacks_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    executable(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin" / "python3.11")
    found = executable(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12")

    assert bootstrap.runtime_python() == found


def test_a_path_entry_that_does_not_run_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    executable(tmp_path / "shims" / "python3.12", "exit 127")  # a pyenv shim of a version not selected
    runs = executable(tmp_path / "bin" / "python3.12")
    monkeypatch.setenv("PATH", f"{tmp_path / 'shims'}:{tmp_path / 'bin'}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))

    assert bootstrap.runtime_python() == runs


def test_without_python_3_12_the_venv_is_refused_naming_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.delenv(bootstrap._INSTALLED, raising=False)

    with pytest.raises(SystemExit) as exit_info:
        bootstrap.ensure_environment(
            "scripts/deploy", [], modules=["no_such_module"], venv_dir=tmp_path / "v"
        )

    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("deploy: cannot set up ")
    assert "python3.12" in err
    assert "pyenv install 3.12" in err
    assert not (tmp_path / "v").exists()


def test_a_venv_of_another_python_is_made_again_on_3_12(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    venv_dir = tmp_path / "venv"
    executable(venv_dir / "bin" / "python")
    (venv_dir / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    python312 = executable(tmp_path / "bin" / "python3.12")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    commands = record_commands(monkeypatch)

    bootstrap.create_environment("local", venv_dir)

    assert commands[0] == [str(python312), "-m", "venv", "--clear", str(venv_dir)]
    assert commands[1][:4] == [str(venv_dir / "bin" / "python"), "-m", "pip", "install"]


def test_a_venv_on_3_12_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    venv_dir = tmp_path / "venv"
    executable(venv_dir / "bin" / "python")
    (venv_dir / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    commands = record_commands(monkeypatch)

    bootstrap.create_environment("local", venv_dir)

    assert [command[1:3] for command in commands] == [["-m", "pip"]]


def test_the_set_up_says_what_it_installs_and_how_long_it_took(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv_dir = tmp_path / "venv"
    executable(venv_dir / "bin" / "python")
    (venv_dir / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    record_commands(monkeypatch)
    clock = iter([100.0, 143.3])
    monkeypatch.setattr(bootstrap.time, "monotonic", lambda: next(clock))

    bootstrap.create_environment("local", venv_dir)

    before, after = capsys.readouterr().err.splitlines()
    assert before.startswith(f"bootstrap: installing the project [local] into {venv_dir} with pip")
    if sys.version_info >= (3, 11):  # 3.10 has no TOML reader: the line names no packages there
        assert {"boto3", "rich", "moto[server]"} <= set(before.split(" with pip: ")[1].split(", "))
    assert after == f"bootstrap: set up {venv_dir} in 43.3s"
