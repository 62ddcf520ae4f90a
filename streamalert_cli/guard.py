"""The top level every command shares: exit codes, the ``--config-dir`` default, argument parsing that returns
argparse's exit code, and the guard that turns known errors into one line on stderr and an exit code
(``--debug`` shows the traceback).

Exit codes: 0 done; 1 invalid config or a failed step; 2 usage error, missing tool or unreadable input
(``EXIT_STATUS``, the epilog of every script's ``--help``). It imports nothing of AWS, so that
``validate-config`` runs without boto3, and the config loader only inside ``guarded``, so that every script's
``--help`` (streamalert_cli/arguments.py) runs on the standard library alone, before ``.venv`` exists.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from streamalert.exceptions import StreamAlertError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = REPO_ROOT / "conf"
# The one rule of every script's exit codes, said at the end of each --help
EXIT_STATUS = (
    f"exit status: {EXIT_OK} done; {EXIT_FAILED} the config is invalid (every problem listed) or a step "
    f"failed; {EXIT_USAGE} a usage error, a missing or too old tool, or input that cannot be read (a "
    "missing config directory or file, malformed JSON)"
)


class UsageError(StreamAlertError):
    """The command cannot run as asked (exit 2)."""


class StepFailed(StreamAlertError):
    """A step of a command failed (exit 1); says which and why, and ``details``: lines printed as they are
    after that one (terraform's errors, whole)."""

    def __init__(self, step: str, reason: str, details: Sequence[str] = ()) -> None:
        super().__init__(f"{step} failed: {reason}")
        self.step = step
        self.reason = reason
        self.details = tuple(details)


# Errors that end any command with exit 2 (and ConfigFileError, reported by file); a command adds its own
# (a missing tool) through ``guarded``
USAGE_ERRORS: tuple[type[Exception], ...] = (UsageError,)


def add_config_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        metavar="DIR",
        help="directory holding global.json, lambda.json and logs.json (default: conf/ of this repository)",
    )


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or argparse's exit code (2 for usage errors, 0 for --help)."""
    return parse_with(lambda: parser.parse_args(argv))


def parse_with(read: Callable[[], argparse.Namespace]) -> argparse.Namespace | int:
    """What ``read`` parses (a command line with checks of its own beyond the parser's), or argparse's
    exit code (2 for usage errors, 0 for --help)."""
    try:
        return read()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def guarded(
    command: str,
    debug: bool,
    body: Callable[[], int],
    err: TextIO | None = None,
    *,
    usage_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Run a command's body; known errors become one line on stderr (an invalid config, one line per
    problem) and an exit code. ``usage_errors``: the command's own errors that mean exit 2."""
    from streamalert.config import ConfigError, ConfigValidationError  # marshmallow: not for --help

    stream = err or sys.stderr
    try:
        return body()
    except ConfigError as error:
        if debug and not isinstance(error, ConfigValidationError):
            raise
        return _report_config_error(command, error, stream)
    except (*USAGE_ERRORS, *usage_errors) as error:
        if debug:
            raise
        print(f"{command}: {_one_line(str(error))}", file=stream)
        return EXIT_USAGE
    except StepFailed as error:
        if debug:
            raise
        details = [f"  {line}".rstrip() for line in error.details]
        print("\n".join([f"{command}: {_one_line(str(error))}", *details]), file=stream)
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


def _report_config_error(command: str, error: Exception, stream: TextIO) -> int:
    """An invalid config: every problem, a line each (exit 1); an unreadable one: a line per file (exit 2);
    any other config error (a block the command needs is missing): one line (exit 1)."""
    from streamalert.config import ConfigFileError, ConfigValidationError

    if isinstance(error, ConfigValidationError):
        print(f"{command}: the config is invalid; nothing was changed:", file=stream)
        for line in error.lines:
            print(line, file=stream)
        return EXIT_FAILED
    if isinstance(error, ConfigFileError):
        for problem in error.problems or (str(error),):
            print(f"{command}: {_one_line(problem)}", file=stream)
        return EXIT_USAGE
    print(f"{command}: {_one_line(str(error))}", file=stream)
    return EXIT_FAILED


def _one_line(text: str) -> str:
    return " ".join(text.split())
