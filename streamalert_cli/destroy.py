"""``scripts/destroy --processor X [--yes]``: remove a deployment, keeping the protected data and catalog.

A targeted ``terraform destroy`` of every resource of the selected modules except the protected ones (the
alerts bucket with its encryption and public-access settings, the Glue database and the alerts table), and
of the S3 notifications of the buckets they read. The protected resources stay in the state, so a later
deploy takes them up again; they also carry ``prevent_destroy``, so no plan can remove them by accident.
The source bucket (created by scripts/deploy) and the state bucket are kept too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TextIO

from streamalert_cli.arguments import destroy_parser
from streamalert_cli.common import guarded, parse
from streamalert_cli.deployment import Deployment, Options, existing_deployment
from streamalert_cli.local_aws import LocalAws

COMMAND = "destroy"
LOCAL_REFUSAL = (
    "--local: the embedded emulator is gone when its deploy run ends, so there is nothing to destroy"
)


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(destroy_parser(prog), argv)
    if isinstance(args, int):
        return args
    options = Options.from_args(args)
    return guarded(prog, options.debug, lambda: destroy(options))


def destroy(options: Options, out: TextIO | None = None, local_aws: LocalAws | None = None) -> int:
    """Destroy the selected processors (``local_aws``: an emulator a test keeps running)."""
    with existing_deployment(
        COMMAND, options, local_refusal=LOCAL_REFUSAL, out=out, local_aws=local_aws, input_keys=False
    ) as deployment:
        addresses = deployment.terraform.state_addresses()
        targets, kept = destroy_targets(deployment, addresses)
        if not targets:
            deployment.progress.say("nothing to destroy")
            return 0
        deployment.write_variables(deployment.deployed_package_variables())
        deployment.plan(targets, destroy=True)
        deployment.confirm("Destroy these resources?")
        deployment.apply()
    if kept:
        deployment.progress.say(f"kept (protected data and catalog): {', '.join(kept)}")
    return 0


def destroy_targets(deployment: Deployment, addresses: Iterable[str]) -> tuple[list[str], list[str]]:
    """(what to destroy, what is kept) among the state's resource addresses."""
    modules = {processor.module for processor in deployment.selected}
    protected = {
        f"module.{module}.{resource}"
        for module in modules
        for resource in deployment.module_contexts[module].protected
    }
    ours = set()
    for notification in deployment.shared.notifications:
        if modules & set(notification.modules):
            ours.add(f"aws_s3_bucket_notification.{notification.resource}")
            if notification.stand_in:
                ours.add(f"aws_s3_bucket.{notification.stand_in}")
    targets: list[str] = []
    kept: list[str] = []
    for address in sorted(addresses):
        module = address.split(".")[1] if address.startswith("module.") else None
        if ".data." in f".{address}" or not (module in modules or address in ours):
            continue
        (kept if address in protected else targets).append(address)
    return targets, kept
