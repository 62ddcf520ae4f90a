"""Before ``terraform plan`` on AWS: what the config names but the deployment does not create (input and
data buckets, Kinesis streams, Athena tables other than ``alerts``) is checked with read-only calls, and
every problem is told at once with what to do, before anything is planned or applied. The same pass reads
the KMS keys that encrypt the rule processor's input buckets (their default encryption), which its policy
must let it decrypt with.

The local target needs none of it: the emulator gets a stand-in for each bucket and stream
(``StandInBucket``, the rule processor's local streams), and its buckets are not encrypted with KMS.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from config_schemas.files import LAMBDA_FILE
from config_schemas.lambda_config import (
    ATHENA_BLOCK,
    INPUTS_KEY,
    KMS_KEYS_KEY,
    REFRESH_TYPE_KEY,
    RULE_PROCESSOR_BLOCK,
)
from config_schemas.models import Account, BucketKey, Config, RefreshType
from config_schemas.tables_config import TABLES_KEY
from streamalert import aws
from streamalert_cli.guard import StepFailed
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.context import aws_partition
from streamalert_cli.terraform.tables import ALERTS_TABLE

STEP = "preflight"
RULE_INPUTS = f"{LAMBDA_FILE} {RULE_PROCESSOR_BLOCK}.{INPUTS_KEY}"
RULE_KEYS = f"{RULE_INPUTS}.{KMS_KEYS_KEY}"
TABLES_PLACE = f"{LAMBDA_FILE} {ATHENA_BLOCK}.{TABLES_KEY}"
# S3 answers these for a bucket that does not exist, or that these credentials may not see
_NOT_FOUND = {"404", "NoSuchBucket", "NotFound"}
_DENIED = {"403", "AccessDenied", "AccessDeniedException", "Forbidden", "AllAccessDisabled"}
_NO_DEFAULT_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
_KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}
# Aliases under alias/aws/ name AWS managed keys, whose key policy lets the account use them through S3
_AWS_MANAGED_ALIAS = "alias/aws/"
_RULE_MODULE = by_name("rule").module
_REFRESH_MODULE = by_name("athena").module


class PreflightError(StepFailed):
    """What the config names is missing or unusable: every problem, one line each, with what to do."""

    def __init__(self, problems: Sequence[str], step: str = STEP) -> None:
        count = _count(len(problems), "problem")
        super().__init__(
            step,
            f"{count} with what the config names and the deployment does not create; nothing was planned "
            "or applied",
            problems,
        )


@dataclass(frozen=True)
class NamedBucket:
    """A bucket the config names (``named_in``: where) that the deployment does not create.
    ``objects_read``: the rule processor reads its objects, so its KMS key matters."""

    name: str
    named_in: tuple[str, ...]
    objects_read: bool


@dataclass(frozen=True)
class NamedTable:
    """A table of a refresh route that the deployment does not create, and the sources that fill it.
    ``partition_keys``: what its declared layout gives (``tables`` of the refresh block), () when none is
    declared; the table's own keys must be these."""

    database: str
    name: str
    named_in: str
    locations: tuple[str, ...]
    partition_keys: tuple[str, ...] = ()
    layout: str = ""


@dataclass(frozen=True)
class NamedResources:
    """Everything the selected processors need and the deployment does not create."""

    buckets: tuple[NamedBucket, ...] = ()
    streams: tuple[str, ...] = ()
    tables: tuple[NamedTable, ...] = ()


