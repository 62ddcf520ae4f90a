"""Every script's command line, built on the standard library alone: the wrappers in ``scripts/`` parse it
before ``.venv`` exists (``check_arguments``), so ``--help`` prints and a usage error exits 2 without
installing anything; the commands then parse it again with the same parsers. Each ``--help`` ends with the
exit codes every script follows (``streamalert_cli.guard.EXIT_STATUS``)."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable, Sequence
from pathlib import Path

from streamalert_cli.guard import EXIT_STATUS, REPO_ROOT, add_config_dir_argument, add_debug_argument
from streamalert_cli.processors import PROCESSOR_CHOICES, REDRIVE_CHOICES

DEFAULT_BUILD_ROOT = REPO_ROOT / "build"
# scripts/bench writes its results here; docs/bench/ holds the published ones (--publish)
BENCH_RESULTS_DIR = DEFAULT_BUILD_ROOT / "bench"
PUBLISHED_BENCH_DIR = REPO_ROOT / "docs" / "bench"


def command_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A script's parser: its description, and the exit codes every script follows as its epilog."""
    return argparse.ArgumentParser(prog=prog, description=description, epilog=EXIT_STATUS)


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    local: bool = True,
    processor_among: argparse._MutuallyExclusiveGroup | None = None,
) -> None:
    """The arguments of deploy, rollback and destroy; ``--processor`` is required, or one of the required
    group ``processor_among``."""
    (processor_among or parser).add_argument(
        "--processor", required=processor_among is None, choices=PROCESSOR_CHOICES, help="what to act on"
    )
    if local:
        parser.add_argument(
            "--local", action="store_true", help="use the embedded local AWS emulator instead of AWS"
        )
    parser.add_argument("--yes", action="store_true", help="apply without asking for confirmation")
    add_config_dir_argument(parser)
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD_ROOT,
        metavar="DIR",
        help="where rendered Terraform, zips and logs go (default: build/ of this repository)",
    )
    add_debug_argument(parser)


def deploy_parser(prog: str = "deploy") -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "Deploy StreamAlert functions with Terraform, to AWS or (--local) to an embedded emulator, whose "
        "pipeline it then proves.",
    )
    processor_or_policy = parser.add_mutually_exclusive_group(required=True)
    add_common_arguments(parser, processor_among=processor_or_policy)
    processor_or_policy.add_argument(
        "--print-deployer-policy",
        action="store_true",
        help="print the least-privilege IAM policy that deploying this config to AWS needs, and stop "
        "(no AWS call; docs/deploy.md, Credentials and permissions)",
    )
    parser.add_argument("--plan", action="store_true", help="stop after terraform plan")
    return parser


def rollback_parser(prog: str = "rollback") -> argparse.ArgumentParser:
    parser = command_parser(
        prog, "Point the production alias of a deployed function back at its previous version."
    )
    add_common_arguments(parser)
    return parser


def destroy_parser(prog: str = "destroy") -> argparse.ArgumentParser:
    parser = command_parser(
        prog, "Destroy a deployment, except the alerts bucket and the Glue database and tables."
    )
    add_common_arguments(parser)
    return parser


def redrive_parser(prog: str = "redrive") -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "Move dead-lettered messages back to their queue (a dry run unless --yes); messages left behind "
        "are a failed step.",
    )
    parser.add_argument(
        "--processor",
        choices=REDRIVE_CHOICES,
        default=REDRIVE_CHOICES[0],
        help=f"whose queue ({REDRIVE_CHOICES[0]})",
    )
    parser.add_argument("--yes", action="store_true", help="move the messages (without it: count only)")
    parser.add_argument(
        "--max", type=_positive, default=100_000, dest="limit", help="move at most N messages"
    )
    add_config_dir_argument(parser)
    add_debug_argument(parser)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return int(text)


def validate_config_parser(prog: str = "validate-config") -> argparse.ArgumentParser:
    parser = command_parser(
        prog, "Validate global.json, lambda.json and logs.json (when present) without calling AWS."
    )
    add_config_dir_argument(parser)
    add_debug_argument(parser)
    return parser


def bootstrap_parser(prog: str = "bootstrap") -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "Create .venv on the functions' Python and install the project into it (what every script "
        "does on its first run).",
    )
    parser.add_argument("--dev", action="store_true", help="install the test, lint and type tools too")
    return parser


