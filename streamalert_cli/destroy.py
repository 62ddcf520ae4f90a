"""``scripts/destroy --processor X [--yes]``: remove a deployment, keeping the protected data and catalog,
and every notification entry of the data buckets that it did not create.

A targeted ``terraform destroy`` of every resource of the selected modules except the protected ones (the
alerts bucket with its encryption and public-access settings, the Glue database and the alerts table), of
their EventBridge rules, and of the S3 notifications of the buckets only they configured. The protected
resources stay in the state, so a later deploy takes them up again; they also carry ``prevent_destroy``,
so no plan can remove them by accident. The source bucket (created by scripts/deploy) and the state bucket
are kept too.

Destroying an ``aws_s3_bucket_notification`` deletes the bucket's whole configuration, so a bucket whose
configuration holds anything else (entries of other consumers, EventBridge delivery, or another
processor's entries) is handed back instead, before anything is destroyed: its configuration is applied
again without the destroyed processors' entries, then, when no processor of the deployment is left on it,
the resource is removed from the state (``terraform state rm``) and the configuration stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from streamalert_cli.arguments import destroy_parser
from streamalert_cli.common import guarded, parse
from streamalert_cli.deployment import Deployment, Options, existing_deployment
from streamalert_cli.local_aws import LocalAws
from streamalert_cli.terraform.notifications import BucketNotification

COMMAND = "destroy"
LOCAL_REFUSAL = (
    "--local: the embedded emulator is gone when its deploy run ends, so there is nothing to destroy"
)
HAND_BACK_STEP = "hand back notifications"


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(destroy_parser(prog), argv)
    if isinstance(args, int):
        return args
    options = Options.from_args(args)
    return guarded(prog, options.debug, lambda: destroy(options))


@dataclass(frozen=True)
class HandBack:
    """Notification resources written again without the destroyed processors' entries (``apply``), and
    those of them then left to their bucket, out of the state (``forget``)."""

    apply: tuple[str, ...] = ()
    forget: tuple[str, ...] = ()


def destroy(options: Options, out: TextIO | None = None, local_aws: LocalAws | None = None) -> int:
    """Destroy the selected processors (``local_aws``: an emulator a test keeps running)."""
    with existing_deployment(
        COMMAND, options, local_refusal=LOCAL_REFUSAL, out=out, local_aws=local_aws, input_keys=False
    ) as deployment:
        addresses = deployment.terraform.state_addresses()
        hand_back = hand_back_plan(deployment, addresses)
        targets, kept = destroy_targets(deployment, addresses, hand_back)
        if not targets and not hand_back.apply:
            deployment.progress.say("nothing to destroy")
            return 0
        deployment.write_variables(deployment.deployed_package_variables())
        if hand_back.apply:
            _hand_back(deployment, hand_back)
        if targets:
            deployment.plan(targets, destroy=True)
            deployment.confirm("Destroy these resources?")
            deployment.apply()
    if kept:
        deployment.progress.say(f"kept (protected data and catalog): {', '.join(kept)}")
    return 0


def hand_back_plan(deployment: Deployment, addresses: Iterable[str]) -> HandBack:
    """Which notifications of the selected processors' buckets hold more than those processors' entries
    (``HandBack``): every one in the state but those of local stand-in buckets, which are destroyed."""
    modules = {processor.module for processor in deployment.selected}
    present = set(addresses)
    apply: list[str] = []
    forget: list[str] = []
    for notification in deployment.shared.notifications:
        address = _address(notification)
        if address not in present or not modules & set(notification.modules) or notification.stand_in:
            continue
        others = set(notification.modules) - modules
        if others or notification.kept or notification.eventbridge:
            apply.append(address)
            if not others:
                forget.append(address)
    return HandBack(apply=tuple(apply), forget=tuple(forget))


def _hand_back(deployment: Deployment, hand_back: HandBack) -> None:
    """Write the notifications again without the selected processors' entries, then forget those no
    processor of the deployment is left on: their buckets keep their configuration as it now is."""
    deployment.withdraw([processor.module for processor in deployment.selected])
    deployment.plan(list(hand_back.apply))
    deployment.confirm("Write these buckets' notifications without this deployment's entries?")
    deployment.apply()
    if hand_back.forget:
        with deployment.progress.step(HAND_BACK_STEP) as step:
            deployment.terraform.run("state", "rm", *hand_back.forget)
            step.detail = (
                f"{len(hand_back.forget)} bucket notification(s) left to their buckets: "
                + ", ".join(
                    resource.removeprefix("aws_s3_bucket_notification.") for resource in hand_back.forget
                )
            )


def destroy_targets(
    deployment: Deployment, addresses: Iterable[str], hand_back: HandBack | None = None
) -> tuple[list[str], list[str]]:
    """(what to destroy, what is kept) among the state's resource addresses: the selected modules'
    resources but the protected ones, their EventBridge rules, and the notifications of the buckets they
    read that are not handed back (``hand_back``)."""
    modules = {processor.module for processor in deployment.selected}
    protected = {
        f"module.{module}.{resource}"
        for module in modules
        for resource in deployment.module_contexts[module].protected
    }
    handed_back = set(hand_back.apply) if hand_back is not None else set()
    ours = set()
    for notification in deployment.shared.notifications:
        if modules & set(notification.modules):
            if _address(notification) not in handed_back:
                ours.add(_address(notification))
            if notification.stand_in:
                ours.add(f"aws_s3_bucket.{notification.stand_in}")
    for rule in deployment.shared.event_rules:
        if rule.module in modules:
            ours.add(f"aws_cloudwatch_event_rule.{rule.resource}")
            ours.add(f"aws_cloudwatch_event_target.{rule.resource}")
    targets: list[str] = []
    kept: list[str] = []
    for address in sorted(addresses):
        module = address.split(".")[1] if address.startswith("module.") else None
        if ".data." in f".{address}" or not (module in modules or address in ours):
            continue
        (kept if address in protected else targets).append(address)
    return targets, kept


def _address(notification: BucketNotification) -> str:
    return f"aws_s3_bucket_notification.{notification.resource}"
