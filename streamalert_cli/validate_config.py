"""``validate-config``: check ``conf/`` completely, without any AWS call, and print every error at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from streamalert.config import ConfigFileError, ConfigValidationError, load_config

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``validate-config [--config-dir DIR] [--debug]``."""
    parser = argparse.ArgumentParser(
        prog="validate-config",
        description="Validate global.json, lambda.json and logs.json (when present) without calling AWS. "
        "Exit 0 when valid, 1 when invalid, 2 on usage errors or unreadable input.",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=Path("conf"),
        metavar="DIR",
        help="directory holding global.json, lambda.json and logs.json (default: conf, relative to the cwd)",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback for unexpected errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Validate the config directory; errors go to stderr one a line, a success line to stdout."""
    args = build_parser().parse_args(argv)
    try:
        load_config(args.config_dir)
    except ConfigFileError as err:
        _print_errors(err.problems)
        return EXIT_UNREADABLE
    except ConfigValidationError as err:
        _print_errors(err.lines)
        return EXIT_INVALID
    except Exception as err:
        if args.debug:
            raise
        print(
            f"validate-config: unexpected error: {type(err).__name__}: {err} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    print(f"config valid: {args.config_dir}")
    return EXIT_OK


def _print_errors(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)