def bench_parser(prog: str = "bench") -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "Benchmark the Athena Partition Refresh on the embedded emulator: its AWS calls beside their lower "
        "bounds, the catalog size, the throughput, the latency tier (the drain and the event-source "
        "handler at 15 ms a call) and the cold start. A call count over its bound is a failed step.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where results.md and results.png go (default: build/bench/ of this repository)",
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write them to docs/bench/, the results the docs show (a full run only)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--skip-scale", action="store_true", help="no run with 100,000 catalog partitions")
    parser.add_argument("--skip-cold-start", action="store_true", help="no import timing or package build")
    parser.add_argument(
        "--skip-latency", action="store_true", help="no latency tier (the drain and handler at 15 ms a call)"
    )
    parser.add_argument(
        "--latency-serial-full",
        action="store_true",
        help="the latency tier drains 100,000 messages serially too (about 6 minutes more)",
    )
    return parser


def bench_arguments(argv: Sequence[str] | None, prog: str = "bench") -> argparse.Namespace:
    """bench's arguments, with ``results``: the folder they go to. ``--publish`` takes a full run and no
    ``--out`` (a usage error otherwise), so docs/bench/ changes only when asked and never partly."""
    parser = bench_parser(prog)
    args = parser.parse_args(argv)
    partial = [
        flag for flag in ("quick", "skip_scale", "skip_cold_start", "skip_latency") if getattr(args, flag)
    ]
    if args.publish and partial:
        flags = ", ".join("--" + flag.replace("_", "-") for flag in partial)
        parser.error(f"--publish replaces the docs' results, which are of a full run: not with {flags}")
    if args.publish and args.out is not None:
        parser.error("--publish writes docs/bench/: not with --out")
    args.results = args.out or (PUBLISHED_BENCH_DIR if args.publish else BENCH_RESULTS_DIR)
    return args


def backfill_parser(prog: str = "backfill") -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "Register the partitions of data already in the source buckets (written before the deploy, or whose "
        "messages expired or were dead-lettered): only those the catalog lacks, through each table's "
        "refresh type. A rejected folder or a partition not registered is a failed step; a second run "
        "registers nothing, and an interrupted run resumes by running it again.",
    )
    parser.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="T",
        help="a configured table to backfill (repeat for more; default: every configured table)",
    )
    parser.add_argument(
        "--since", type=_date, metavar="YYYY-MM-DD", help="only partitions of this day or later (by dt)"
    )
    parser.add_argument(
        "--until", type=_date, metavar="YYYY-MM-DD", help="only partitions of this day or earlier (by dt)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be registered; write nothing to the catalog"
    )
    add_config_dir_argument(parser)
    add_debug_argument(parser)
    return parser


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text) if len(text) == 10 else _bad_date(text)
    except ValueError:
        return _bad_date(text)


def _bad_date(text: str) -> datetime.date:
    raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}")


def backfill_arguments(argv: Sequence[str] | None, prog: str = "backfill") -> argparse.Namespace:
    """backfill's arguments; ``--since`` after ``--until`` is a usage error."""
    parser = backfill_parser(prog)
    args = parser.parse_args(argv)
    if args.since and args.until and args.since > args.until:
        parser.error(f"--since {args.since} is after --until {args.until}")
    return args


CommandLine = Callable[[Sequence[str] | None, str], argparse.Namespace]


def _parsed_by(build: Callable[[str], argparse.ArgumentParser]) -> CommandLine:
    return lambda argv, prog: build(prog).parse_args(argv)


# Each script by its name in scripts/
COMMAND_LINES: dict[str, CommandLine] = {
    "deploy": _parsed_by(deploy_parser),
    "rollback": _parsed_by(rollback_parser),
    "destroy": _parsed_by(destroy_parser),
    "redrive": _parsed_by(redrive_parser),
    "validate-config": _parsed_by(validate_config_parser),
    "bootstrap": _parsed_by(bootstrap_parser),
    "bench": bench_arguments,
    "backfill": backfill_arguments,
}


def check_arguments(command: str, argv: Sequence[str], prog: str | None = None) -> None:
    """Parse a script's arguments before its environment is set up: ``--help`` prints and exits 0, a usage
    error exits 2 (argparse's SystemExit); otherwise it returns, for the script to set up and run."""
    COMMAND_LINES[command](argv, prog or command)
