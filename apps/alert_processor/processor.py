"""The alert processor: alerts from the alerts queue delivered to their outputs, the alerts bucket always.

Any output that fails makes its message a batch item failure, so that SQS hands it over again (after
``maxReceiveCount`` failures it moves to the dead-letter queue). Every output is tried whatever the
others did, and delivering again is harmless: the S3 key comes from the alert id, so a retry overwrites
the same object; the log output writes the alert once more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from apps.alert_processor.outputs import AlertOutput, OutputResources, build_outputs
from config_schemas.lambda_config import ALERT_PROCESSOR_BLOCK
from config_schemas.models import Config
from streamalert import aws
from streamalert.alerts import Alert, AlertFormatError
from streamalert.config import MissingBlockError
from streamalert.constants import ALERTS_S3_OUTPUT, alerts_bucket_name
from streamalert.logger import context, get_logger
from streamalert.sqs import QueueMessage

LOGGER = get_logger(__name__)


class AlertProcessor:
    """Receives its outputs by name; ``s3:alerts`` must be one of them. Loads nothing itself."""

    def __init__(self, outputs: Mapping[str, AlertOutput]) -> None:
        if ALERTS_S3_OUTPUT not in outputs:
            raise ValueError(f"the {ALERTS_S3_OUTPUT} output is required")
        self._outputs = dict(outputs)

    @classmethod
    def from_config(cls, config: Config) -> AlertProcessor:
        """Wire the outputs of a deployment with clients from the one factory."""
        block = config.alert_processor
        if block is None:
            raise MissingBlockError(ALERT_PROCESSOR_BLOCK)
        aws_settings = aws.AwsSettings(region=config.account.region)
        resources = OutputResources(
            s3_client=aws.s3_client(aws_settings), alerts_bucket=alerts_bucket_name(config.account.prefix)
        )
        return cls(build_outputs(block.outputs, resources))

    def handle(self, messages: Sequence[QueueMessage]) -> dict[str, Any]:
        """Deliver the alert of each message; ``batchItemFailures`` names the messages to hand over again."""
        failed: list[QueueMessage] = []
        failures: Counter[str] = Counter()
        for message in messages:
            try:
                alert = Alert.from_json(message.body)
            except AlertFormatError as err:
                LOGGER.error(
                    "Not an alert: the message is kept for the dead-letter queue",
                    extra=context(message_id=message.message_id, error=str(err)),
                )
                failures["not_an_alert"] += 1
                failed.append(message)
                continue
            failed_outputs = self.deliver(alert)
            failures.update(failed_outputs)
            if failed_outputs:
                failed.append(message)
        LOGGER.info(
            "Alert processing finished",
            extra=context(
                messages=len(messages), delivered=len(messages) - len(failed), failures=dict(failures)
            ),
        )
        return {"batchItemFailures": [{"itemIdentifier": message.message_id} for message in failed]}

    def deliver(self, alert: Alert) -> list[str]:
        """Send the alert to the alerts bucket and to each configured output it names; the names of the
        outputs that failed. Outputs it names that are not configured are logged and skipped."""
        names = [ALERTS_S3_OUTPUT, *(name for name in alert.outputs if name != ALERTS_S3_OUTPUT)]
        missing = [name for name in names if name not in self._outputs]
        if missing:
            LOGGER.error(
                "Alert names outputs that alert_processor_config does not list: skipped",
                extra=context(alert_id=alert.id, rule=alert.rule_name, outputs=missing),
            )
        failed: list[str] = []
        for name in names:
            output = self._outputs.get(name)
            if output is None:
                continue
            try:
                output.send(alert)
            except Exception as err:  # one output's failure, whatever it is, must not cost the others
                LOGGER.error(
                    "Output failed: the alert will be handed over again",
                    extra=context(alert_id=alert.id, rule=alert.rule_name, output=name, error=repr(err)),
                )
                failed.append(name)
        return failed


def disabled_response(messages: Sequence[QueueMessage] | None) -> dict[str, Any]:
    """What a disabled function returns: nothing delivered; handed-over messages reported back as failed,
    so they stay on the queue."""
    LOGGER.info("The alert processor is disabled in lambda.json: nothing done")
    if messages is None:
        return {"enabled": False}
    return {"batchItemFailures": [{"itemIdentifier": message.message_id} for message in messages]}
