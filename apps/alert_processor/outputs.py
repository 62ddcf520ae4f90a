"""Where alerts go. Each output is a class with ``send(alert)``, which raises when the alert did not get
there; ``OUTPUT_FACTORIES`` maps the names that rules and lambda.json use to their builders.

Adding an output: its class here (or in a module beside this one), its name in
``streamalert.constants.ALERT_OUTPUTS``, and its entry in ``OUTPUT_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from streamalert.alerts import Alert
from streamalert.constants import ALERTS_S3_OUTPUT, LOG_OUTPUT
from streamalert.logger import context, get_logger

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ALERT_LOGGER = get_logger("streamalert.alerts")


class AlertOutput(Protocol):
    name: str

    def send(self, alert: Alert) -> None:
        """Deliver the alert; raise when it was not delivered. Delivering it again must be harmless."""


@dataclass(frozen=True)
class OutputResources:
    """What outputs may need, built once per warm container."""

    s3_client: S3Client
    alerts_bucket: str


class S3AlertsOutput:
    """Writes the alert to ``alerts/dt=YYYY-MM-DD-HH/<id>.json`` of the alerts bucket, where the Athena
    ``alerts`` table reads it. The key depends only on the alert, so a retry overwrites, never duplicates."""

    name = ALERTS_S3_OUTPUT

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    @classmethod
    def from_resources(cls, resources: OutputResources) -> S3AlertsOutput:
        return cls(resources.s3_client, resources.alerts_bucket)

    def send(self, alert: Alert) -> None:
        self._client.put_object(
            Bucket=self.bucket,
            Key=alert.s3_key,
            Body=(alert.to_json() + "\n").encode("utf-8"),
            ContentType="application/json",
        )


class LogOutput:
    """Writes the alert as one JSON log line (level WARNING) to the function's log."""

    name = LOG_OUTPUT

    @classmethod
    def from_resources(cls, resources: OutputResources) -> LogOutput:
        return cls()

    def send(self, alert: Alert) -> None:
        ALERT_LOGGER.warning("Alert: %s", alert.rule_name, extra=context(alert=alert.to_dict()))


OUTPUT_FACTORIES: dict[str, Callable[[OutputResources], AlertOutput]] = {
    ALERTS_S3_OUTPUT: S3AlertsOutput.from_resources,
    LOG_OUTPUT: LogOutput.from_resources,
}


def build_outputs(names: Sequence[str], resources: OutputResources) -> dict[str, AlertOutput]:
    """The configured outputs by name (names are validated by the config schema)."""
    return {name: OUTPUT_FACTORIES[name](resources) for name in names}
