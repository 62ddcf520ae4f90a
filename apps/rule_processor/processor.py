"""The rule processor: records from S3 objects or Kinesis, classified, run through the rules, and the
alerts sent to the alerts queue."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.rule_processor.classifier import Classifier
from apps.rule_processor.inputs import KinesisRecord, kinesis_records, s3_notification
from apps.rule_processor.rule_engine import RuleEngine
from apps.rule_processor.sender import AlertSender
from config_schemas.lambda_config import RULE_PROCESSOR_BLOCK
from config_schemas.models import Config
from streamalert import aws
from streamalert.alerts import Alert
from streamalert.config import MissingBlockError
from streamalert.constants import SQS_MAX_BATCH, alerts_queue_name
from streamalert.exceptions import StreamAlertError
from streamalert.json_records import READ_ERRORS, JsonProblem, JsonRecord, Limits, read_records
from streamalert.logger import context, get_logger
from streamalert.rules import RuleRegistry
from streamalert.s3_events import NotificationError, S3Object
from streamalert.s3_objects import ObjectGoneError, ObjectReadError, S3ObjectReader

LOGGER = get_logger(__name__)

_SAMPLE_KEYS = 20
# Parts of one input that are not records, logged one by one before only their count is
_LOGGED_PROBLEMS = 10


class IncompleteRunError(StreamAlertError):
    """Objects that could not be read, or alerts that could not be queued: the invocation fails so that
    Lambda invokes it again (alert ids are stable, so alerts already queued are only written again)."""


@dataclass
class RunStats:
    """What one invocation did; logged, and returned for S3 invocations."""

    objects: int = 0
    objects_unreadable: int = 0
    objects_gone: int = 0
    records: int = 0
    not_records: int = 0
    classified: Counter[str] = field(default_factory=Counter)
    unclassified: int = 0
    rule_errors: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    alerts_sent: int = 0
    alerts_not_sent: int = 0
    alerts_too_large: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "objects_unreadable": self.objects_unreadable,
            "objects_gone": self.objects_gone,
            "records": self.records,
            "not_records": self.not_records,
            "classified": dict(sorted(self.classified.items())),
            "unclassified": self.unclassified,
            "rule_errors": self.rule_errors,
            "alerts": dict(sorted(self.alerts.items())),
            "alerts_sent": self.alerts_sent,
            "alerts_not_sent": self.alerts_not_sent,
            "alerts_too_large": self.alerts_too_large,
        }


class RuleProcessor:
    """Receives its reader, classifier, rules and sender; loads nothing itself."""

    def __init__(
        self, *, reader: S3ObjectReader, classifier: Classifier, engine: RuleEngine, sender: AlertSender
    ) -> None:
        self._reader = reader
        self._classifier = classifier
        self._engine = engine
        self._sender = sender

    @classmethod
    def from_config(cls, config: Config, registry: RuleRegistry) -> RuleProcessor:
        """Wire the processor of a deployment with clients from the one factory. Rules that cannot fire
        here (log types logs.json lacks, outputs the alert processor lacks) are logged as errors."""
        block = config.rule_processor
        if block is None:
            raise MissingBlockError(RULE_PROCESSOR_BLOCK)
        alert_block = config.alert_processor
        for problem in registry.problems(config.logs.names, alert_block.outputs if alert_block else None):
            LOGGER.error("Rule misconfigured", extra=context(problem=problem))
        if not len(registry):
            LOGGER.warning("No rules are registered: no record will raise an alert")
        aws_settings = aws.AwsSettings(region=config.account.region)
        return cls(
            reader=S3ObjectReader(aws.s3_client(aws_settings), Limits.for_memory(block.memory)),
            classifier=Classifier(config.logs.log_types),
            engine=RuleEngine(registry),
            sender=AlertSender(aws.sqs_client(aws_settings), alerts_queue_name(config.account.prefix)),
        )

    def handle(self, event: Any) -> dict[str, Any]:
        """Process an S3 or Kinesis event. Kinesis: ``batchItemFailures`` for records whose alerts were
        not all queued. S3: a summary; IncompleteRunError when an object or an alert was not handled."""
        records = kinesis_records(event)
        if records is not None:
            return self.run_kinesis(records)
        try:
            notification = s3_notification(event)
        except NotificationError as err:
            LOGGER.error("S3 event without a readable record: nothing done", extra=context(error=str(err)))
            return RunStats().summary()
        if notification is None:
            LOGGER.error(
                "Neither an S3 nor a Kinesis event: nothing done", extra=context(event_keys=_keys(event))
            )
            return RunStats().summary()
        for skipped in notification.skipped:
            LOGGER.info("Nothing to read", extra=context(object=skipped))
        for problem in notification.problems:
            LOGGER.error("Unreadable S3 event record", extra=context(problem=problem))
        return self.run_s3(notification.objects)

    def run_s3(self, objects: Sequence[S3Object]) -> dict[str, Any]:
        stats = RunStats()
        for s3_object in objects:
            stats.objects += 1
            self._read_object(s3_object, stats)
        summary = stats.summary()
        LOGGER.info("Rule processing finished", extra=context(**summary))
        if stats.objects_unreadable or stats.alerts_not_sent:
            raise IncompleteRunError(
                f"{stats.objects_unreadable} object(s) could not be read and "
                f"{stats.alerts_not_sent} alert(s) could not be queued: "
                "failing the invocation so that Lambda retries it"
            )
        return summary

    def run_kinesis(self, records: Sequence[KinesisRecord]) -> dict[str, Any]:
        stats = RunStats()
        pending: list[tuple[Alert, str]] = []
        for kinesis_record in records:
            if kinesis_record.problem:
                stats.not_records += 1
                LOGGER.error(
                    "Unreadable Kinesis record",
                    extra=context(origin=kinesis_record.origin, problem=kinesis_record.problem),
                )
                continue
            alerts = self._analyse(
                read_records(io.BytesIO(kinesis_record.data), self._reader.limits),
                kinesis_record.origin,
                stats,
            )
            pending.extend((alert, kinesis_record.sequence_number) for alert in alerts)
        failed = self._send([alert for alert, _number in pending], stats)
        failed_numbers = dict.fromkeys(number for alert, number in pending if alert.id in failed)
        LOGGER.info("Rule processing finished", extra=context(**stats.summary()))
        return {"batchItemFailures": [{"itemIdentifier": number} for number in failed_numbers]}

    def _read_object(self, s3_object: S3Object, stats: RunStats) -> None:
        pending: list[Alert] = []
        try:
            for alerts in self._analyse_stream(self._reader.records(s3_object), str(s3_object), stats):
                pending.extend(alerts)
                if len(pending) >= SQS_MAX_BATCH:  # queue as we go: a timeout loses at most one batch
                    self._send(pending, stats)
                    pending = []
        except ObjectGoneError as err:
            stats.objects_gone += 1
            LOGGER.warning("Object gone before it was read: skipped", extra=context(error=str(err)))
        except ObjectReadError as err:
            stats.objects_unreadable += 1
            LOGGER.error("Object not read to its end", extra=context(error=str(err)))
        self._send(pending, stats)

    def _analyse(
        self, items: Iterable[JsonRecord | JsonProblem], origin: str, stats: RunStats
    ) -> list[Alert]:
        """Every alert of a small input (a Kinesis record); READ_ERRORS (a corrupt gzip) end it."""
        alerts: list[Alert] = []
        try:
            for found in self._analyse_stream(items, origin, stats):
                alerts.extend(found)
        except READ_ERRORS as err:
            stats.not_records += 1
            LOGGER.error("Data not read to its end", extra=context(origin=origin, error=repr(err)))
        return alerts

    def _analyse_stream(
        self, items: Iterable[JsonRecord | JsonProblem], origin: str, stats: RunStats
    ) -> Iterable[list[Alert]]:
        """The alerts of each record, as the records are read. Records that fit no log type are counted,
        logged one by one at debug level, and summed up in one warning per input; parts that are not
        records are logged, the first few one by one."""
        unclassified = not_records = 0
        first_keys: list[str] = []
        try:
            for item in items:
                where = f"{origin}#{item.position}"
                if isinstance(item, JsonProblem):
                    not_records += 1
                    stats.not_records += 1
                    if not_records <= _LOGGED_PROBLEMS:
                        LOGGER.warning("Not a record", extra=context(origin=where, problem=item.problem))
                    continue
                stats.records += 1
                log_type = self._classifier.classify(item.record)
                if log_type is None:
                    unclassified += 1
                    stats.unclassified += 1
                    keys = sorted(item.record)[:_SAMPLE_KEYS]
                    first_keys = first_keys or keys
                    LOGGER.debug("Record fits no log type", extra=context(origin=where, keys=keys))
                    continue
                stats.classified[log_type] += 1
                evaluation = self._engine.evaluate(log_type, item.record, where)
                stats.rule_errors += evaluation.rule_errors
                stats.alerts.update(alert.rule_name for alert in evaluation.alerts)
                yield evaluation.alerts
        finally:
            if not_records > _LOGGED_PROBLEMS:
                LOGGER.warning(
                    "More parts that are not records: not logged one by one",
                    extra=context(origin=origin, not_records=not_records, logged=_LOGGED_PROBLEMS),
                )
            if unclassified:
                LOGGER.warning(
                    "Records fit no log type of logs.json: not analysed",
                    extra=context(origin=origin, records=unclassified, first_record_keys=first_keys),
                )

    def _send(self, alerts: Sequence[Alert], stats: RunStats) -> set[str]:
        """Queue the alerts; the ids of those that may be queued by a retry."""
        result = self._sender.send(alerts)
        stats.alerts_sent += result.sent
        stats.alerts_not_sent += len(result.failed)
        stats.alerts_too_large += len(result.too_large)
        return {alert.id for alert in result.failed}


def _keys(event: Any) -> list[str]:
    return sorted(map(str, event))[:_SAMPLE_KEYS] if isinstance(event, dict) else []


def disabled_response(event: Any) -> dict[str, Any]:
    """What a disabled function returns: nothing read. Kinesis records are reported as failed, so they
    stay in the stream; S3 objects stay in their buckets."""
    LOGGER.info("The rule processor is disabled in lambda.json: nothing done")
    records = kinesis_records(event)
    if records is None:
        return {"enabled": False}
    return {"batchItemFailures": [{"itemIdentifier": record.sequence_number} for record in records]}
