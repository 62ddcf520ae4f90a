"""How data buckets announce new objects: the entries of each bucket's one S3 notification configuration
(this deployment's, merged across modules, beside the entries others made, which are kept), or EventBridge
rules for buckets set to ``"notifications": "eventbridge"`` in ``global.json``.

S3 keeps one notification configuration per bucket and Terraform's ``aws_s3_bucket_notification`` writes
all of it, so every entry this deployment did not create is read before rendering (``BucketState``,
``streamalert_cli/bucket_notifications.py``) and rendered again as it is. Which entries are this
deployment's is decided here alone (``is_own_entry``): their id starts with the deployment's namespace.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamalert.exceptions import StreamAlertError

S3_OBJECT_CREATED = "s3:ObjectCreated:*"
# Where an entry sends events: a module's output ``queue_arn`` (SQS) or ``notified_function_arn`` (Lambda);
# an entry kept from another consumer may also name an SNS topic
QUEUE_DESTINATION = "queue"
FUNCTION_DESTINATION = "function"
TOPIC_DESTINATION = "topic"
_DESTINATION_OUTPUTS = {QUEUE_DESTINATION: "queue_arn", FUNCTION_DESTINATION: "notified_function_arn"}
EVENTBRIDGE_SOURCE = "aws.s3"
EVENTBRIDGE_OBJECT_CREATED = "Object Created"
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")


class NotificationConflictError(StreamAlertError):
    """Two consumers of one bucket whose notification filters overlap: S3 would refuse the configuration."""


@dataclass(frozen=True)
class BucketSubscription:
    """What a module wants of a bucket's S3 notification: objects created under ``filter_prefix`` go to
    its queue (``QUEUE_DESTINATION``) or its function (``FUNCTION_DESTINATION``). ``id`` is the module's
    name of the entry; it is rendered inside the deployment's namespace (``own_entry_id``)."""

    bucket: str
    id: str
    filter_prefix: str
    destination: str


@dataclass(frozen=True)
class NotificationEntry:
    """An entry of a bucket's notification configuration as S3 holds it: events of objects matching the
    filters go to ``arn``, a queue, topic or function (``kind``)."""

    id: str
    kind: str
    arn: str
    events: tuple[str, ...]
    filter_prefix: str = ""
    filter_suffix: str = ""


@dataclass(frozen=True)
class BucketState:
    """What a data bucket holds that this deployment did not create, read before rendering: the entries
    of its notification configuration (``kept``), whether EventBridge delivery is on, and (local only)
    whether the bucket is a stand-in this deployment created. A bucket that does not exist has none."""

    bucket: str
    kept: tuple[NotificationEntry, ...] = ()
    eventbridge: bool = False
    stand_in: bool = False


def entry_namespace(prefix: str) -> str:
    """What the id of every notification entry of the deployment starts with."""
    return f"{prefix}_streamalert:"


def own_entry_id(prefix: str, module_id: str) -> str:
    """The id an entry of the deployment is rendered with: its module's id in the deployment's namespace."""
    return entry_namespace(prefix) + module_id


def is_own_entry(entry_id: str, prefix: str, modules: Collection[str]) -> bool:
    """True for an entry this deployment created: its id is in the deployment's namespace, or is the
    ``<module>:<source>`` of a module (the ids of versions before the namespace, which replaced a bucket's
    whole configuration, so that such an entry on a bucket was written by the last deployment to it)."""
    if entry_id.startswith(entry_namespace(prefix)):
        return True
    module, colon, _ = entry_id.partition(":")
    return bool(colon) and module in modules


@dataclass(frozen=True)
class Destination:
    """One entry of a bucket's notification as rendered: a module's queue or function (``module`` and its
    ``output``), or an entry kept as it was (``module`` empty, ``arn`` its destination)."""

    id: str
    kind: str
    events: tuple[str, ...]
    filter_prefix: str
    filter_suffix: str = ""
    module: str = ""
    output: str = ""
    arn: str = ""

    @property
    def kept(self) -> bool:
        return not self.module

    def __str__(self) -> str:
        filters = [f"{name} {value!r}" for name, value in (("prefix", self.filter_prefix),) if value]
        if self.filter_suffix:
            filters.append(f"suffix {self.filter_suffix!r}")
        shown = f"{self.kind} {self.arn}, {', '.join(self.events)}"
        return f'"{self.id}" ({shown}{", " if filters else ""}{", ".join(filters)})'


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule sending a source's ``Object Created`` events to a module's queue (``output``)."""

    resource: str
    name: str
    description: str
    pattern: dict[str, Any]
    module: str
    output: str
    bucket: str
    filter_prefix: str


@dataclass(frozen=True)
class BucketNotification:
    """The one notification configuration of a bucket (``resource`` its Terraform name): the destinations
    of every module reading it, the entries kept from others, and EventBridge delivery. ``modules``: every
    module with a source on the bucket (whether its entries are rendered or not); ``stand_in`` names the
    local bucket standing in for it."""

    resource: str
    bucket: str
    queues: tuple[Destination, ...]
    functions: tuple[Destination, ...]
    modules: tuple[str, ...]
    topics: tuple[Destination, ...] = ()
    eventbridge: bool = False
    stand_in: str | None = None

    @property
    def kept(self) -> tuple[Destination, ...]:
        """The entries of others, rendered as they were."""
        return tuple(d for d in (*self.queues, *self.topics, *self.functions) if d.kept)

    @property
    def ours(self) -> tuple[Destination, ...]:
        return tuple(d for d in (*self.queues, *self.functions) if not d.kept)


@dataclass(frozen=True)
class ModuleSubscriptions:
    """A module's name and what it wants of the data buckets."""

    module: str
    subscriptions: tuple[BucketSubscription, ...]


