"""One deployment run: the chosen processors, their build directory, and the steps deploy, rollback and
destroy share (render, package, upload, terraform init / plan / apply)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import boto3

from config_schemas.models import BucketKey, Config
from streamalert import aws
from streamalert_cli.bucket_notifications import read_bucket_states
from streamalert_cli.common import Progress, StepFailed, UsageError, validate_config
from streamalert_cli.local_aws import LocalAws
from streamalert_cli.packaging import Package, build_package, human_size
from streamalert_cli.preflight import STEP as PREFLIGHT_STEP
from streamalert_cli.preflight import (
    NamedResources,
    Preflight,
    PreflightError,
    PreflightReport,
    named_resources,
)
from streamalert_cli.processors import PROCESSORS, Processor, deployable, select
from streamalert_cli.terraform import context, render
from streamalert_cli.terraform.progress import watch
from streamalert_cli.terraform.runner import Terraform

PLAN_FILE = "deploy.tfplan"
VARS_FILE = "deploy.tfvars.json"
STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup")
KEYS_STEP = "input bucket keys"
NOTIFICATIONS_STEP = "bucket notifications"


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    processor: str
    local: bool
    yes: bool
    config_dir: Path
    build_root: Path
    debug: bool = False
    plan_only: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        """The options of a parsed command line (``add_common_arguments``, and ``--plan`` where it exists)."""
        return cls(
            processor=args.processor,
            local=args.local,
            yes=args.yes,
            config_dir=args.config_dir,
            build_root=args.build_dir,
            debug=args.debug,
            plan_only=getattr(args, "plan", False),
        )


class AccountMismatchError(StepFailed):
    """The credentials are not those of the account or region of global.json."""


class Deployment:
    """The processors one command acts on, in the build directory of its target (local or AWS)."""

    def __init__(self, options: Options, config: Config, progress: Progress) -> None:
        self.options = options
        self.config = config
        self.progress = progress
        self.selected: tuple[Processor, ...] = select(options.processor, config)
        self.modules: tuple[Processor, ...] = deployable(config)
        self.target = context.DeployTarget(local=options.local)
        self.workdir = options.build_root / "terraform" / ("local" if options.local else "aws")
        self.package_dir = options.build_root / "packages"
        self.terraform = Terraform.locate(render.check_build_dir(self.workdir))
        self.endpoint = ""
        self.module_contexts = {
            m.module: m for m in render.module_contexts(config, self.modules, self.target)
        }
        self.shared = self._shared_context("render terraform")  # before any AWS call

    def _shared_context(self, step: str) -> context.SharedContext:
        """The root module's context for the target; StepFailed when entries of a bucket overlap (S3
        would refuse the configuration at apply)."""
        try:
            return context.shared_context(self.config, self.target, tuple(self.module_contexts.values()))
        except context.NotificationConflictError as err:
            raise StepFailed(step, str(err)) from err

    @property
    def aws_settings(self) -> aws.AwsSettings:
        return aws.AwsSettings(region=self.config.account.region)

    @property
    def source_bucket(self) -> str:
        return context.source_bucket(self.config)

    def check_account(self) -> None:
        check_account(self.config, self.progress)

    def preflight(self) -> None:
        """Before any plan on AWS: what the config names and the deployment does not create must be there,
        every problem told at once (PreflightError); the rule processor's policy then grants kms:Decrypt on
        the keys of its input buckets."""
        with self.progress.step(PREFLIGHT_STEP) as step:
            report = self._preflight().check(self.named_resources(), self._configured_keys())
            if report.problems:
                raise PreflightError(report.problems)
            self._take_keys(report)
            step.detail = report.summary
        for note in report.notes:
            self.progress.say(f"{PREFLIGHT_STEP}: {note}")

    def read_input_keys(self) -> None:
        """The KMS keys of the rule processor's input buckets only (a rollback renders its policy again)."""
        named = self.named_resources()
        if not any(bucket.objects_read for bucket in named.buckets):
            return
        with self.progress.step(KEYS_STEP) as step:
            report = self._preflight().keys_only(named, self._configured_keys())
            if report.problems:
                raise PreflightError(report.problems, KEYS_STEP)
            self._take_keys(report)
            step.detail = report.summary

    def named_resources(self) -> NamedResources:
        """What the selected processors need that the deployment does not create."""
        created = {bucket for module in self.module_contexts.values() for bucket in module.owned_buckets}
        created |= {self.source_bucket, context.state_location(self.config)[0]}
        return named_resources(self.config, {p.module for p in self.selected}, created)

    def _preflight(self) -> Preflight:
        return Preflight.for_account(self.config.account)

    def _configured_keys(self) -> tuple[BucketKey, ...]:
        block = self.config.rule_processor
        return block.inputs.kms_keys if block is not None else ()

    def _take_keys(self, report: PreflightReport) -> None:
        self.target = replace(self.target, input_keys=tuple(sorted(set(report.input_keys))))

    def read_buckets(self) -> None:
        """Before rendering: what the data buckets' notification configurations hold that the deployment
        did not create (kept, rendered again), whether EventBridge delivery is on, and locally which
        buckets are stand-ins. StepFailed, before any change, when an entry of another consumer overlaps
        one of the deployment's or a bucket cannot be read."""
        buckets = [notification.bucket for notification in self.shared.notifications]
        if not buckets:
            return
        with self.progress.step(NOTIFICATIONS_STEP) as step:
            states = read_bucket_states(
                aws.s3_client(self.aws_settings),
                buckets,
                self.config.account.prefix,
                {processor.module for processor in PROCESSORS},
                local=self.options.local,
            )
            self.target = replace(self.target, buckets=states)
            self.shared = self._shared_context(NOTIFICATIONS_STEP)
            kept = sum(len(notification.kept) for notification in self.shared.notifications)
            delivering = sum(state.eventbridge for state in states)
            step.detail = (
                f"{len(buckets)} bucket(s), {len(states)} there: {kept} entry(ies) of others kept"
                + (f", EventBridge delivery on for {delivering}" if delivering else "")
            )

    def withdraw(self, modules: Sequence[str]) -> None:
        """Render the buckets' notifications without the entries of ``modules`` (destroy hands the
        buckets back so): the kept entries and the other modules' stay."""
        self.target = replace(self.target, withdrawn=tuple(modules))
        self.shared = self._shared_context(NOTIFICATIONS_STEP)
        self.render()

    def render(self) -> None:
        with self.progress.step("render terraform") as step:
            files = render.render_files(self.config, self.target, self.modules)
            render.write_files(files, self.workdir)
            self.terraform.fmt()
            step.detail = f"{len(files)} files in {self.workdir}"

    def package(self) -> dict[str, Package]:
        packages = {}
        for processor in self.modules:
            with self.progress.step(f"package {processor.cli_name}") as step:
                package = build_package(processor, self.options.config_dir, self.package_dir)
                step.detail = (
                    f"{package.path.name} {human_size(package.size)}, {package.entries} files, "
                    f"sha256 {package.sha256_hex[:12]}"
                )
            packages[processor.module] = package
        return packages

    def upload(self, packages: Mapping[str, Package]) -> None:
        """Put each zip in the source bucket (created when missing) unless it is there already."""
        with self.progress.step("upload") as step:
            s3 = aws.s3_client(self.aws_settings)
            ensure_bucket(s3, self.source_bucket, self.config.account.region)
            uploaded = []
            for package in packages.values():
                if not object_exists(s3, self.source_bucket, package.key):
                    s3.upload_file(str(package.path), self.source_bucket, package.key)
                    uploaded.append(package.key)
            step.detail = f"{len(uploaded)} of {len(packages)} zips uploaded to s3://{self.source_bucket}" + (
                "" if uploaded else " (unchanged)"
            )

    def package_variables(self, packages: Mapping[str, Package]) -> dict[str, dict[str, str]]:
        return {
            module: {"bucket": self.source_bucket, "key": package.key, "sha256": package.sha256_base64}
            for module, package in packages.items()
        }

    def write_variables(
        self, package_vars: Mapping[str, Mapping[str, str]], pins: Mapping[str, str] | None = None
    ) -> None:
        """The run's values: package locations, pinned versions, and the emulator's endpoint."""
        values: dict[str, Any] = {}
        if self.options.local:
            values["local_endpoint"] = self.endpoint
        for processor in self.modules:
            values[f"{processor.module}_package"] = dict(package_vars[processor.module])
            values[f"{processor.module}_pinned_version"] = (pins or {}).get(processor.module, "")
        (self.workdir / VARS_FILE).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")

    def forget_local_state(self) -> None:
        """A new emulator starts empty: state from an earlier local run describes nothing."""
        for name in STATE_FILES:
            (self.workdir / name).unlink(missing_ok=True)

    def init(self) -> None:
        with self.progress.step("terraform init") as step, watch(self.progress, "init") as on_event:
            self.terraform.init(on_event)
            step.detail = (
                "local state"
                if self.options.local
                else "S3 backend " + "/".join(context.state_location(self.config))
            )

    def targets(self) -> list[str]:
        """The selected modules, the notifications of the buckets they read and their EventBridge rules
        (nothing of the others)."""
        modules = {processor.module for processor in self.selected}
        targets = [f"module.{module}" for module in sorted(modules)]
        for notification in self.shared.notifications:
            if modules & set(notification.modules):
                targets.append(f"aws_s3_bucket_notification.{notification.resource}")
        for rule in self.shared.event_rules:
            if rule.module in modules:
                targets.append(f"aws_cloudwatch_event_rule.{rule.resource}")
                targets.append(f"aws_cloudwatch_event_target.{rule.resource}")
        return targets

    def plan(self, targets: Sequence[str], destroy: bool = False) -> None:
        """Plan into the plan file (``plan_text`` shows it)."""
        with self.progress.step("terraform plan") as step, watch(self.progress, "plan") as on_event:
            outcome = self.terraform.plan(PLAN_FILE, targets, VARS_FILE, destroy=destroy, on_event=on_event)
            step.detail = outcome.summary or "planned"
        if not destroy:
            self._say_kept(targets)

    def _say_kept(self, targets: Sequence[str]) -> None:
        """The entries of others that the planned notifications keep, one line each."""
        for notification in self.shared.notifications:
            if f"aws_s3_bucket_notification.{notification.resource}" not in targets:
                continue
            for entry in notification.kept:
                self.progress.say(f"kept: {entry.id} -> {entry.arn} (s3://{notification.bucket})")

    def plan_text(self) -> str:
        """The plan file as terraform shows it to people."""
        return self.terraform.show(PLAN_FILE)

    def apply(self) -> None:
        """Apply the plan file, a line (or on a terminal, a bar) per resource as terraform finishes it."""
        with self.progress.step("terraform apply") as step, watch(self.progress, "apply") as on_event:
            outcome = self.terraform.apply(PLAN_FILE, on_event)
            step.detail = outcome.summary or "applied"

    def start_target(self, local_aws: LocalAws | None, stack: ExitStack, *, preflight: bool = True) -> None:
        """Point the run at its target: the emulator (``local_aws``, or one started for this run and
        stopped with ``stack``), or AWS once the credentials are checked (and, with ``preflight``, what
        the config names)."""
        if not self.options.local:
            self.check_account()
            if preflight:
                self.preflight()
            return
        if local_aws is not None:
            self.endpoint = local_aws.endpoint
            return
        self.forget_local_state()
        account = self.config.account
        with self.progress.step("start local AWS") as step:
            local = LocalAws(account.aws_account_id, account.region)
            self.endpoint = local.start()
            stack.callback(local.stop)
            step.detail = f"moto at {self.endpoint}, account {account.aws_account_id}"

    def deployed_package_variables(self) -> dict[str, dict[str, str]]:
        """The zips the state says are deployed; a module never deployed gets a fresh (unuploaded) build,
        which only fills its variables: rollback and destroy never apply it."""
        outputs = self.terraform.outputs()
        missing = [p for p in self.modules if not (outputs.get(p.module) or {}).get("package")]
        fresh = self.package_variables(
            {p.module: build_package(p, self.options.config_dir, self.package_dir) for p in missing}
        )
        deployed = {p.module: dict(outputs[p.module]["package"]) for p in self.modules if p not in missing}
        return {**fresh, **deployed}

    def confirm(self, question: str) -> None:
        """Show the plan and ask on a terminal unless ``--yes`` or local; refuse without a terminal."""
        if self.options.yes or self.options.local:
            return
        print(self.plan_text(), file=self.progress.out)
        if not os.isatty(0):
            raise UsageError("stdin is not a terminal: pass --yes to apply without confirmation")
        answer = input(f"{question} [y/N] ").strip().lower()
        if answer not in {"y", "yes"}:
            raise StepFailed("confirm", "not confirmed: nothing was applied")


