#!/usr/bin/env python3
"""``python manage.py lambda {deploy,rollback,destroy} --processor X ...``: the same code paths as
scripts/deploy, scripts/rollback and scripts/destroy, under the command names of the original docs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The --processor choices are the registry's (streamalert_cli/processors.py), listed by each action's --help;
# that and this usage are printed before the environment is set up, on the standard library alone
USAGE = (
    "usage: python manage.py lambda {deploy,rollback,destroy} --processor PROCESSOR [...]\n"
    "       python manage.py lambda deploy --help  (lists the processors)"
)
ACTIONS = ("deploy", "rollback", "destroy")


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or argv[0] != "lambda" or argv[1] not in ACTIONS:
        if argv[:1] in (["-h"], ["--help"]):
            from streamalert_cli.guard import EXIT_STATUS

            print(f"{USAGE}\n\n{EXIT_STATUS}")
            return 0
        print(USAGE, file=sys.stderr)
        return 2
    from streamalert_cli.arguments import check_arguments
    from streamalert_cli.bootstrap import ensure_environment

    action, rest = argv[1], list(argv[2:])
    prog = f"manage.py lambda {action}"
    check_arguments(action, rest, prog)  # --help and usage errors end here, before .venv is set up
    ensure_environment(__file__, list(argv))
    if action == "deploy":
        from streamalert_cli.deploy import main as deploy

        return deploy(rest, prog=prog)
    if action == "rollback":
        from streamalert_cli.rollback import main as rollback

        return rollback(rest, prog=prog)
    from streamalert_cli.destroy import main as destroy

    return destroy(rest, prog=prog)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
