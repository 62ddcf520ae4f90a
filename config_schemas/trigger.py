"""The refresh block's trigger: ``trigger`` (``"schedule"``, the default, or ``"queue"``) and, for the queue,
``event_source``, the batching and scaling of the SQS event source mapping that invokes the function.

The defaults (``models.DEFAULT_EVENT_SOURCE``) and why:

- ``batch_size`` 1,000. Lambda hands an SQS event source at most 6 MB in one invocation. A record of that
  event, for one S3 notification (about 1 KB of notification, escaped inside the record, beside a receipt
  handle of a few hundred characters, the SQS attributes and the queue's ARN), is about 2 KB: 2,080 bytes
  for an organisation trail's CloudTrail object (a test builds it). Taking 2.5 KiB a record for longer keys
  (``NOTIFICATION_RECORD_BYTES``), 6 MiB holds 2,457 of them (``LARGEST_DELIVERED_BATCH``; about 3,000 at
  2 KB), and Lambda ends a batch at 6 MB whatever ``batch_size`` says. 1,000 is under half of that: a batch
  fits whatever the keys' lengths, and its handling (a few catalog calls per table, no deletes: Lambda
  deletes) takes well under a second of the default 60 s timeout.
- ``maximum_batching_window_seconds`` 10: a notification waits at most ten seconds for its batch to fill
  (near real time), and a quiet queue costs at most one invocation each ten seconds a poller.
- ``maximum_concurrency`` 5: at most five invocations at once, so that a burst of notifications does not
  become a burst of concurrent catalog writes (Glue throttles its accounts by request rate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema

from config_schemas.fields import StrictInteger, StrictNested, StrictSchema, StrictString, describe
from config_schemas.models import DEFAULT_EVENT_SOURCE, EventSourceSettings, Trigger

TRIGGER_KEY = "trigger"
EVENT_SOURCE_KEY = "event_source"
SCHEDULE_KEY = "refresh_interval"
# Lambda's limit on the event of a synchronous invocation, which an SQS event source's batch must fit in
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024
# The most one S3 notification takes in an SQS event (a CloudTrail object's: 2,080 bytes), with room for
# longer keys
NOTIFICATION_RECORD_BYTES = 2560
LARGEST_DELIVERED_BATCH = LAMBDA_PAYLOAD_BYTES // NOTIFICATION_RECORD_BYTES
# AWS's ranges for an SQS event source mapping (standard queue)
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW_SECONDS = 300
MIN_CONCURRENCY, MAX_CONCURRENCY = 2, 1000
# Above this batch size, AWS requires a batching window of at least one second
UNWINDOWED_BATCH_SIZE = 10
_TRIGGERS = ", ".join(f'"{trigger.value}"' for trigger in Trigger)


def _trigger_problem(value: str) -> str | None:
    if value in {trigger.value for trigger in Trigger}:
        return None
    return f"must be one of {_TRIGGERS}, got {describe(value)}"


class TriggerField(StrictString):
    """``trigger``, loaded as a ``Trigger``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(f"must be one of {_TRIGGERS}", check=_trigger_problem, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        return Trigger(super()._deserialize(value, attr, data, **kwargs))


class EventSourceSchema(StrictSchema):
    """``event_source``: the queue trigger's batching and scaling, in AWS's ranges."""

    batch_size = StrictInteger(1, MAX_BATCH_SIZE, load_default=DEFAULT_EVENT_SOURCE.batch_size)
    maximum_batching_window_seconds = StrictInteger(
        0, MAX_BATCHING_WINDOW_SECONDS, load_default=DEFAULT_EVENT_SOURCE.maximum_batching_window_seconds
    )
    maximum_concurrency = StrictInteger(
        MIN_CONCURRENCY, MAX_CONCURRENCY, load_default=DEFAULT_EVENT_SOURCE.maximum_concurrency
    )

    @validates_schema(skip_on_field_errors=True)
    def check_window_of_large_batches(self, data: dict[str, Any], **kwargs: Any) -> None:
        """AWS refuses a batch size over 10 without a batching window (nothing would fill the batch)."""
        if data["batch_size"] > UNWINDOWED_BATCH_SIZE and data["maximum_batching_window_seconds"] < 1:
            raise ValidationError(
                f"must be at least 1 when batch_size is over {UNWINDOWED_BATCH_SIZE} "
                f"(got batch_size {data['batch_size']}): AWS fills a larger batch only within a window; "
                f"set a window, or a batch_size of {UNWINDOWED_BATCH_SIZE} or less",
                "maximum_batching_window_seconds",
            )

    @post_load
    def make_event_source(self, data: dict[str, Any], **kwargs: Any) -> EventSourceSettings:
        return EventSourceSettings(**data)


class TriggerSettingsSchema(StrictSchema):
    """The trigger's keys of the refresh block (its schema derives from this one): ``trigger`` and the queue's
    ``event_source``. A setting of the other trigger is an error, so that a config says what runs."""

    trigger = TriggerField(load_default=Trigger.SCHEDULE)
    event_source = StrictNested(EventSourceSchema, load_default=DEFAULT_EVENT_SOURCE)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def check_settings_of_the_trigger(self, data: dict[str, Any], original_data: Any, **kwargs: Any) -> None:
        if not isinstance(original_data, Mapping) or (
            TRIGGER_KEY in original_data and TRIGGER_KEY not in data
        ):
            return  # not an object, or an invalid trigger (already reported)
        trigger = data.get(TRIGGER_KEY, Trigger.SCHEDULE)
        errors: dict[str, str] = {}
        if trigger is Trigger.SCHEDULE and EVENT_SOURCE_KEY in original_data:
            errors[EVENT_SOURCE_KEY] = (
                f'is a setting of the queue trigger, and "{TRIGGER_KEY}" is "{Trigger.SCHEDULE.value}": '
                f'set "{TRIGGER_KEY}": "{Trigger.QUEUE.value}", or remove it'
            )
        if trigger is Trigger.QUEUE and SCHEDULE_KEY in original_data:
            errors[SCHEDULE_KEY] = (
                f'is a setting of the schedule, and "{TRIGGER_KEY}" is "{Trigger.QUEUE.value}" (the queue '
                f'invokes the function, no schedule runs): remove it, or set "{TRIGGER_KEY}": '
                f'"{Trigger.SCHEDULE.value}"'
            )
        if errors:
            raise ValidationError(errors)
