"""``scripts/redrive [--processor athena|alert] [--yes] [--max N]``: after a fix, move the messages of a
dead-letter queue back to the queue its function reads.

Without ``--yes`` it only counts (a dry run); with it, every message is sent to the queue and deleted from
the dead-letter queue only once the queue accepted it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from streamalert import aws
from streamalert.constants import (
    alerts_dead_letter_queue_name,
    alerts_queue_name,
    athena_dead_letter_queue_name,
    athena_queue_name,
)
from streamalert.sqs import SqsQueue
from streamalert_cli.common import REPO_ROOT, Progress, guarded, parse, validate_config
from streamalert_cli.deployment import check_account

COMMAND = "redrive"

# The functions fed by a queue with a dead-letter queue: CLI name -> (queue, dead-letter queue) names
QUEUES: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "athena": (athena_queue_name, athena_dead_letter_queue_name),
    "alert": (alerts_queue_name, alerts_dead_letter_queue_name),
}


@dataclass(frozen=True)
class RedriveOptions:
    processor: str
    yes: bool
    limit: int
    config_dir: Path
    debug: bool


def build_parser(prog: str = COMMAND) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Move dead-lettered messages back to their queue (a dry run unless --yes). "
        "Exit 0 when done, 1 when a step failed or messages were left behind, 2 on usage errors.",
    )
    parser.add_argument("--processor", choices=sorted(QUEUES), default="athena", help="whose queue (athena)")
    parser.add_argument("--yes", action="store_true", help="move the messages (without it: count only)")
    parser.add_argument(
        "--max", type=_positive, default=100_000, dest="limit", help="move at most N messages"
    )
    parser.add_argument(
        "--config-dir", type=Path, default=REPO_ROOT / "conf", metavar="DIR", help="the config (conf/)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(build_parser(prog), argv)
    if isinstance(args, int):
        return args
    options = RedriveOptions(args.processor, args.yes, args.limit, args.config_dir, args.debug)
    return guarded(prog, options.debug, lambda: redrive(options))


def redrive(options: RedriveOptions, out: TextIO | None = None) -> int:
    progress = Progress(COMMAND, out)
    config = validate_config(progress, options.config_dir)
    check_account(config, progress, verb="redrive")
    queue_name, dead_letter_name = (name(config.account.prefix) for name in QUEUES[options.processor])
    sqs = aws.sqs_client(aws.AwsSettings(region=config.account.region))
    with progress.step("find queues") as step:
        queue = SqsQueue.from_name(sqs, queue_name)
        dead_letters = SqsQueue.from_name(sqs, dead_letter_name)
        waiting = dead_letters.approximate_depth()
        step.detail = f"{dead_letter_name} holds about {waiting} messages"
    if not options.yes:
        progress.say(
            f"dry run: would move up to {min(waiting, options.limit)} messages to {queue_name}; --yes moves"
        )
        return 0
    with progress.step("move messages") as step:
        moved, left = dead_letters.move_to(queue, options.limit)
        step.detail = f"{moved} moved to {queue_name}, {left} left in {dead_letter_name}"
    return 1 if left else 0