@contextmanager
def existing_deployment(
    command: str,
    options: Options,
    *,
    local_refusal: str,
    out: TextIO | None = None,
    local_aws: LocalAws | None = None,
    input_keys: bool = True,
) -> Iterator[Deployment]:
    """A deployment that already exists, ready for a targeted plan (rollback, destroy): its config
    validated, its target reached, its Terraform rendered and initialised on the deployed state. With
    ``input_keys``, the rule processor's policy keeps kms:Decrypt on its buckets' keys (read as the deploy
    reads them); a destroy, which applies no policy, passes False.

    ``--local`` is refused (``local_refusal`` says why) unless ``local_aws``, an emulator a test keeps
    running across commands, is given: the embedded emulator lives for one deploy run only."""
    if options.local and local_aws is None:
        raise UsageError(local_refusal)
    progress = Progress(command, out)
    deployment = Deployment(options, validate_config(progress, options.config_dir), progress)
    with ExitStack() as stack:
        deployment.start_target(local_aws, stack, preflight=False)
        if input_keys and not options.local:
            deployment.read_input_keys()
        deployment.read_buckets()
        deployment.render()
        deployment.init()
        yield deployment


def check_account(config: Config, progress: Progress, verb: str = "deploy") -> None:
    """Refuse credentials of another account, or a session region other than global.json's."""
    account = config.account
    with progress.step("check AWS account") as step:
        session_region = boto3.session.Session().region_name
        if session_region and session_region != account.region:
            raise AccountMismatchError(
                "check AWS account",
                f"the AWS session's region is {session_region} but global.json says {account.region}",
            )
        identity = aws.client("sts", aws.AwsSettings(region=account.region)).get_caller_identity()
        if identity["Account"] != account.aws_account_id:
            raise AccountMismatchError(
                "check AWS account",
                f"the credentials are of account {identity['Account']} but global.json says "
                f"{account.aws_account_id}: refusing to {verb}",
            )
        step.detail = f"account {account.aws_account_id}, region {account.region} ({identity['Arn']})"


def bucket_exists(s3: Any, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket", "NotFound"}:
            return False
        raise
    return True


def ensure_bucket(s3: Any, name: str, region: str) -> bool:
    """Create a private, encrypted bucket when it does not exist; True when it was created."""
    if bucket_exists(s3, name):
        return False
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return True


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True
