"""Make a fresh clone runnable: create ``.venv`` and install the project into it, and let the scripts
re-run themselves inside it. Standard library only: it runs before any dependency is installed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_DIR = REPO_ROOT / ".venv"
# What the deploy commands import; moto only for --local
DEPLOY_MODULES = ("boto3", "jinja2", "marshmallow")
LOCAL_MODULES = ("moto",)
# What scripts/validate-config imports
VALIDATE_MODULES = ("marshmallow",)
# What scripts/bench imports, and the extras that install it
BENCH_MODULES = (*DEPLOY_MODULES, *LOCAL_MODULES, "msgspec", "matplotlib")
BENCH_EXTRAS = "local,bench"
# Set in the environment once the extras were installed for a script: a second miss is an error, no loop
_INSTALLED = "STREAMALERT_BOOTSTRAP_INSTALLED"


def missing_modules(argv: Sequence[str], modules: Sequence[str] | None = None) -> list[str]:
    """Which of ``modules`` (by default what the deploy commands need, given their arguments) this
    interpreter cannot import."""
    wanted = (
        modules if modules is not None else [*DEPLOY_MODULES, *(LOCAL_MODULES if "--local" in argv else ())]
    )
    return [name for name in wanted if importlib.util.find_spec(name) is None]


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    return venv_dir / "bin" / "python"


def create_environment(extras: str = "local", venv_dir: Path = VENV_DIR) -> Path:
    """Create the virtual environment (when missing) and install the project with ``extras`` into it."""
    python = venv_python(venv_dir)
    if not python.exists():
        print(f"bootstrap: creating {venv_dir}", file=sys.stderr, flush=True)
        venv.create(venv_dir, with_pip=True)
    print(f"bootstrap: installing the project [{extras}] into {venv_dir}", file=sys.stderr, flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--editable", f"{REPO_ROOT}[{extras}]"],
        check=True,
    )
    return python


def ensure_environment(
    script: str,
    argv: Sequence[str],
    *,
    modules: Sequence[str] | None = None,
    extras: str = "local",
    venv_dir: Path = VENV_DIR,
) -> None:
    """Return when this interpreter has what the script needs; otherwise re-run the script inside
    ``.venv``, creating it or installing the project's ``extras`` into it first when it lacks them."""
    missing = missing_modules(argv, modules)
    if not missing:
        return
    python = venv_python(venv_dir)
    inside = Path(sys.prefix).resolve() == venv_dir.resolve()
    name = Path(script).name
    if inside and os.environ.get(_INSTALLED) == extras:
        print(
            f"{name}: {', '.join(missing)} missing from {venv_dir} after installing the project "
            f"[{extras}] into it: {python} -m pip install -e '{REPO_ROOT}[{extras}]' says why",
            file=sys.stderr,
        )
        sys.exit(2)
    if inside or not python.exists():
        try:
            create_environment(extras, venv_dir)
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"{name}: cannot set up {venv_dir}: {err}", file=sys.stderr)
            sys.exit(1)
        os.environ[_INSTALLED] = extras
    os.execv(str(python), [str(python), script, *argv])


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bootstrap [--dev]``: the deploy environment, or (``--dev``) also the test and lint tools."""
    args = list(sys.argv[1:] if argv is None else argv)
    extras = "local,test,lint,type" if "--dev" in args else "local"
    try:
        create_environment(extras)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"bootstrap: failed: {err}", file=sys.stderr)
        return 1
    print(f"bootstrap: ready: {venv_python()}")
    return 0