def named_resources(
    config: Config, modules: Collection[str], created_buckets: Collection[str]
) -> NamedResources:
    """What the config names for the processors of ``modules`` (module names) that is not created by the
    deployment: neither one of ``created_buckets`` (every module's own, the source and state buckets) nor
    the alerts table, which the Athena module creates."""
    places: dict[str, list[str]] = {}
    read: set[str] = set()
    streams: tuple[str, ...] = ()
    tables: list[NamedTable] = []
    rule = config.rule_processor
    if rule is not None and _RULE_MODULE in modules:
        for bucket in rule.buckets:
            places.setdefault(bucket, []).append(f"{RULE_INPUTS}.s3")
            read.add(bucket)
        streams = tuple(sorted(rule.inputs.kinesis))
    refresh = config.athena_refresh
    if refresh is not None and _REFRESH_MODULE in modules:
        for route in refresh.routes:
            where = _refresh_place(route.refresh_type)
            if where not in places.setdefault(route.source.bucket, []):
                places[route.source.bucket].append(where)
        for table in refresh.tables:
            declared = refresh.declared(table)
            if table == ALERTS_TABLE or (declared is not None and not declared.existing):
                continue  # the deploy creates it
            routes = [route for route in refresh.routes if route.table == table]
            layout = declared.layout if declared is not None else None
            tables.append(
                NamedTable(
                    database=refresh.database_name,
                    name=table,
                    named_in=_refresh_place(routes[0].refresh_type),
                    locations=tuple(f"s3://{route.source}/" for route in routes),
                    partition_keys=declared.partition_keys if declared is not None and layout else (),
                    layout=layout.value if layout is not None else "",
                )
            )
    buckets = tuple(
        NamedBucket(name, tuple(where), name in read)
        for name, where in sorted(places.items())
        if name not in created_buckets
    )
    return NamedResources(buckets=buckets, streams=streams, tables=tuple(tables))


