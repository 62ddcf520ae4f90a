"""Running a function's handler from its zip, as Lambda would: a fresh interpreter of the functions' runtime
version, the unpacked zip alone on its path with the runtime's boto3 beside it (``-I -S``: no site-packages,
no ``PYTHON*`` variables, no working directory), the event on stdin, the function's environment and no
other, the result and the logs back.

What the local proof runs, so that a zip lacking a module, a config file or its vendored wheel fails the
deploy instead of a user's first invocation.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamalert.constants import LAMBDA_RUNTIME
from streamalert_cli import lambda_bootstrap
from streamalert_cli.common import StepFailed, UsageError
from streamalert_cli.local_aws import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from streamalert_cli.packaging import REPO_ROOT, runtime_python

# The runtime's boto3, installed once for the runtime interpreter (shared by deploys and benchmarks)
RUNTIME_LIBRARIES_DIR = REPO_ROOT / "build" / "runtime-libraries"
# Lambda's limit on the init phase (the import of the handler's module), on top of the function's timeout
INIT_SECONDS = 10.0
_TAIL_LINES = 5
_MARKERS = (lambda_bootstrap.RESULT_MARKER, lambda_bootstrap.ERROR_MARKER)


class RuntimeMissingError(UsageError):
    """No interpreter of the functions' runtime version here (exit 2: a missing tool)."""


class ZipRunError(StepFailed):
    """A handler that did not return a result from its zip: an import error, an exception, an exit, a
    timeout. Names the zip and the handler, with Lambda's error line and the tail of the output."""


@dataclass(frozen=True)
class LambdaRuntime:
    """The interpreter of the functions' runtime version and the folder of the boto3 it provides."""

    python: str
    libraries: Path

    @classmethod
    def find(cls) -> LambdaRuntime:
        """This machine's runtime interpreter, with boto3 installed for it (once) as Lambda provides it."""
        python = runtime_python()
        if python is None:
            raise RuntimeMissingError(
                f"{LAMBDA_RUNTIME} (the functions' runtime) is needed to run the zips: install it, "
                f"e.g. pyenv install {LAMBDA_RUNTIME.removeprefix('python')}"
            )
        return cls(python, runtime_libraries(python))


def runtime_libraries(python: str, root: Path = RUNTIME_LIBRARIES_DIR) -> Path:
    """boto3 (this environment's version) installed for the runtime interpreter, as Lambda provides it:
    in ``<root>/<interpreter>-boto3-<version>``, once (installed aside, then moved in whole)."""
    version = importlib.metadata.version("boto3")
    target = root / f"{Path(python).name}-boto3-{version}"
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".install-") as scratch:
        command = [python, "-m", "pip", "install", "--quiet", "--target", scratch, f"boto3=={version}"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeMissingError(f"cannot install boto3 for {python}: {result.stderr.strip()}")
        try:
            os.rename(scratch, target)
        except OSError:  # another run installed it meanwhile
            if not target.is_dir():
                raise
        Path(scratch).mkdir(exist_ok=True)  # for the temporary directory's own clean-up
    return target


@dataclass(frozen=True)
class LambdaFunction:
    """What Lambda knows of the function beyond its code: as deployed (its configuration), or as a test
    sets it. ``environment`` is the function's own variables (those its Terraform sets)."""

    name: str
    handler: str
    timeout: int
    memory: int = 128
    version: str = "$LATEST"
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ZipRun:
    """A handler's result and everything it printed (its JSON logs and metrics)."""

    result: Any
    output: str
    seconds: float


def emulator_environment(endpoint: str, region: str) -> dict[str, str]:
    """What points a function's boto3 at the local emulator, with its fake credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def run_zip(
    zip_path: Path,
    function: LambdaFunction,
    event: Mapping[str, Any],
    *,
    runtime: LambdaRuntime,
    aws_environment: Mapping[str, str],
    step: str,
    log_path: Path,
    init_seconds: float = INIT_SECONDS,
    source: str | None = None,
) -> ZipRun:
    """Invoke ``function.handler`` from the unpacked ``zip_path`` in a fresh interpreter of the runtime:
    its output goes to ``log_path``; the run is cut after ``init_seconds`` plus the function's timeout.
    Raises ZipRunError naming ``step``, the zip (``source`` where given: where it was fetched from) and
    the handler when no result comes back."""
    where = f"{source or zip_path} ({function.handler})"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lambda-task-") as task:
        _unpack(zip_path, Path(task), step)
        command = [
            runtime.python, "-I", "-S", "-B", "-u", lambda_bootstrap.__file__,
            task, str(runtime.libraries), function.handler, function.name, function.version,
            str(function.memory), str(function.timeout),
        ]  # fmt: skip
        environment = _lambda_environment(function, Path(task), aws_environment)
        with log_path.open("w", encoding="utf-8") as log:
            try:
                completed = subprocess.run(
                    command,
                    input=json.dumps(event).encode(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=task,
                    env=environment,
                    timeout=init_seconds + function.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                output = log_path.read_text(encoding="utf-8")
                raise ZipRunError(
                    step, f"{where} timed out after {err.timeout:.0f}s{_tail(output)}; its logs in {log_path}"
                ) from err
    output = log_path.read_text(encoding="utf-8")
    results = _marked(output, lambda_bootstrap.RESULT_MARKER)
    if completed.returncode != 0 or not results:
        errors = _marked(output, lambda_bootstrap.ERROR_MARKER)
        reason = (
            f"{errors[-1]['errorType']}: {errors[-1]['errorMessage']}"
            if errors
            else f"exited with {completed.returncode} and no result"
        )
        raise ZipRunError(step, f"{where}: {reason}{_tail(output)}; its logs in {log_path}")
    return ZipRun(result=results[-1], output=output, seconds=time.monotonic() - started)


def _unpack(zip_path: Path, task: Path, step: str) -> None:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
    except (OSError, zipfile.BadZipFile) as err:
        raise ZipRunError(step, f"cannot unpack {zip_path}: {err}") from err


def _lambda_environment(
    function: LambdaFunction, task: Path, aws_environment: Mapping[str, str]
) -> dict[str, str]:
    """The variables a function sees on Lambda (those of the runtime, its own, its credentials) and none
    of this process's: no AWS profile or config file of this machine reaches it."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{LAMBDA_RUNTIME}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **function.environment,
        **aws_environment,
    }


def _marked(output: str, marker: str) -> list[Any]:
    """The JSON values of the lines starting with ``marker``, in order."""
    return [json.loads(line.removeprefix(marker)) for line in output.splitlines() if line.startswith(marker)]


def _tail(output: str) -> str:
    """The last lines of the output that are not the bootstrap's own."""
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith(_MARKERS)]
    return f"; last output: {' | '.join(lines[-_TAIL_LINES:])}" if lines else "; no output"
