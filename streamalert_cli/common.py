"""What the deploy, rollback, destroy and redrive commands share: progress lines, the config step (their
arguments are streamalert_cli/arguments.py's), and the top level of streamalert_cli.guard (exit codes, one
line per known error, ``--debug``) with their missing tool and unknown processor as usage errors."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from config_schemas.models import Config
from streamalert.config import ConfigError, load_config
from streamalert.exceptions import StreamAlertError
from streamalert_cli import guard
from streamalert_cli.guard import (
    REPO_ROOT,
    USAGE_ERRORS,
    StepFailed,
    UsageError,
    parse,
)
from streamalert_cli.processors import ProcessorSelectionError
from streamalert_cli.terraform.runner import TerraformError, TerraformMissingError

__all__ = [
    "REPO_ROOT",
    "Progress",
    "Step",
    "StepFailed",
    "UsageError",
    "guarded",
    "parse",
    "validate_config",
]

# The deploy commands' own errors that end them with exit 2 wherever they happen
_COMMAND_USAGE_ERRORS = (TerraformMissingError, ProcessorSelectionError)
# What a step lets through as it is: errors the guard reports themselves
_NOT_STEP_FAILURES: tuple[type[Exception], ...] = (
    *USAGE_ERRORS,
    *_COMMAND_USAGE_ERRORS,
    ConfigError,
    StepFailed,
)


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
        """Time the block; a known error inside it becomes StepFailed naming the step (a terraform
        error with each of its diagnostics whole and the path of terraform's log)."""
        step = Step(name)
        started = time.monotonic()
        try:
            yield step
        except _NOT_STEP_FAILURES:
            raise
        except TerraformError as err:
            raise StepFailed(name, _terraform_reason(err), err.detail.splitlines()) from err
        except (StreamAlertError, ClientError, BotoCoreError, OSError) as err:
            raise StepFailed(name, str(err) or type(err).__name__) from err
        self.say(f"{name}: {step.detail or 'done'} ({time.monotonic() - started:.1f}s)")


def _terraform_reason(err: TerraformError) -> str:
    """The failure's one line: where terraform's full output is (its errors follow, whole)."""
    return f"terraform's full output is in {err.log}" if err.log else "terraform's errors follow"


def validate_config(progress: Progress, config_dir: Path) -> Config:
    """Load and validate the config before anything else; ConfigValidationError lists every problem."""
    with progress.step("validate config") as step:
        config = load_config(config_dir)
        step.detail = f"{config_dir} is valid"
    return config


def guarded(command: str, debug: bool, body: Callable[[], int], err: TextIO | None = None) -> int:
    """Run a command's body under streamalert_cli.guard; a missing terraform or an unknown processor is a
    usage error too."""
    return guard.guarded(command, debug, body, err, usage_errors=_COMMAND_USAGE_ERRORS)
