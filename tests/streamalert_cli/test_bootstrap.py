"""scripts/* re-run themselves inside .venv: created, or given the missing extras, first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
