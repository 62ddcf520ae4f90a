"""``scripts/rollback --processor X [--yes]``: point the ``production`` alias back at the previous version.

Terraform owns the alias, so the rollback is an apply of the deployed zips with the previous version pinned
through the module's ``pinned_version`` variable, targeting the alias: there is no second writer. The next
``scripts/deploy`` points the alias at the newest version again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from streamalert import aws
from streamalert_cli.arguments import rollback_parser
from streamalert_cli.common import StepFailed, guarded, parse
from streamalert_cli.deployment import Deployment, Options, existing_deployment
from streamalert_cli.local_aws import LocalAws
from streamalert_cli.processors import Processor

COMMAND = "rollback"
LOCAL_REFUSAL = (
    "--local: the embedded emulator lives for one deploy run only, so no earlier version is left to roll "
    "back to; roll back deployments to AWS"
)


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(rollback_parser(prog), argv)
    if isinstance(args, int):
        return args
    options = Options.from_args(args)
    return guarded(prog, options.debug, lambda: rollback(options))


def rollback(options: Options, out: TextIO | None = None, local_aws: LocalAws | None = None) -> int:
    """Roll the selected processors back one version (``local_aws``: an emulator a test keeps running)."""
    with existing_deployment(
        COMMAND, options, local_refusal=LOCAL_REFUSAL, out=out, local_aws=local_aws
    ) as deployment:
        pins = _previous_versions(deployment)
        deployment.write_variables(deployment.deployed_package_variables(), pins)
        targets = [f"module.{p.module}.aws_lambda_alias.production" for p in deployment.selected]
        deployment.plan(targets)
        deployment.confirm("Roll back?")
        deployment.apply()
    for processor in deployment.selected:
        deployment.progress.say(f"{processor.cli_name}: alias production -> version {pins[processor.module]}")
    return 0


def _previous_versions(deployment: Deployment) -> dict[str, str]:
    with deployment.progress.step("find previous versions") as step:
        outputs = deployment.terraform.outputs()
        lambda_client = aws.client("lambda", deployment.aws_settings)
        pins = {}
        for processor in deployment.selected:
            current = (outputs.get(processor.module) or {}).get("alias_version")
            if not current:
                raise StepFailed("find previous versions", f"{processor.cli_name} is not deployed")
            pins[processor.module] = previous_version(lambda_client, processor, deployment, str(current))
        step.detail = ", ".join(f"{module} -> {version}" for module, version in pins.items())
    return pins


def previous_version(lambda_client: Any, processor: Processor, deployment: Deployment, current: str) -> str:
    """The newest published version older than ``current``."""
    name = processor.function_name(deployment.config.account.prefix)
    versions: list[int] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=name):
        versions.extend(int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit())
    older = [version for version in versions if version < int(current)]
    if not older:
        raise StepFailed(
            "find previous versions",
            f"version {current} is the oldest published version of {name}: nothing to roll back to",
        )
    return str(max(older))