def bucket_notifications(
    prefix: str,
    modules: Sequence[ModuleSubscriptions],
    states: Mapping[str, BucketState],
    eventbridge_buckets: Collection[str],
    withdrawn: Collection[str] = (),
) -> tuple[tuple[BucketNotification, ...], tuple[EventRule, ...]]:
    """Every subscribed bucket's notification and the EventBridge rules of the EventBridge buckets.

    On an S3 bucket, each module's entry is rendered beside the entries kept from ``states``; on an
    EventBridge bucket only the kept entries are, with EventBridge delivery on, and each queue subscription
    becomes a rule. ``withdrawn`` modules keep their rules but lose their entries (destroy hands a bucket
    back so). NotificationConflictError when entries of two modules, or of a module and another consumer,
    overlap; or when a function (the rule processor) subscribes to an EventBridge bucket."""
    by_bucket: dict[str, list[tuple[str, BucketSubscription]]] = {}
    for subscriber in modules:
        for entry in subscriber.subscriptions:
            by_bucket.setdefault(entry.bucket, []).append((subscriber.module, entry))
    notifications: list[BucketNotification] = []
    rules: list[EventRule] = []
    used: set[str] = set()
    used_rules: set[str] = set()
    for bucket in sorted(by_bucket):
        subscribed = by_bucket[bucket]
        state = states.get(bucket, BucketState(bucket))
        via_eventbridge = bucket in eventbridge_buckets
        ours: list[Destination] = []
        for module, entry in subscribed:
            if via_eventbridge:
                rules.append(_event_rule(prefix, module, entry, used_rules))
            elif module not in withdrawn:
                ours.append(_destination(prefix, module, entry))
        kept = [_kept(entry) for entry in state.kept]
        check_overlaps(bucket, [*ours, *kept])
        destinations = [*ours, *kept]
        notifications.append(
            BucketNotification(
                resource=_resource_name("bucket_" + bucket, used),
                bucket=bucket,
                queues=tuple(d for d in destinations if d.kind == QUEUE_DESTINATION),
                functions=tuple(d for d in destinations if d.kind == FUNCTION_DESTINATION),
                topics=tuple(d for d in destinations if d.kind == TOPIC_DESTINATION),
                modules=tuple(sorted({module for module, _ in subscribed})),
                eventbridge=via_eventbridge or state.eventbridge,
            )
        )
    return tuple(notifications), tuple(rules)


def _destination(prefix: str, module: str, entry: BucketSubscription) -> Destination:
    return Destination(
        id=own_entry_id(prefix, entry.id),
        kind=entry.destination,
        events=(S3_OBJECT_CREATED,),
        filter_prefix=entry.filter_prefix,
        module=module,
        output=_DESTINATION_OUTPUTS[entry.destination],
    )


def _kept(entry: NotificationEntry) -> Destination:
    return Destination(
        id=entry.id,
        kind=entry.kind,
        events=entry.events,
        filter_prefix=entry.filter_prefix,
        filter_suffix=entry.filter_suffix,
        arn=entry.arn,
    )


def eventbridge_rule_name(prefix: str, bucket: str, filter_prefix: str) -> str:
    """The EventBridge rule of a source: in the deployment's namespace, named by a digest of the source
    (a rule name holds at most 64 characters, a bucket and prefix many more)."""
    digest = hashlib.sha256(f"{bucket}/{filter_prefix}".encode()).hexdigest()[:16]
    return f"{prefix}_streamalert_objects_{digest}"


