"""The embedded local AWS: a moto server on 127.0.0.1 (a free port) that boto3 and terraform are pointed at.

It runs with the account id of ``global.json`` (moto reads ``MOTO_ACCOUNT_ID`` when it starts) and fake
credentials. Two gaps of the emulator that a deploy meets are filled, and one behaviour turned off, before it
starts (``patch_emulator``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from streamalert.exceptions import StreamAlertError

FAKE_ACCESS_KEY = "streamalert-local"
FAKE_SECRET_KEY = "streamalert-local"
LOCALHOST = "127.0.0.1"
# Set for the emulator's life; removed or restored afterwards
_MANAGED_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "MOTO_ACCOUNT_ID",
)


class LocalAwsError(StreamAlertError):
    """The emulator could not start (moto missing, or no port)."""


class LocalAws:
    """A running emulator: ``endpoint`` is its URL; ``stop()`` ends it and restores the environment."""

    def __init__(self, account_id: str, region: str, environ: MutableMapping[str, str] | None = None) -> None:
        self.account_id = account_id
        self.region = region
        self.endpoint = ""
        self._environ = os.environ if environ is None else environ
        self._saved: dict[str, str | None] = {}
        self._server: Any = None

    def start(self) -> str:
        """Start the server on a free port of 127.0.0.1 and point boto3 at it; returns the endpoint URL."""
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as err:
            raise LocalAwsError(
                "the local emulator needs moto[server]: run scripts/bootstrap, or pip install 'moto[server]'"
            ) from err
        self._saved = {name: self._environ.get(name) for name in _MANAGED_VARIABLES}
        for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            self._environ.pop(name, None)
        self._environ.update(
            {
                "MOTO_ACCOUNT_ID": self.account_id,  # read by moto when the server starts
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
            }
        )
        patch_emulator()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
        server = ThreadedMotoServer(ip_address=LOCALHOST, port=0, verbose=False)
        try:
            server.start()
        except OSError as err:
            self._restore()
            raise LocalAwsError(f"the local emulator could not start: {err}") from err
        self._server = server
        host, port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._environ["AWS_ENDPOINT_URL"] = self.endpoint
        return self.endpoint

    def stop(self) -> None:
        """Stop the server (its state is gone) and restore the environment as it was."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._restore()

    def _restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value
        self._saved = {}


@contextmanager
def running(account_id: str, region: str) -> Iterator[LocalAws]:
    """A started emulator for the ``with`` block, stopped however the block ends."""
    local = LocalAws(account_id, region)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def patch_emulator() -> None:
    """Fill the gaps of moto 5 that a deploy meets, and turn off one behaviour (idempotent):

    - S3 notifications to a Lambda function are not delivered: moto would try to run the function in a
      container (and log that it cannot); the deploy's pipeline check runs the handlers in-process.
    - An event source mapping created on an alias reads back with that alias's ARN, as on AWS (moto gives
      the version's ARN, which terraform reads as a change on every plan).
    - SQS returns ``RedrivePolicy`` with spaces after separators where AWS returns compact JSON, which
      terraform reads as a change on every plan; returned compact here, as AWS does.
    - S3's events to EventBridge reach the event-pattern rules even when a schedule rule comes first on the
      bus (moto stops at the schedule's Lambda target, which it cannot deliver to).
    """
    from moto.s3 import notifications
    from moto.sqs.models import Queue

    setattr(notifications, "_invoke_awslambda", _no_function_invocation)  # noqa: B010
    _keep_mapping_alias_arns()
    _skip_schedules_for_events()

    original: Any = vars(Queue)["attributes"]
    if getattr(original.fget, "compact_redrive_policy", False):
        return

    def attributes(queue: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(queue)
        if queue.redrive_policy:
            result["RedrivePolicy"] = json.dumps(queue.redrive_policy, separators=(",", ":"), sort_keys=True)
        return result

    setattr(attributes, "compact_redrive_policy", True)  # noqa: B010
    setattr(Queue, "attributes", property(attributes))  # noqa: B010


def _keep_mapping_alias_arns() -> None:
    from moto.awslambda.models import LambdaBackend

    original: Any = vars(LambdaBackend)["create_event_source_mapping"]
    if getattr(original, "keeps_alias_arn", False):
        return

    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        requested = str(spec.get("FunctionName", ""))
        mapping = original(backend, spec)
        if requested.startswith("arn:") and requested.count(":") == 7:  # a qualified function ARN
            mapping.function_arn = requested
        return mapping

    setattr(create_event_source_mapping, "keeps_alias_arn", True)  # noqa: B010
    setattr(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)  # noqa: B010


def _skip_schedules_for_events() -> None:
    """moto hands every event of S3's EventBridge delivery to each rule of the bus in turn, schedules
    included (no pattern matches all), and stops at the first rule that raises: a schedule's Lambda target,
    which moto does not deliver to, raises NotImplementedError, so no later rule got the event. A rule
    without an event pattern gets no event here, as on AWS (a schedule is not matched against events)."""
    from moto.events.models import Rule

    original: Any = vars(Rule)["send_to_targets"]
    if getattr(original, "skips_schedules", False):
        return

    def send_to_targets(rule: Any, original_event: Any, transform_input: bool = True) -> None:
        if not rule.event_pattern.get_pattern():
            return
        original(rule, original_event, transform_input)

    setattr(send_to_targets, "skips_schedules", True)  # noqa: B010
    setattr(Rule, "send_to_targets", send_to_targets)  # noqa: B010


def _no_function_invocation(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """What the emulator does with an S3 notification to a function: nothing (no function code runs)."""
