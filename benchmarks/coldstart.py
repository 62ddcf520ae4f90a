"""What a cold start costs before the handler runs: the import of the Lambda's module, and the zip's size.

The import is timed in fresh interpreters with ``python -X importtime`` (median of several), twice:
from the working tree with its bytecode cached, and from the package zip unpacked, where no ``.pyc``
is shipped and none can be written (as on Lambda, whose code directory is read-only): every module of
ours and of the vendored dependencies is compiled at each cold start. The zip is imported by the Lambda
runtime's Python version where this machine has it (the vendored msgspec is built for it), with boto3
beside it as the runtime provides it (bytecode compiled); elsewhere by this interpreter, which cannot
load that msgspec and reads notifications the standard way.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from streamalert.constants import LAMBDA_RUNTIME

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_MODULE = "apps.athena_refresh.main"
APP = "athena_refresh"
# Dependencies whose share of the import is shown (their cumulative time where first imported)
DEPENDENCIES = ("boto3", "marshmallow", "msgspec")
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass(frozen=True)
class ImportTime:
    setting: str
    total_ms: float
    dependency_ms: dict[str, float]


@dataclass(frozen=True)
class PackageSize:
    built_by: str
    size: int
    entries: int
    msgspec_size: int  # compressed bytes of the vendored msgspec in the zip


def runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's Python version that runs here (on PATH, else pyenv's), or
    None: a vendored compiled wheel loads only in that version."""
    name = LAMBDA_RUNTIME  # "python3.12": the interpreter's name too
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    version = name.removeprefix("python")
    candidates = [Path(folder) / name for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/{name}"))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
            if probe.returncode == 0:  # a pyenv shim of a version not selected here fails
                return str(candidate)
    return None


def import_times(settings: dict[str, Setting], runs: int = 7) -> list[ImportTime]:
    """Median import time of the Lambda's module for each setting, in ``runs`` fresh interpreters
    each, the settings taking turns."""
    totals: dict[str, list[float]] = {name: [] for name in settings}
    shares: dict[str, dict[str, list[float]]] = {name: {dep: [] for dep in DEPENDENCIES} for name in settings}
    for _ in range(runs):
        for name, setting in settings.items():
            cumulative = _import_once(setting)
            totals[name].append(cumulative[LAMBDA_MODULE] / 1000)
            for dependency in DEPENDENCIES:
                shares[name][dependency].append(cumulative.get(dependency, 0) / 1000)
    return [
        ImportTime(
            name,
            statistics.median(totals[name]),
            {dependency: statistics.median(values) for dependency, values in shares[name].items()},
        )
        for name in settings
    ]


@dataclass(frozen=True)
class Setting:
    """Where an import is timed: the code's folder, the interpreter, and what else is on its path."""

    path: Path
    bytecode: bool
    python: str = sys.executable
    libraries: Path | None = None  # the only other import path (no site-packages) when given


def _import_once(setting: Setting) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(setting.path)}
    isolation: list[str] = []
    if setting.libraries is not None:
        env["PYTHONPATH"] += os.pathsep + str(setting.libraries)
        isolation = ["-S"]
    if not setting.bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [setting.python, *isolation, "-X", "importtime", "-c", f"import {LAMBDA_MODULE}"],
        cwd=setting.path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return _cumulative(result.stderr)


def _cumulative(importtime_output: str) -> dict[str, int]:
    """Cumulative microseconds of each module, where it was first imported."""
    found: dict[str, int] = {}
    for line in importtime_output.splitlines():
        match = _LINE.match(line)
        if match:
            found.setdefault(match.group(4), int(match.group(2)))
    return found


def cold_start(runs: int = 7) -> tuple[list[ImportTime], PackageSize]:
    """Import times from the working tree and from the unpacked zip, and the zip's size."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as scratch:
        package = build_zip(Path(scratch))
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(package.path) as archive:
            archive.extractall(unpacked)
        settings = {"working tree, bytecode cached": Setting(REPO_ROOT, bytecode=True)}
        runtime = runtime_python()
        if runtime is None:
            settings[f"package zip, no bytecode, Python {_version()} (no {LAMBDA_RUNTIME} here)"] = Setting(
                unpacked, bytecode=False
            )
        else:
            settings[f"package zip, no bytecode, {LAMBDA_RUNTIME} and boto3 (as on Lambda)"] = Setting(
                unpacked, bytecode=False, python=runtime, libraries=runtime_libraries(runtime)
            )
        return import_times(settings, runs), package.measured


def runtime_libraries(python: str) -> Path:
    """boto3 (this environment's version) installed for the runtime interpreter, as Lambda provides it:
    in ``build/bench/runtime-libraries``, once."""
    version = importlib.metadata.version("boto3")
    target = REPO_ROOT / "build" / "bench" / "runtime-libraries" / f"{Path(python).name}-boto3-{version}"
    if not (target / "boto3").is_dir():
        command = [python, "-m", "pip", "install", "--quiet", "--target", str(target), f"boto3=={version}"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"cannot install boto3 for {python}: {result.stderr.strip()}")
    return target


def _version() -> str:
    return ".".join(map(str, sys.version_info[:2]))


@dataclass(frozen=True)
class _Built:
    path: Path
    measured: PackageSize


def build_zip(out_dir: Path) -> _Built:
    """The function's zip as ``streamalert.packaging`` builds it for a deployment."""
    from streamalert.packaging import build_package

    package = build_package(APP, REPO_ROOT / "conf", out_dir=out_dir)
    with zipfile.ZipFile(package.path) as archive:
        msgspec_size = sum(i.compress_size for i in archive.infolist() if i.filename.startswith("msgspec"))
    size = PackageSize("streamalert.packaging.build_package", package.size, package.entries, msgspec_size)
    return _Built(package.path, size)