def eventbridge_pattern(bucket: str, filter_prefix: str) -> dict[str, Any]:
    """The event pattern of a source: S3's ``Object Created`` events of the bucket, under the prefix."""
    detail: dict[str, Any] = {"bucket": {"name": [bucket]}}
    if filter_prefix:
        detail["object"] = {"key": [{"prefix": filter_prefix}]}
    return {"source": [EVENTBRIDGE_SOURCE], "detail-type": [EVENTBRIDGE_OBJECT_CREATED], "detail": detail}


def _event_rule(prefix: str, module: str, entry: BucketSubscription, used: set[str]) -> EventRule:
    if entry.destination != QUEUE_DESTINATION:
        raise NotificationConflictError(
            f"bucket {entry.bucket} is set to EventBridge in global.json, but the {module} source "
            f"{_shown(entry.bucket, entry.filter_prefix)} needs S3 to invoke its function: set "
            f'"notifications": "s3" for the bucket (validate-config refuses this config)'
        )
    shown = _shown(entry.bucket, entry.filter_prefix)
    return EventRule(
        resource=_resource_name(f"objects_{entry.bucket}_{entry.filter_prefix}".rstrip("/"), used),
        name=eventbridge_rule_name(prefix, entry.bucket, entry.filter_prefix),
        description=f"Object Created events of s3://{shown}/ to the {module} queue",
        pattern=eventbridge_pattern(entry.bucket, entry.filter_prefix),
        module=module,
        output=_DESTINATION_OUTPUTS[QUEUE_DESTINATION],
        bucket=entry.bucket,
        filter_prefix=entry.filter_prefix,
    )


def events_overlap(first: Iterable[str], second: Iterable[str]) -> bool:
    """True when an event of one list is an event of the other (``s3:ObjectCreated:*`` holds every
    ``s3:ObjectCreated:...``)."""
    second = list(second)
    return any(_event_overlaps(one, other) for one in first for other in second)


def _event_overlaps(one: str, other: str) -> bool:
    if one == other:
        return True
    for wildcard, name in ((one, other), (other, one)):
        if wildcard.endswith("*") and name.startswith(wildcard[:-1]):
            return True
    return False


def destinations_overlap(first: Destination, second: Destination) -> bool:
    """S3's rule: one event may not go to two entries whose events intersect, whose prefixes are one the
    start of the other, and whose suffixes are one the end of the other (an empty filter matches all)."""
    shorter, longer = sorted((first.filter_prefix, second.filter_prefix), key=len)
    short_suffix, long_suffix = sorted((first.filter_suffix, second.filter_suffix), key=len)
    return (
        events_overlap(first.events, second.events)
        and longer.startswith(shorter)
        and long_suffix.endswith(short_suffix)
    )


def check_overlaps(bucket: str, destinations: Sequence[Destination]) -> None:
    """Refuse entries of one bucket that overlap (``destinations_overlap``): S3 rejects the whole
    configuration at apply time. Overlaps within one processor are the config schema's to report, and
    overlaps between entries of others S3 already accepted."""
    for index, first in enumerate(destinations):
        for second in destinations[index + 1 :]:
            if first.module == second.module or not destinations_overlap(first, second):
                continue
            raise NotificationConflictError(_conflict(bucket, first, second))


def _conflict(bucket: str, first: Destination, second: Destination) -> str:
    if not first.kept and not second.kept:
        return (
            f"bucket {bucket}: the {first.module} source {_shown(bucket, first.filter_prefix)} and the "
            f"{second.module} source {_shown(bucket, second.filter_prefix)} overlap, and S3 keeps one "
            "destination per object event: give one of them another bucket or a folder the other "
            "does not contain"
        )
    ours, theirs = (second, first) if first.kept else (first, second)
    return (
        f"bucket {bucket}: the entry {theirs} of its notification configuration was not made by this "
        f"deployment and overlaps the {ours.module} source {_shown(bucket, ours.filter_prefix)}; S3 "
        "takes one destination per object event, so nothing was changed. Either narrow one of them to a "
        "prefix the other does not contain (that entry belongs to whoever added it; this deployment's "
        f'sources are in lambda.json), or set "{bucket}": {{"notifications": "eventbridge"}} in '
        'global.json\'s "buckets": the deployment then reads the bucket through EventBridge and leaves '
        "its notification entries as they are"
    )


def _shown(bucket: str, filter_prefix: str) -> str:
    prefix = filter_prefix.rstrip("/")
    return f"{bucket}/{prefix}" if prefix else bucket


def _resource_name(text: str, used: set[str]) -> str:
    """A Terraform resource name (dots, hyphens and slashes become underscores), unique in ``used``."""
    base = _NOT_IDENTIFIER.sub("_", text)
    name, counter = base, 2
    while name in used:
        name, counter = f"{base}_{counter}", counter + 1
    used.add(name)
    return name
