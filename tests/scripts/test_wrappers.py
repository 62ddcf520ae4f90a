"""scripts/*: --help prints help and installs nothing (no .venv, no bootstrap, standard library only), a usage
error exits 2 before the environment is set up, and the wrappers exit as their commands do."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from streamalert_cli import bootstrap
from streamalert_cli.guard import EXIT_STATUS

REPO = Path(__file__).resolve().parents[2]
PYTHON_SCRIPTS = (
    "backfill",
    "bench",
    "bootstrap",
    "deploy",
    "destroy",
    "redrive",
    "rollback",
    "validate-config",
)
# What a script's --help needs of the repository
SOURCES = ("streamalert", "streamalert_cli", "config_schemas", "scripts")


def one_line(text: str) -> str:
    return " ".join(text.split())


class BootstrapCalled(Exception):
    pass


@pytest.fixture
def no_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any step of the set-up (or bootstrap's own main) raises BootstrapCalled."""

    def called(*args: object, **kwargs: object) -> None:
        raise BootstrapCalled

    for name in ("ensure_environment", "create_environment", "main"):
        monkeypatch.setattr(bootstrap, name, called)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the wrappers insert the repository


def run_wrapper(monkeypatch: pytest.MonkeyPatch, script: Path, *argv: str) -> int | str | None:
    monkeypatch.setattr(sys, "argv", [str(script), *argv])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(script), run_name="__main__")
    return exit_.value.code


@pytest.mark.usefixtures("no_bootstrap")
def test_every_python_script_is_checked_here() -> None:
    scripts = {path.name for path in (REPO / "scripts").iterdir() if path.name != "test"}

    assert scripts == set(PYTHON_SCRIPTS)


@pytest.mark.parametrize("name", PYTHON_SCRIPTS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_never_reaches_the_bootstrap(
    name: str, flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_wrapper(monkeypatch, REPO / "scripts" / name, flag) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name} ")
    assert one_line(out).endswith(one_line(EXIT_STATUS))


@pytest.mark.usefixtures("no_bootstrap")
@pytest.mark.parametrize("action", ["deploy", "rollback", "destroy"])
def test_manage_py_help_never_reaches_the_bootstrap(
    action: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_wrapper(monkeypatch, REPO / "manage.py", "lambda", action, "--help") == 0
    assert capsys.readouterr().out.startswith(f"usage: manage.py lambda {action} ")


@pytest.mark.usefixtures("no_bootstrap")
def test_a_usage_error_exits_2_before_the_bootstrap(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_wrapper(monkeypatch, REPO / "scripts" / "deploy", "--processor", "kinesis") == 2
    assert "invalid choice: 'kinesis'" in capsys.readouterr().err


@pytest.mark.usefixtures("no_bootstrap")
def test_a_valid_command_line_goes_on_to_the_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["scripts/deploy", "--processor", "athena"])
    with pytest.raises(BootstrapCalled):
        runpy.run_path(str(REPO / "scripts" / "deploy"), run_name="__main__")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sources a script's --help needs, without .venv: a fresh clone as far as they can tell."""
    root = tmp_path_factory.mktemp("clone")
    for name in SOURCES:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "manage.py", root / "manage.py")
    return root


def files_of(root: Path) -> set[Path]:
    return {path.relative_to(root) for path in root.rglob("*")}


@pytest.mark.parametrize(
    "command",
    [
        *([f"scripts/{name}", "--help"] for name in PYTHON_SCRIPTS),
        ["manage.py", "lambda", "deploy", "--help"],
    ],
    ids=lambda command: command[0],
)
def test_help_in_a_fresh_clone_runs_on_the_standard_library_and_creates_nothing(
    command: list[str], clone: Path, tmp_path: Path
) -> None:
    before = files_of(clone)
    # -I -S: no site-packages (so nothing but the standard library), no PYTHON* variables; -B: no bytecode
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", *command],
        cwd=clone,
        env={"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert one_line(result.stdout).endswith(one_line(EXIT_STATUS))
    assert files_of(clone) == before
    assert not (clone / ".venv").exists()


def test_scripts_test_help_creates_no_tox_environment(clone: Path, tmp_path: Path) -> None:
    before = files_of(clone)
    path = f"{Path(sys.executable).parent}{os.pathsep}/usr/bin{os.pathsep}/bin"  # python3 is this one
    result = subprocess.run(
        [str(clone / "scripts" / "test"), "--help"],
        env={"HOME": str(tmp_path), "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: scripts/test [tox arguments]")
    assert one_line(result.stdout).endswith(one_line(EXIT_STATUS))
    assert files_of(clone) == before


@pytest.mark.parametrize("name", ["deploy", "validate-config"])
def test_a_script_exits_as_its_command(name: str, config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "lambda.json").write_text("{")
    argv = ["--processor", "athena", "--yes"] if name == "deploy" else []

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *argv, "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith(f"{name}: ")
