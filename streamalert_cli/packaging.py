"""Deterministic Lambda zips: the same source gives the same bytes, so nothing redeploys without a change.

A zip holds ``streamalert/`` (the runtime), ``config_schemas/``, ``apps/__init__.py``, ``apps/<app>/``, the
deployment's ``conf/`` (every config file it has, ``logs.json`` included), the pure Python runtime
dependencies (marshmallow) copied from the installed distribution, and what the processor's registry entry
adds: source folders (``rules/`` for the rule processor) and compiled dependencies (msgspec), each from the
wheel built for the Lambda runtime, pinned here by version and digest; boto3 comes with the Lambda runtime.
Nothing of the tooling (``streamalert_cli/``, ``benchmarks/``, ``scripts/``, ``tests/``). Entries are
sorted, dated 1980-01-01 and carry fixed permissions.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from config_schemas.files import CONFIG_FILES, OPTIONAL_CONFIG_FILES
from streamalert.constants import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME
from streamalert.exceptions import StreamAlertError

if TYPE_CHECKING:
    from streamalert_cli.processors import Processor

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGE_DIR = REPO_ROOT / "build" / "packages"
DEFAULT_WHEEL_DIR = REPO_ROOT / "build" / "wheels"
SHARED_PACKAGES = ("streamalert", "config_schemas")
# Pure Python runtime dependencies the Lambda runtime lacks: copied from this environment
VENDORED_DISTRIBUTIONS = ("marshmallow",)
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SKIPPED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


class PackagingError(StreamAlertError):
    """A zip that cannot be built: a missing source folder or dependency."""


@dataclass(frozen=True)
class RuntimeWheel:
    """A compiled dependency, vendored as the wheel built for the Lambda runtime (its Python version and
    architecture, not this machine's) into the zips of the processors whose entry names it. The digest
    pins the very file: the same zip wherever it is built."""

    name: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


# msgspec: S3 notifications are read several times faster with it (s3_events' fast path), by the refresh
# and by the rule processor's S3 input. For LAMBDA_RUNTIME and LAMBDA_ARCHITECTURE: changing either means
# pinning that platform's wheel here (its digest is all that changes).
MSGSPEC = RuntimeWheel(
    "msgspec", "0.22.0", "99c401861c5bb3a57f7d6423ea7ed4352cd57aa3f04f4fbe9f3e3e4564a10f08"
)
# Lambda's architecture names -> the machine of a manylinux wheel tag
_WHEEL_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


@dataclass(frozen=True)
class Package:
    """A built zip: where it is, its SHA-256 (hex, and base64 as Lambda reports it) and its size."""

    app: str
    path: Path
    sha256_hex: str
    sha256_base64: str
    size: int
    entries: int

    @property
    def key(self) -> str:
        """Its key in the source bucket: content-addressed, so an unchanged zip is never uploaded again."""
        return f"{self.app}/{self.sha256_hex}.zip"


def package_entries(
    processor: Processor, config_dir: Path, *, wheel_dir: Path = DEFAULT_WHEEL_DIR
) -> dict[str, Path]:
    """Every file of the processor's zip, by its name in the zip."""
    entries: dict[str, Path] = {}
    app_dir = REPO_ROOT / "apps" / processor.app
    if not app_dir.is_dir():
        raise PackagingError(f"no function source at {app_dir}")
    for name in (*SHARED_PACKAGES, f"apps/{processor.app}", *processor.extra_folders):
        folder = REPO_ROOT / name
        if not folder.exists():
            raise PackagingError(f"missing source folder {folder}")
        entries.update(_tree(folder, PurePosixPath(name)))
    entries["apps/__init__.py"] = REPO_ROOT / "apps" / "__init__.py"
    for file_name in (*CONFIG_FILES, *OPTIONAL_CONFIG_FILES):
        if (config_dir / file_name).is_file():
            entries[f"conf/{file_name}"] = config_dir / file_name
    for distribution in VENDORED_DISTRIBUTIONS:
        entries.update(_distribution_files(distribution))
    for wheel in processor.wheels:
        entries.update(_tree(unpacked_wheel(wheel, wheel_dir), PurePosixPath()))
    return entries


def _tree(folder: Path, arc_folder: PurePosixPath) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in _SKIPPED_DIRS for part in relative.parts) or not path.is_file():
            continue
        if path.name.endswith(_SKIPPED_SUFFIXES):
            continue
        yield str(arc_folder.joinpath(*relative.parts)), path


