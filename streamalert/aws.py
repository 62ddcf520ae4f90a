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
    attempt (botocore's meaning); ``max_pool_connections``: the connections a client keeps open, at least
    as many as the calls a function makes at once (the refresh's drain pool), or each call over it opens
    a new connection and the pool throws it away."""

    region: str
    max_attempts: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_pool_connections: int = 10

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
    for: botocore retries on its own, so only a hook on each attempt can keep them inside the run.

    botocore sleeps before a retry, after the retry is decided and before the attempt's hook runs: a
    retry whose longest sleep would end inside the margin is not made at all (the call fails at once with
    ``NoTimeToRetryError``, naming the error of its last attempt), so that no sleep runs the function past
    its timeout. It raises rather than answers: older botocore (1.34, as Lambda runtimes have shipped it)
    reads any answer but None as a delay, and would retry at once.

    Safe to use from several threads (a client's calls run their hooks in the calling thread): the hooks
    keep no state, and ``budget`` is set before a run's first call and only read while the calls run
    (``RunBudget`` is frozen)."""

    def __init__(self) -> None:
        self.budget: RunBudget | None = None

    def attach(self, *clients: Any) -> None:
        for made in clients:
            events = made.meta.events
            events.register("before-send", self._check)
            # first on the node of botocore's own retry handler, whose delay it would otherwise follow
            service = made.meta.service_model.service_id.hyphenize()
            events.register_first(f"needs-retry.{service}", self._veto_retry)

    def _check(self, event_name: str = "", **_: Any) -> None:
        if self.budget is not None and not self.budget.may_call():
            raise NoTimeForCallError(event_name=event_name)

    def _veto_retry(
        self, attempts: int = 1, response: Any = None, caught_exception: Any = None, **_: Any
    ) -> None:
        """Raise NoTimeToRetryError when botocore may retry this attempt and the longest sleep before the
        retry would leave no time for it; say nothing (botocore decides) otherwise."""
        if self.budget is None or not _may_be_retried(response, caught_exception):
            return
        if not self.budget.deadline.has(self.budget.margin + longest_backoff(attempts, response)):
            raise NoTimeToRetryError(error=caught_exception or _error_code(response))


class NoTimeToRetryError(NoTimeForCallError):
    """A retry refused: the sleep botocore makes before it could run the function past its timeout."""

    fmt = "no time left in this run to retry after {error}"


_THROTTLING = ("Throttl", "SlowDown", "RequestLimitExceeded", "TooManyRequests", "RequestTimeout")


def _may_be_retried(response: Any, caught_exception: Any) -> bool:
    """True for what botocore's standard mode retries: no answer (a timeout, a broken connection), a 5xx
    or a throttle. A success or another client error is never retried: nothing to refuse."""
    if caught_exception is not None:
        return True
    http = response[0] if response else None
    status = getattr(http, "status_code", 200)
    return status >= 500 or status == 429 or any(code in _error_code(response) for code in _THROTTLING)


def _error_code(response: Any) -> str:
    parsed = response[1] if response and len(response) > 1 else {}
    return str(parsed.get("Error", {}).get("Code", "")) if isinstance(parsed, dict) else ""


def longest_backoff(attempts: int, response: Any) -> float:
    """The longest sleep botocore's standard mode makes before retrying attempt number ``attempts``:
    ``rand(0, 1) * min(2 ** (attempts - 1), 20)`` seconds (newer botocore scales non-throttling errors
    down; this bound holds for every version), plus up to 5 s more when the answer carries
    ``x-amz-retry-after``."""
    http = response[0] if response else None
    extra = 5.0 if http is not None and "x-amz-retry-after" in getattr(http, "headers", {}) else 0.0
    return min(2.0 ** (attempts - 1), 20.0) + extra


def client(service: str, settings: AwsSettings) -> Any:
    """A boto3 client with botocore's standard retry mode (throttling and 5xx retried with backoff)."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=settings.region,
        config=Config(
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_pool_connections=settings.max_pool_connections,
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
