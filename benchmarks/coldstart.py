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
from streamalert_cli.packaging import build_package, runtime_python
from streamalert_cli.processors import by_name
from streamalert_cli.zip_runner import runtime_libraries

REPO_ROOT = Path(__file__).resolve().parents[1]
REFRESH = by_name("athena")
LAMBDA_MODULE = REFRESH.handler.rpartition(".")[0]
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
    if setting.bytecode:  # written by the first run, read by the next (the median is of cached runs)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
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
    """Import times from the working tree and from the unpacked zip (with and without bytecode, by the
    same interpreter, so that the two rows differ by the bytecode alone), and the zip's size."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as scratch:
        package = build_zip(Path(scratch))
        unpacked = {bytecode: Path(scratch) / f"unpacked-{bytecode}" for bytecode in (True, False)}
        for folder in unpacked.values():  # two copies: the .pyc one run writes, the other must not read
            with zipfile.ZipFile(package.path) as archive:
                archive.extractall(folder)
        runtime = runtime_python()
        if runtime is None:
            python, libraries, name = sys.executable, None, f"Python {_version()} (no {LAMBDA_RUNTIME} here)"
        else:
            python, libraries, name = runtime, runtime_libraries(runtime), f"{LAMBDA_RUNTIME} and boto3"
        settings = {
            f"working tree, bytecode cached, Python {_version()}": Setting(REPO_ROOT, bytecode=True),
            f"package zip, bytecode cached, {name}": Setting(unpacked[True], True, python, libraries),
            f"package zip, no bytecode, {name} (as on Lambda)": Setting(
                unpacked[False], False, python, libraries
            ),
        }
        return import_times(settings, runs), package.measured


def _version() -> str:
    return ".".join(map(str, sys.version_info[:2]))


@dataclass(frozen=True)
class _Built:
    path: Path
    measured: PackageSize


def build_zip(out_dir: Path) -> _Built:
    """The function's zip as ``streamalert_cli.packaging`` builds it for a deployment."""
    package = build_package(REFRESH, REPO_ROOT / "conf", out_dir=out_dir)
    with zipfile.ZipFile(package.path) as archive:
        msgspec_size = sum(i.compress_size for i in archive.infolist() if i.filename.startswith("msgspec"))
    size = PackageSize("streamalert_cli.packaging.build_package", package.size, package.entries, msgspec_size)
    return _Built(package.path, size)
