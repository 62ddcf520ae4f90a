"""``validate-config``: check ``conf/`` completely, without any AWS call, and print every error at once.

It runs under the guard every command shares (streamalert_cli.guard: exit codes, one line per known error,
``--debug``, the repository's ``conf/`` by default) and imports nothing of AWS.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from streamalert.config import load_config
from streamalert_cli.arguments import validate_config_parser
from streamalert_cli.guard import EXIT_OK, guarded, parse

COMMAND = "validate-config"


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(validate_config_parser(prog), argv)
    if isinstance(args, int):
        return args
    return guarded(prog, args.debug, lambda: validate(args.config_dir))


def validate(config_dir: Path, out: TextIO | None = None) -> int:
    """Validate the config directory: a success line on ``out`` (stdout), or the error the guard reports."""
    load_config(config_dir)
    print(f"config valid: {config_dir}", file=out or sys.stdout)
    return EXIT_OK
