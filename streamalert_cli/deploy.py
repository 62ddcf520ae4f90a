"""``scripts/deploy --processor {athena,rule,alert,all} [--local] [--plan] [--yes]``, or
``scripts/deploy --print-deployer-policy``: the IAM policy the deploy needs (streamalert_cli/terraform/
deployer_policy.py).

validate config -> (check the AWS account | start the local emulator) -> read the data buckets'
notifications (entries of others are kept; an overlap with ours stops here) -> render -> package -> upload ->
terraform init / plan / apply (which publishes a version and moves the ``production`` alias). With
``--local`` the pipeline is then proven: an alert object in, its partition (or statement) out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TextIO

from streamalert import aws
from streamalert_cli.arguments import deploy_parser
from streamalert_cli.common import Progress, UsageError, guarded, parse, validate_config
from streamalert_cli.deployment import Deployment, Options, bucket_exists, ensure_bucket
from streamalert_cli.local_aws import LocalAws
from streamalert_cli.processors import ALL, deployable
from streamalert_cli.terraform import context
from streamalert_cli.terraform.deployer_policy import print_deployer_policy

COMMAND = "deploy"
# Written only for a --plan before the first deploy; the next render removes it
FIRST_PLAN_OVERRIDE = "backend_override.tf"


def main(argv: Sequence[str] | None = None, prog: str = COMMAND) -> int:
    args = parse(deploy_parser(prog), argv)
    if isinstance(args, int):
        return args
    if args.print_deployer_policy:
        return guarded(prog, args.debug, lambda: print_deployer_policy(args.config_dir))
    options = Options.from_args(args)
    return guarded(prog, options.debug, lambda: deploy(options))


def deploy(options: Options, out: TextIO | None = None, local_aws: LocalAws | None = None) -> int:
    """Run every step; raises the errors ``guarded`` reports. ``local_aws``: an emulator already running
    (tests reuse one across commands); otherwise ``--local`` starts one and stops it at the end."""
    progress = Progress(COMMAND, out)
    if not (options.local or options.yes or options.plan_only or os.isatty(0)):
        raise UsageError("stdin is not a terminal: pass --yes to apply without confirmation (or --plan)")
    config = validate_config(progress, options.config_dir)
    deployment = Deployment(options, config, progress)
    _say_processors(deployment)
    with ExitStack() as stack:
        deployment.start_target(local_aws, stack)
        deployment.read_buckets()
        deployment.render()
        packages = deployment.package()
        if options.plan_only and not options.local:
            progress.say("upload: skipped (--plan)")
        else:
            deployment.upload(packages)
        deployment.write_variables(deployment.package_variables(packages))
        if not options.local:
            _prepare_state_bucket(deployment)
        deployment.init()
        deployment.plan(deployment.targets())
        if options.plan_only:
            print(deployment.plan_text(), file=progress.out)
            return 0
        deployment.confirm("Apply this plan?")
        deployment.apply()
        _report_versions(deployment)
        if options.local:
            from streamalert_cli.pipeline_check import prove_pipeline

            prove_pipeline(deployment, progress, packages)
    progress.say("done")
    return 0


def _prepare_state_bucket(deployment: Deployment) -> None:
    """Create the S3 backend's bucket (versioned) on the first deploy. A first ``--plan``, before the bucket
    exists, plans against an empty local state instead: that is what the first deploy will start from."""
    bucket, key = context.state_location(deployment.config)
    with deployment.progress.step("state bucket") as step:
        s3 = aws.s3_client(deployment.aws_settings)
        if deployment.options.plan_only:
            if bucket_exists(s3, bucket):
                step.detail = f"s3://{bucket}/{key}"
                return
            (deployment.workdir / FIRST_PLAN_OVERRIDE).write_text(
                'terraform {\n  backend "local" {\n    path = "first-plan.tfstate"\n  }\n}\n'
            )
            step.detail = f"s3://{bucket} does not exist yet: planning against an empty state"
            return
        created = ensure_bucket(s3, bucket, deployment.config.account.region)
        if created:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        step.detail = f"s3://{bucket}/{key}" + (" (bucket created, versioned)" if created else "")


def _say_processors(deployment: Deployment) -> None:
    """With ``--processor all``: which processors lambda.json configures, so which are deployed."""
    if deployment.options.processor == ALL:
        deployment.progress.say("processors: " + ", ".join(p.cli_name for p in deployable(deployment.config)))


def _report_versions(deployment: Deployment) -> None:
    outputs = deployment.terraform.outputs()
    for processor in deployment.selected:
        module = outputs.get(processor.module) or {}
        deployment.progress.say(
            f"{processor.cli_name}: {module.get('function_name')} alias production -> version "
            f"{module.get('alias_version')} (published {module.get('published_version')})"
        )
