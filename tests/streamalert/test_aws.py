"""The client factory: every client gets the same region, retry mode and timeouts; endpoints come from env."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import BotoCoreError, ClientError

from streamalert.aws import (
    AwsSettings,
    CallGuard,
    NoTimeForCallError,
    NoTimeToRetryError,
    athena_client,
    client,
    glue_client,
    longest_backoff,
    s3_client,
    sqs_client,
)
from streamalert.deadline import Deadline, RunBudget

FACTORIES: dict[str, Callable[[AwsSettings], Any]] = {
    "sqs": sqs_client,
    "glue": glue_client,
    "athena": athena_client,
    "s3": s3_client,
}


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_every_client_uses_standard_retries_region_and_timeouts(service: str) -> None:
    made = FACTORIES[service](AwsSettings(region="eu-west-1"))

    assert made.meta.service_model.service_name == service
    assert made.meta.region_name == "eu-west-1"
    # botocore's ``max_attempts`` counts retries: 8 retries after the first attempt
    assert made.meta.config.retries == {"mode": "standard", "total_max_attempts": 9}
    assert made.meta.config.connect_timeout == 5.0
    assert made.meta.config.read_timeout == 30.0


def test_settings_decide_attempts_and_timeouts() -> None:
    settings = AwsSettings(region="ap-southeast-2", max_attempts=3, connect_timeout=1.5, read_timeout=10.0)

    made = client("sqs", settings)

    assert made.meta.region_name == "ap-southeast-2"
    assert made.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert made.meta.config.connect_timeout == 1.5
    assert made.meta.config.read_timeout == 10.0


def test_region_comes_from_settings_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "us-west-2")

    assert sqs_client(AwsSettings(region="eu-central-1")).meta.region_name == "eu-central-1"


def test_default_endpoint_is_the_regional_aws_one() -> None:
    assert (
        sqs_client(AwsSettings(region="eu-west-1")).meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
    )


@pytest.mark.parametrize("service", sorted(FACTORIES))
def test_aws_endpoint_url_points_every_client_at_an_emulator(
    monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")

    assert FACTORIES[service](AwsSettings(region="us-east-1")).meta.endpoint_url == "http://localhost:4566"


def test_service_specific_endpoint_wins_for_that_service_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://localhost:9324")
    settings = AwsSettings(region="us-east-1")

    assert sqs_client(settings).meta.endpoint_url == "http://localhost:9324"
    assert glue_client(settings).meta.endpoint_url == "http://localhost:4566"


@pytest.mark.parametrize(
    ("timeout", "connect", "read", "poll"),
    [
        (1, 0.05, 0.1, 0),
        (3, 0.1, 0.3, 0),
        (10, 1 / 3, 1.0, 0),
        (30, 1.0, 3.0, 2),
        (60, 2.0, 6.0, 5),
        (300, 5.0, 20.0, 19),
        (900, 5.0, 20.0, 19),
    ],
)
def test_settings_for_a_function_fit_its_timeout(
    timeout: int, connect: float, read: float, poll: int
) -> None:
    settings = AwsSettings.for_function("us-east-1", timeout)

    assert (settings.connect_timeout, settings.read_timeout) == pytest.approx((connect, read))
    assert settings.attempt_seconds == pytest.approx(connect + read)
    assert settings.max_attempts == 2, "two retries at most after the first attempt"
    assert settings.attempt_seconds <= timeout / 5, "a margin of one attempt leaves most of the run"
    assert settings.longest_poll_seconds == poll
    assert poll == 0 or poll <= settings.read_timeout - 1, "a long poll answers within the read timeout"


class _Refused:
    def stream(self) -> Iterator[bytes]:
        yield b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>"


class _Empty:
    def stream(self) -> Iterator[bytes]:
        yield b"<ListQueuesResponse><ListQueuesResult></ListQueuesResult></ListQueuesResponse>"


class _Raw:
    def stream(self) -> Iterator[bytes]:
        yield b"<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>"


def test_the_guard_refuses_a_call_the_run_has_no_time_for(moto: None) -> None:
    made = sqs_client(AwsSettings(region="us-east-1"))
    guard = CallGuard()
    guard.attach(made)
    guard.budget = RunBudget(Deadline(lambda: 4_000.0), margin=5.0)

    with pytest.raises(NoTimeForCallError, match="no time left"):
        made.list_queues()
    assert issubclass(NoTimeForCallError, BotoCoreError), "callers handle it as any failed call"


def test_the_guard_refuses_a_retry_once_the_time_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """No emulator: the hook below answers every attempt, so nothing leaves the machine. The retry had
    time when botocore decided it; something else took the run's time while it slept."""
    made = sqs_client(AwsSettings(region="us-east-1", max_attempts=5))
    guard = CallGuard()
    guard.attach(made)
    remaining_ms = [60_000.0]
    guard.budget = RunBudget(Deadline(lambda: remaining_ms[0]), margin=5.0)
    attempts: list[str] = []

    def unavailable(**_: Any) -> AWSResponse:
        attempts.append("sent")
        return AWSResponse("https://sqs.invalid", 503, {}, _Raw())

    def slept(_seconds: float) -> None:
        remaining_ms[0] = 1_000.0

    monkeypatch.setattr("botocore.endpoint.time.sleep", slept)
    made.meta.events.register("before-send", unavailable)

    with pytest.raises(NoTimeForCallError):
        made.list_queues()
    assert attempts == ["sent"], "the retry botocore wanted was refused before it was sent"


def test_without_a_budget_the_guard_lets_every_call_through(moto: None) -> None:
    made = sqs_client(AwsSettings(region="us-east-1"))
    CallGuard().attach(made)

    assert "QueueUrls" not in made.list_queues()


