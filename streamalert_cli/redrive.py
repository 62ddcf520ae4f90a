"""``scripts/redrive [--processor athena|alert] [--yes] [--max N]``: after a fix, move the messages of a
dead-letter queue back to the queue its function reads (the queues of the processor's registry entry).

Without ``--yes`` it only counts (a dry run); with it, every message is sent to the queue and deleted from
the dead-letter queue only once the queue accepted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from streamalert import aws
from streamalert.sqs import SqsQueue
from streamalert_cli.arguments import redrive_parser
from streamalert_cli.common import Progress, UsageError, guarded, parse, validate_config
from streamalert_cli.deployment import check_account
from streamalert_cli.processors import REDRIVE_CHOICES, by_name

COMMAND = "redrive"


@dataclass(frozen=True)
class RedriveOptions:
    processor: str
    yes: bool
    limit: int
    config_dir: Path
    debug: bool


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(redrive_parser(prog), argv)
    if isinstance(args, int):
        return args
    options = RedriveOptions(args.processor, args.yes, args.limit, args.config_dir, args.debug)
    return guarded(prog, options.debug, lambda: redrive(options))


def redrive(options: RedriveOptions, out: TextIO | None = None) -> int:
    queues = by_name(options.processor).queues
    if queues is None:
        raise UsageError(
            f"the {options.processor} processor reads no queue: choose from {', '.join(REDRIVE_CHOICES)}"
        )
    progress = Progress(COMMAND, out)
    config = validate_config(progress, options.config_dir)
    check_account(config, progress, verb="redrive")
    queue_name = queues.queue(config.account.prefix)
    dead_letter_name = queues.dead_letters(config.account.prefix)
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