@dataclass
class PreflightReport:
    """What the checks found: ``problems`` stop the deploy, ``notes`` are said; ``input_keys``: the KMS keys
    of the rule processor's input buckets, as their default encryption names them."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    input_keys: list[BucketKey] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        found = ", ".join(self.checked) or "nothing to check"
        keys = sorted({key.key_arn for key in self.input_keys})
        return found + (f"; the rule processor decrypts with {', '.join(keys)}" if keys else "")


class Preflight:
    """The read-only checks, with the clients they call (``for_account`` builds them)."""

    def __init__(self, account: Account, s3: Any, kinesis: Any, glue: Any, kms: Any) -> None:
        self.account = account
        self.s3 = s3
        self.kinesis = kinesis
        self.glue = glue
        self.kms = kms

    @classmethod
    def for_account(cls, account: Account) -> Preflight:
        settings = aws.AwsSettings(region=account.region)
        return cls(
            account,
            aws.s3_client(settings),
            aws.client("kinesis", settings),
            aws.glue_client(settings),
            aws.client("kms", settings),
        )

    def check(self, named: NamedResources, configured_keys: Iterable[BucketKey] = ()) -> PreflightReport:
        """Every check, every problem: buckets (there, in the account and region, readable, and the KMS
        key of each the rule processor reads), streams, tables."""
        report = PreflightReport()
        keyed = {key.bucket for key in configured_keys}
        usable = [bucket for bucket in named.buckets if self._bucket_usable(bucket, report)]
        for bucket in usable:
            if bucket.objects_read:
                self._read_key(bucket.name, bucket.name in keyed, report)
        for stream in named.streams:
            self._check_stream(stream, report)
        self._check_tables(named.tables, report)
        counts = {"bucket": len(named.buckets), "stream": len(named.streams), "table": len(named.tables)}
        report.checked = [_count(number, what) for what, number in counts.items() if number]
        return report

    def keys_only(self, named: NamedResources, configured_keys: Iterable[BucketKey] = ()) -> PreflightReport:
        """The KMS keys of the buckets the rule processor reads, for a command that renders its policy
        again (a rollback): a bucket gone or unusable has no key to read and is not a problem here."""
        report = PreflightReport()
        keyed = {key.bucket for key in configured_keys}
        for bucket in named.buckets:
            if bucket.objects_read and self._bucket_usable(bucket, PreflightReport()):
                self._read_key(bucket.name, bucket.name in keyed, report)
        report.checked = [_count(len(report.input_keys), "KMS key")]
        return report

    def _bucket_usable(self, bucket: NamedBucket, report: PreflightReport) -> bool:
        """The bucket exists, these credentials may read it, and it is in the deployment's region."""
        account, region = self.account.aws_account_id, self.account.region
        remove = f"or remove it from {_or(bucket.named_in)}"
        try:
            self.s3.head_bucket(Bucket=bucket.name, ExpectedBucketOwner=account)
            location = self.s3.get_bucket_location(Bucket=bucket.name, ExpectedBucketOwner=account)
        except ClientError as err:
            code = _code(err)
            if code in _NOT_FOUND:
                report.problems.append(
                    f"bucket {bucket.name} does not exist: create it in {region} (account {account}), "
                    + remove
                )
            elif code in _DENIED:
                report.problems.append(
                    f"bucket {bucket.name} cannot be read with these credentials ({code}): it is another "
                    f"account's, or they lack s3:ListBucket and s3:GetBucketLocation on it (scripts/deploy "
                    f"--print-deployer-policy); use a bucket of account {account}, {remove}"
                )
            else:
                report.problems.append(f"bucket {bucket.name} could not be checked: {_said(err)}")
            return False
        bucket_region = location.get("LocationConstraint") or "us-east-1"
        bucket_region = "eu-west-1" if bucket_region == "EU" else bucket_region
        if bucket_region != region:
            report.problems.append(
                f"bucket {bucket.name} is in {bucket_region}, not in {region} (global.json account.region): "
                f"S3 notifies queues and functions of its own region only; use a bucket in {region}, {remove}"
            )
            return False
        return True

    def _read_key(self, bucket: str, configured: bool, report: PreflightReport) -> None:
        """The KMS key the bucket's default encryption names, if any, as an ARN that a policy can grant."""
        fix = f"or name its key's ARN in {RULE_KEYS}"
        try:
            encryption = self.s3.get_bucket_encryption(
                Bucket=bucket, ExpectedBucketOwner=self.account.aws_account_id
            )
        except ClientError as err:
            if _code(err) == _NO_DEFAULT_ENCRYPTION or configured:
                return
            report.problems.append(
                f"the default encryption of bucket {bucket} cannot be read ({_code(err)}), so the rule "
                "processor may lack kms:Decrypt on its key: grant the deployer "
                f"s3:GetEncryptionConfiguration on it, {fix}"
            )
            return
        rules = encryption.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            key_id = default.get("KMSMasterKeyID")
            if default.get("SSEAlgorithm") not in _KMS_ALGORITHMS or not key_id:
                continue  # SSE-S3, or the AWS managed aws/s3 key: nothing to grant
            key_arn = self._key_arn(bucket, key_id, fix, report)
            if key_arn:
                report.input_keys.append(BucketKey(bucket, key_arn))

    def _key_arn(self, bucket: str, key_id: str, fix: str, report: PreflightReport) -> str | None:
        """A key ARN as it is, a key id in the bucket's account and region, an alias as KMS resolves it;
        None for an AWS managed key."""
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        if key_id.startswith(_AWS_MANAGED_ALIAS) or f":{_AWS_MANAGED_ALIAS}" in key_id:
            return None
        if not key_id.startswith("arn:") and not key_id.startswith("alias/"):
            partition = aws_partition(self.account.region)
            return f"arn:{partition}:kms:{self.account.region}:{self.account.aws_account_id}:key/{key_id}"
        try:
            metadata = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError as err:
            report.problems.append(
                f"bucket {bucket} is encrypted with KMS key {key_id}, which these credentials cannot "
                f"resolve to its ARN ({_code(err)}): grant the deployer kms:DescribeKey on it, {fix}"
            )
            return None
        return None if metadata.get("KeyManager") == "AWS" else str(metadata["Arn"])

    def _check_stream(self, stream: str, report: PreflightReport) -> None:
        try:
            self.kinesis.describe_stream_summary(StreamName=stream)
        except ClientError as err:
            account, region = self.account.aws_account_id, self.account.region
            if _code(err) == "ResourceNotFoundException":
                report.problems.append(
                    f"Kinesis stream {stream} does not exist in {region} (account {account}): create it, "
                    f"or remove it from {RULE_INPUTS}.kinesis"
                )
            else:
                report.problems.append(
                    f"Kinesis stream {stream} cannot be described with these credentials ({_code(err)}): "
                    "grant the deployer kinesis:DescribeStreamSummary on it (scripts/deploy "
                    f"--print-deployer-policy), or remove it from {RULE_INPUTS}.kinesis"
                )

    def _check_tables(self, tables: Sequence[NamedTable], report: PreflightReport) -> None:
        """Each table exists; in a database this deploy is about to create, none can yet (a note)."""
        for database in sorted({table.database for table in tables}):
            of_database = [table for table in tables if table.database == database]
            exists = self._glue_finds("get_database", {"Name": database}, f"database {database}", report)
            if exists is None:
                continue
            if not exists:
                names = ", ".join(table.name for table in of_database)
                one = len(of_database) == 1
                report.notes.append(
                    f"database {database} does not exist yet (this deploy creates it): create "
                    f"{'its table' if one else 'its tables'} {names} once it does; until then the refresh "
                    f"cannot register {'its' if one else 'their'} partitions"
                )
                continue
            for table in of_database:
                what = f"table {table.database}.{table.name}"
                found = self._glue_finds(
                    "get_table", {"DatabaseName": database, "Name": table.name}, what, report
                )
                if found is True and table.partition_keys:
                    self._check_partition_keys(table, report)
                if found is False:
                    locations = ", ".join(table.locations)
                    report.problems.append(
                        f"{what} does not exist: create it (an Athena CREATE EXTERNAL TABLE over "
                        f"{locations}), or remove it from {table.named_in}"
                    )

    def _check_partition_keys(self, table: NamedTable, report: PreflightReport) -> None:
        """The existing table's partition keys are those its declared layout gives, in order (Glue's
        names are compared in lower case, as the refresh compares them)."""
        response = self.glue.get_table(DatabaseName=table.database, Name=table.name)
        keys = tuple(str(key["Name"]) for key in response["Table"].get("PartitionKeys", []))
        if tuple(key.lower() for key in keys) == table.partition_keys:
            return
        found = ", ".join(keys) or "none"
        expected = ", ".join(table.partition_keys)
        report.problems.append(
            f"table {table.database}.{table.name} has partition keys ({found}), not ({expected}) as its "
            f"declared {table.layout} layout gives: declare its folders in {TABLES_PLACE}.{table.name} "
            '("layout", "partition_keys"), or recreate the table with those keys'
        )

    def _glue_finds(
        self, operation: str, params: dict[str, str], what: str, report: PreflightReport
    ) -> bool | None:
        """True when Glue finds it, False when Glue says it does not exist; None (a problem told) when it
        cannot be asked."""
        try:
            getattr(self.glue, operation)(**params)
        except ClientError as err:
            if _code(err) == "EntityNotFoundException":
                return False
            report.problems.append(
                f"{what} cannot be read with these credentials ({_code(err)}): grant the deployer "
                "glue:GetDatabase and glue:GetTable on it (scripts/deploy --print-deployer-policy)"
            )
            return None
        return True


def _refresh_place(refresh_type: RefreshType) -> str:
    return f"{LAMBDA_FILE} {ATHENA_BLOCK}.{REFRESH_TYPE_KEY}.{refresh_type.value}"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "")) or "error"


def _said(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def _or(places: Sequence[str]) -> str:
    return places[0] if len(places) == 1 else ", ".join(places[:-1]) + " and " + places[-1]
