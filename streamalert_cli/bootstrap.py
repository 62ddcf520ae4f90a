"""Make a fresh clone runnable: create ``.venv`` on the functions' Python (3.12) and install the project
into it, and let the scripts re-run themselves inside it. Standard library only (``streamalert.constants``
is too): it runs before any dependency is installed."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from streamalert.constants import LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME
from streamalert.exceptions import StreamAlertError

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_DIR = REPO_ROOT / ".venv"
# What the deploy commands import; moto only for --local
DEPLOY_MODULES = ("boto3", "jinja2", "marshmallow", "rich")
LOCAL_MODULES = ("moto",)
# What scripts/validate-config imports
VALIDATE_MODULES = ("marshmallow",)
# What scripts/bench imports, and the extras that install it
BENCH_MODULES = (*DEPLOY_MODULES, *LOCAL_MODULES, "msgspec", "matplotlib")
BENCH_EXTRAS = "local,bench"
# Set in the environment once the extras were installed for a script: a second miss is an error, no loop
_INSTALLED = "STREAMALERT_BOOTSTRAP_INSTALLED"


class RuntimePythonMissingError(StreamAlertError):
    """No interpreter of the functions' Python version to create ``.venv`` with (a missing tool: exit 2)."""

    def __init__(self) -> None:
        super().__init__(
            f"{LAMBDA_RUNTIME} (the functions' runtime, which .venv uses) is neither on PATH nor in pyenv's "
            f"versions folder: install it, e.g. pyenv install {LAMBDA_PYTHON_VERSION}"
        )


def missing_modules(argv: Sequence[str], modules: Sequence[str] | None = None) -> list[str]:
    """Which of ``modules`` (by default what the deploy commands need, given their arguments) this
    interpreter cannot import."""
    wanted = (
        modules if modules is not None else [*DEPLOY_MODULES, *(LOCAL_MODULES if "--local" in argv else ())]
    )
    return [name for name in wanted if importlib.util.find_spec(name) is None]


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    return venv_dir / "bin" / "python"


def runtime_python() -> Path | None:
    """An interpreter of the functions' Python version that runs here: on ``PATH``, else in pyenv's
    versions folder (as ``scripts/test`` looks); None when there is none."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    folders = [Path(folder) for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    candidates = [folder / LAMBDA_RUNTIME for folder in folders]
    candidates += sorted(pyenv_root.glob(f"versions/{LAMBDA_PYTHON_VERSION}.*/bin/{LAMBDA_RUNTIME}"))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
            if probe.returncode == 0:  # a pyenv shim of a version not selected here fails
                return candidate
    return None


def venv_version(venv_dir: Path = VENV_DIR) -> str | None:
    """The Python version an environment was created with (``pyvenv.cfg``), None when there is none."""
    try:
        lines = (venv_dir / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info") and value.strip():
            return value.strip()
    return None


def on_runtime_python(venv_dir: Path = VENV_DIR) -> bool:
    """Whether the environment exists and runs the functions' Python version."""
    version = venv_version(venv_dir)
    return venv_python(venv_dir).exists() and version is not None and _minor(version) == LAMBDA_PYTHON_VERSION


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def requirement_names(extras: str, pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """What installing the project with ``extras`` asks pip for, by name (``moto[server]``), from
    pyproject.toml; none on Python 3.10, which has no TOML reader."""
    try:
        import tomllib
    except ImportError:
        return []
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    optional = project.get("optional-dependencies", {})
    wanted = [
        *project.get("dependencies", []),
        *(r for extra in extras.split(",") for r in optional.get(extra, [])),
    ]
    return list(dict.fromkeys(re.split(r"[\s<>=!~;]", requirement, maxsplit=1)[0] for requirement in wanted))


def create_environment(extras: str = "local", venv_dir: Path = VENV_DIR) -> Path:
    """Create the virtual environment on the functions' Python (when missing, or made with another
    version: then it is made again) and install the project with ``extras`` into it, saying what it
    installs before and how long it took after."""
    started = time.monotonic()
    python = venv_python(venv_dir)
    if not on_runtime_python(venv_dir):
        interpreter = runtime_python()
        if interpreter is None:
            raise RuntimePythonMissingError
        found = venv_version(venv_dir)
        action = f"recreating {venv_dir} (it runs Python {found})" if found else f"creating {venv_dir}"
        print(f"bootstrap: {action} with {interpreter}", file=sys.stderr, flush=True)
        subprocess.run([str(interpreter), "-m", "venv", "--clear", str(venv_dir)], check=True)
    names = ", ".join(requirement_names(extras))
    print(
        f"bootstrap: installing the project [{extras}] into {venv_dir} with pip"
        + (f": {names}" if names else ""),
        file=sys.stderr,
        flush=True,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--editable", f"{REPO_ROOT}[{extras}]"],
        check=True,
    )
    print(f"bootstrap: set up {venv_dir} in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
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
    if inside or not on_runtime_python(venv_dir):
        try:
            create_environment(extras, venv_dir)
        except RuntimePythonMissingError as err:
            print(f"{name}: cannot set up {venv_dir}: {err}", file=sys.stderr)
            sys.exit(2)
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
    except RuntimePythonMissingError as err:
        print(f"bootstrap: {err}", file=sys.stderr)
        return 2
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"bootstrap: failed: {err}", file=sys.stderr)
        return 1
    print(f"bootstrap: ready: {venv_python()}")
    return 0