def _throttled(**_: Any) -> AWSResponse:
    return AWSResponse("https://sqs.invalid", 503, {}, _Raw())


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps botocore makes before its retries (none really slept)."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def test_a_retry_whose_sleep_would_end_inside_the_margin_is_not_made(sleeps: list[float]) -> None:
    """5.5 s left and a 5 s margin: the retry after a 503 may sleep up to 1 s first, then find no time.
    The call fails at once, naming the error of its one attempt; nothing sleeps into the margin (also on
    a botocore that would read any answer of the hook as a delay)."""
    made = sqs_client(AwsSettings(region="us-east-1", max_attempts=5))
    guard = CallGuard()
    guard.attach(made)
    guard.budget = RunBudget(Deadline(lambda: 5_500.0), margin=5.0)
    attempts: list[str] = []

    def unavailable(**kwargs: Any) -> AWSResponse:
        attempts.append("sent")
        return _throttled(**kwargs)

    made.meta.events.register("before-send", unavailable)

    with pytest.raises(NoTimeToRetryError, match="no time left in this run to retry"):
        made.list_queues()
    assert attempts == ["sent"]
    assert sleeps == []


def test_near_the_margin_an_error_botocore_never_retries_is_left_as_it_is(sleeps: list[float]) -> None:
    made = sqs_client(AwsSettings(region="us-east-1", max_attempts=5))
    guard = CallGuard()
    guard.attach(made)
    guard.budget = RunBudget(Deadline(lambda: 5_500.0), margin=5.0)

    def refused(**_: Any) -> AWSResponse:
        return AWSResponse("https://sqs.invalid", 400, {}, _Refused())

    made.meta.events.register("before-send", refused)

    with pytest.raises(ClientError, match="AccessDenied"):
        made.list_queues()


def test_near_the_margin_a_successful_call_is_left_as_it_is() -> None:
    made = sqs_client(AwsSettings(region="us-east-1"))
    guard = CallGuard()
    guard.attach(made)
    guard.budget = RunBudget(Deadline(lambda: 5_001.0), margin=5.0)

    def answered(**_: Any) -> AWSResponse:
        return AWSResponse("https://sqs.invalid", 200, {}, _Empty())

    made.meta.events.register("before-send", answered)

    made.list_queues()


def test_a_retry_with_time_for_its_sleep_is_made(sleeps: list[float]) -> None:
    made = sqs_client(AwsSettings(region="us-east-1", max_attempts=1))
    guard = CallGuard()
    guard.attach(made)
    guard.budget = RunBudget(Deadline(lambda: 60_000.0), margin=5.0)
    attempts: list[str] = []

    def unavailable(**kwargs: Any) -> AWSResponse:
        attempts.append("sent")
        return _throttled(**kwargs)

    made.meta.events.register("before-send", unavailable)

    with pytest.raises(ClientError):
        made.list_queues()
    assert attempts == ["sent", "sent"], "botocore's one retry"
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("attempts", "answered", "headers", "longest"),
    [
        (1, False, {}, 1.0),  # a timeout: botocore 1.34 waits up to 1 s for any error
        (2, False, {}, 2.0),
        (1, True, {}, 1.0),
        (2, True, {}, 2.0),
        (6, True, {}, 20.0),
        (1, True, {"x-amz-retry-after": "9000"}, 6.0),
    ],
)
def test_the_longest_backoff_bounds_botocores_own(
    attempts: int, answered: bool, headers: dict[str, str], longest: float
) -> None:
    response = (AWSResponse("https://x.invalid", 400, headers, _Raw()), {}) if answered else None

    assert longest_backoff(attempts, response) == pytest.approx(longest)


def test_the_guard_holds_every_thread_to_the_one_budget() -> None:
    """No emulator: the hook answers every attempt. 16 threads call at once while the time runs out: the
    calls made before the margin went out, every one after it was refused, in whichever thread."""
    made = sqs_client(AwsSettings(region="us-east-1", max_pool_connections=16))
    guard = CallGuard()
    guard.attach(made)
    remaining_ms = [60_000.0]
    guard.budget = RunBudget(Deadline(lambda: remaining_ms[0]), margin=5.0)
    sent: list[float] = []
    lock = threading.Lock()

    def answer(**_: Any) -> AWSResponse:
        with lock:
            sent.append(remaining_ms[0])
            remaining_ms[0] -= 1_000.0  # every call takes a second of the run
        return AWSResponse("https://sqs.invalid", 200, {}, _Empty())

    made.meta.events.register("before-send", answer)
    refused: list[int] = []
    failed: list[BaseException] = []

    def call_until_refused() -> None:
        for _ in range(100):  # more than the run has time for: each thread ends refused
            try:
                made.list_queues()
            except NoTimeForCallError:
                with lock:
                    refused.append(1)
                return
            except Exception as err:  # shown by the assertion below
                failed.append(err)
                return

    threads = [threading.Thread(target=call_until_refused) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failed, failed
    assert len(refused) == 16, "every thread was refused once the time was up"
    assert len(sent) <= 55 + 15, "calls stop at the margin, but for those already past the check"
    assert min(sent) > 5_000.0 - 16 * 1_000.0


def test_a_run_budget_cannot_be_changed_by_the_threads_that_share_it() -> None:
    budget = RunBudget(Deadline(lambda: 60_000.0), margin=5.0)

    with pytest.raises(AttributeError):
        budget.margin = 0.0  # type: ignore[misc]
    assert budget.reserving(10.0).margin == 15.0
    assert budget.margin == 5.0


def test_the_clients_keep_as_many_connections_as_calls_in_flight() -> None:
    made = sqs_client(AwsSettings(region="us-east-1", max_pool_connections=32))

    assert made.meta.config.max_pool_connections == 32
