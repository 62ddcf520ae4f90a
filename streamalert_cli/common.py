"""What the deploy, rollback and destroy commands share: exit codes, progress lines, and the top level that
turns known errors into one line on stderr (``--debug`` shows the traceback)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from config_schemas.models import Config
from streamalert.config import ConfigError, ConfigFileError, ConfigValidationError, load_config
from streamalert.exceptions import StreamAlertError
from streamalert_cli.processors import PROCESSOR_CHOICES, ProcessorSelectionError
from streamalert_cli.terraform.runner import TerraformError, TerraformMissingError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUILD_ROOT = REPO_ROOT / "build"


class UsageError(StreamAlertError):
    """The command cannot run as asked (exit 2)."""


class StepFailed(StreamAlertError):
    """A step of a command failed (exit 1); says which and why."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step} failed: {reason}")
        self.step = step
        self.reason = reason


# Errors that end a command with exit 2 wherever they happen
_USAGE_ERRORS = (UsageError, TerraformMissingError, ConfigFileError, ProcessorSelectionError)


@dataclass
class Step:
    """What a running step reports on its progress line."""

    name: str
    detail: str = ""


class Progress:
    """Prints one line per step: ``deploy: <step>: <detail> (<seconds>s)``."""

    def __init__(self, command: str, out: TextIO | None = None) -> None:
        self.command = command
        self.out = out or sys.stdout

    def say(self, text: str) -> None:
        print(f"{self.command}: {text}", file=self.out, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Time the block; a known error inside it becomes StepFailed naming the step."""
        step = Step(name)
        started = time.monotonic()
        try:
            yield step
        except (*_USAGE_ERRORS, ConfigError, StepFailed):
            raise
        except TerraformError as err:
            raise StepFailed(name, _first_lines(err.detail)) from err
        except (StreamAlertError, ClientError, BotoCoreError, OSError) as err:
            raise StepFailed(name, str(err) or type(err).__name__) from err
        self.say(f"{name}: {step.detail or 'done'} ({time.monotonic() - started:.1f}s)")


def _first_lines(detail: str) -> str:
    """Terraform's first error (its summary and the line that explains it)."""
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    return " ".join(lines[:2])


def add_common_arguments(parser: argparse.ArgumentParser, *, local: bool = True) -> None:
    parser.add_argument("--processor", required=True, choices=PROCESSOR_CHOICES, help="what to act on")
    if local:
        parser.add_argument(
            "--local", action="store_true", help="use the embedded local AWS emulator instead of AWS"
        )
    parser.add_argument("--yes", action="store_true", help="apply without asking for confirmation")
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=REPO_ROOT / "conf",
        metavar="DIR",
        help="directory holding global.json and lambda.json (default: conf/ of this repository)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD_ROOT,
        metavar="DIR",
        help="where rendered Terraform, zips and logs go (default: build/ of this repository)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or argparse's exit code (2 for usage errors, 0 for --help)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def validate_config(progress: Progress, config_dir: Path) -> Config:
    """Load and validate the config before anything else; ConfigValidationError lists every problem."""
    with progress.step("validate config") as step:
        config = load_config(config_dir)
        step.detail = f"{config_dir} is valid"
    return config


def guarded(command: str, debug: bool, body: Callable[[], int], err: TextIO | None = None) -> int:
    """Run a command's body; known errors become one line on stderr and an exit code."""
    stream = err or sys.stderr
    try:
        return body()
    except ConfigValidationError as error:
        print(f"{command}: the config is invalid; nothing was changed:", file=stream)
        for line in error.lines:
            print(line, file=stream)
        return EXIT_FAILED
    except _USAGE_ERRORS as error:
        if debug:
            raise
        print(f"{command}: {_one_line(str(error))}", file=stream)
        return EXIT_USAGE
    except StepFailed as error:
        if debug:
            raise
        print(f"{command}: {_one_line(str(error))}", file=stream)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=stream)
        return EXIT_FAILED
    except Exception as error:
        if debug:
            raise
        print(
            f"{command}: unexpected error: {type(error).__name__}: {_one_line(str(error))} "
            "(run with --debug for the traceback)",
            file=stream,
        )
        return EXIT_FAILED


def _one_line(text: str) -> str:
    return " ".join(text.split())
