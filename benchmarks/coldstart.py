"""What a cold start costs before the handler runs: the import of the Lambda's module, and the zip's size.

The import is timed in fresh interpreters with ``python -X importtime`` (median of several), twice:
from the working tree with its bytecode cached, and from the package zip unpacked, where no ``.pyc``
is shipped and none can be written (as on Lambda, whose code directory is read-only): every module of
ours and of the vendored dependencies is compiled at each cold start.
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
    msgspec_size: int


def import_times(settings: dict[str, tuple[Path, bool]], runs: int = 7) -> list[ImportTime]:
    """Median import time of the Lambda's module for each setting (a folder, and whether bytecode may
    be cached), in ``runs`` fresh interpreters each, the settings taking turns."""
    totals: dict[str, list[float]] = {name: [] for name in settings}
    shares: dict[str, dict[str, list[float]]] = {name: {dep: [] for dep in DEPENDENCIES} for name in settings}
    for _ in range(runs):
        for name, (path, bytecode) in settings.items():
            cumulative = _import_once(path, bytecode=bytecode)
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


def _import_once(path: Path, *, bytecode: bool) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(path)}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {LAMBDA_MODULE}"],
        cwd=path,
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
        settings = {
            "working tree, bytecode cached": (REPO_ROOT, True),
            "package zip, no bytecode (as on Lambda)": (unpacked, False),
        }
        return import_times(settings, runs), package.measured


@dataclass(frozen=True)
class _Built:
    path: Path
    measured: PackageSize


def build_zip(out_dir: Path) -> _Built:
    """The function's zip as ``streamalert.packaging`` builds it for a deployment."""
    from streamalert.packaging import build_package

    package = build_package(APP, REPO_ROOT / "conf", out_dir=out_dir)
    size = PackageSize("streamalert.packaging.build_package", package.size, package.entries, _msgspec_size())
    return _Built(package.path, size)


def _msgspec_size() -> int:
    """What vendoring msgspec (this platform's build) would add to the zip, compressed the same way."""
    try:
        distribution = importlib.metadata.distribution("msgspec")
    except importlib.metadata.PackageNotFoundError:
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "msgspec.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for file in sorted(distribution.files or (), key=str):
                located = Path(str(file.locate()))
                if located.is_file() and "__pycache__" not in file.parts:
                    info = zipfile.ZipInfo(str(file), (1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, located.read_bytes())
        return path.stat().st_size