def _distribution_files(name: str) -> Iterator[tuple[str, Path]]:
    """The installed distribution's own files (package and metadata), found from its RECORD."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as err:
        raise PackagingError(f"{name} is not installed in this environment: pip install {name}") from err
    for file in distribution.files or ():
        arc_name = PurePosixPath(str(file))
        if arc_name.parts[0] in {"..", "/"} or any(part in _SKIPPED_DIRS for part in arc_name.parts):
            continue
        if arc_name.name.endswith(_SKIPPED_SUFFIXES) or arc_name.name in {"INSTALLER", "REQUESTED"}:
            continue
        path = Path(str(file.locate()))
        if path.is_file():
            yield str(arc_name), path


def unpacked_wheel(wheel: RuntimeWheel, wheel_dir: Path = DEFAULT_WHEEL_DIR) -> Path:
    """The folder the wheel is unpacked in, under ``wheel_dir``. The wheel file is taken from there when
    it holds the pinned one, else fetched once by pip for the Lambda's platform and checked."""
    unpacked = wheel_dir / f"{wheel.name}-{wheel.version}-{wheel.sha256[:16]}"
    if unpacked.is_dir():
        return unpacked
    wheel_dir.mkdir(parents=True, exist_ok=True)
    wheel_file = _pinned_file(wheel, wheel_dir) or _download_wheel(wheel, wheel_dir)
    with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".unpack-") as scratch:
        with zipfile.ZipFile(wheel_file) as archive:
            archive.extractall(Path(scratch) / "unpacked")
        try:
            os.rename(Path(scratch) / "unpacked", unpacked)
        except OSError:  # another build unpacked it meanwhile: the same bytes
            if not unpacked.is_dir():
                raise
    return unpacked


def _pinned_file(wheel: RuntimeWheel, wheel_dir: Path) -> Path | None:
    for candidate in sorted(wheel_dir.glob(f"{wheel.name}-{wheel.version}-*.whl")):
        if _sha256(candidate) == wheel.sha256:
            return candidate
    return None


def _download_wheel(wheel: RuntimeWheel, wheel_dir: Path) -> Path:
    """Fetch the wheel into ``wheel_dir`` (whole files only) and return it if it is the pinned one."""
    where = f"{wheel.requirement} for {LAMBDA_RUNTIME} on {LAMBDA_ARCHITECTURE}"
    with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".fetch-") as scratch:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--implementation", "cp", "--python-version", LAMBDA_PYTHON_VERSION,
            "--abi", "cp" + LAMBDA_PYTHON_VERSION.replace(".", ""),
            "--platform", f"manylinux2014_{_WHEEL_MACHINES[LAMBDA_ARCHITECTURE]}",
            "--dest", scratch, wheel.requirement,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise PackagingError(
                f"cannot fetch the wheel of {where} from the package index ({reason}); "
                f"where no index can be reached, put that wheel file in {wheel_dir}/ and build again"
            )
        fetched = sorted(Path(scratch).glob("*.whl"))
        for path in fetched:
            os.replace(path, wheel_dir / path.name)
    found = _pinned_file(wheel, wheel_dir)
    if found is None:
        digests = ", ".join(f"{p.name} (sha256 {_sha256(wheel_dir / p.name)})" for p in fetched) or "nothing"
        raise PackagingError(
            f"pip fetched {digests} for {where}, not the pinned wheel (sha256 {wheel.sha256}): "
            "see its pin in streamalert_cli/packaging.py"
        )
    return found


def runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's Python version that runs here (on PATH, else pyenv's), to
    try a zip with; None when there is none: a vendored compiled wheel loads only in that version."""
    name = LAMBDA_RUNTIME  # "python3.12": the interpreter's name too
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [Path(folder) / name for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    candidates += sorted(pyenv_root.glob(f"versions/{LAMBDA_PYTHON_VERSION}.*/bin/{name}"))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
            if probe.returncode == 0:  # a pyenv shim of a version not selected here fails
                return str(candidate)
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_zip(entries: dict[str, Path], destination: Path) -> None:
    """Write the entries sorted by name, with fixed dates and modes, atomically."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arc_name in sorted(entries):
            info = zipfile.ZipInfo(arc_name, date_time=_FIXED_DATE)
            info.external_attr = _FILE_MODE
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[arc_name].read_bytes(), compresslevel=9)
    os.replace(partial, destination)


def build_package(
    processor: Processor,
    config_dir: Path,
    out_dir: Path = DEFAULT_PACKAGE_DIR,
    *,
    wheel_dir: Path = DEFAULT_WHEEL_DIR,
) -> Package:
    """Build ``<out_dir>/<app>.zip``, the processor's function with the config of ``config_dir``."""
    entries = package_entries(processor, config_dir, wheel_dir=wheel_dir)
    path = out_dir / f"{processor.app}.zip"
    write_zip(entries, path)
    data = path.read_bytes()
    digest = hashlib.sha256(data).digest()
    return Package(
        app=processor.app,
        path=path,
        sha256_hex=digest.hex(),
        sha256_base64=base64.b64encode(digest).decode(),
        size=len(data),
        entries=len(entries),
    )


def zip_names(path: Path) -> list[str]:
    """The entry names of a zip, in order (for checks and tests)."""
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def human_size(size: int) -> str:
    """``512 B``, ``134.9 KiB``, ``3.0 MiB``."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
