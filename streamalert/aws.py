"""The one AWS client factory: region, retries and timeouts are decided here and nowhere else.

Endpoints are not: boto3's standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables
point every client at an emulator or a private endpoint without code of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from streamalert.deadline import RunBudget

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class AwsSettings:
    """What every client of one function shares. ``max_attempts`` counts the retries after the first
    attempt (botocore's meaning)."""

    region: str
    max_attempts: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @classmethod
    def for_function(cls, region: str, timeout_seconds: float) -> AwsSettings:
        """Settings that fit a function of that timeout: an attempt that hangs is cut after a tenth of the
        run to read (20 s at most) and a thirtieth to connect (5 s at most), and retried twice at most.
        No floor above that: a function of a few seconds must have time left for a call after its margin
        (one attempt), or it never drains its queue."""
        return cls(
            region=region,
            max_attempts=2,
            connect_timeout=min(5.0, max(0.05, timeout_seconds / 30)),
            read_timeout=min(20.0, max(0.1, timeout_seconds / 10)),
        )

    @property
    def attempt_seconds(self) -> float:
        """The longest one attempt of a call can take before the client gives it up."""
        return self.connect_timeout + self.read_timeout

    @property
    def longest_poll_seconds(self) -> int:
        """The longest SQS long poll whose answer comes within the read timeout, with a second to spare."""
        return max(0, int(self.read_timeout - 1.0))


class NoTimeForCallError(BotoCoreError):
    """An attempt of an AWS call (the first or a retry) refused: it could outlast the run."""

    fmt = "no time left in this run for {event_name}: refused before sending"


class CallGuard:
    """Refuses every attempt of a call, retries included, that the current run's budget has no time
    for: botocore retries on its own, so only a hook on each attempt can keep them inside the run."""

    def __init__(self) -> None:
        self.budget: RunBudget | None = None

    def attach(self, *clients: Any) -> None:
        for made in clients:
            made.meta.events.register("before-send", self._check)

    def _check(self, event_name: str = "", **_: Any) -> None:
        if self.budget is not None and not self.budget.may_call():
            raise NoTimeForCallError(event_name=event_name)


def client(service: str, settings: AwsSettings) -> Any:
    """A boto3 client with botocore's standard retry mode (throttling and 5xx retried with backoff)."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=settings.region,
        config=Config(
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        ),
    )


def sqs_client(settings: AwsSettings) -> SQSClient:
    result: SQSClient = client("sqs", settings)
    return result


def glue_client(settings: AwsSettings) -> GlueClient:
    result: GlueClient = client("glue", settings)
    return result


def athena_client(settings: AwsSettings) -> AthenaClient:
    result: AthenaClient = client("athena", settings)
    return result


def s3_client(settings: AwsSettings) -> S3Client:
    result: S3Client = client("s3", settings)
    return result
