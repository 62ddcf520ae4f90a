"""Read what the data buckets' notification configurations hold before the deploy renders them.

Terraform's ``aws_s3_bucket_notification`` writes a bucket's whole configuration, so the deploy first reads
each bucket's (``GetBucketNotificationConfiguration``): every entry it did not create is rendered again
beside its own, and an EventBridge delivery already on stays on. Which entries are the deployment's is
decided by ``notifications.is_own_entry`` alone. Locally, a bucket's ``STAND_IN_TAG`` tells a stand-in the
deployment created from a bucket that was there before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from streamalert.exceptions import StreamAlertError
from streamalert_cli.terraform.context import STAND_IN_TAG
from streamalert_cli.terraform.notifications import (
    FUNCTION_DESTINATION,
    QUEUE_DESTINATION,
    TOPIC_DESTINATION,
    BucketState,
    NotificationEntry,
    is_own_entry,
)

# The lists of a configuration, their kind and the key of their destination's ARN
_ENTRY_LISTS = (
    ("QueueConfigurations", QUEUE_DESTINATION, "QueueArn"),
    ("TopicConfigurations", TOPIC_DESTINATION, "TopicArn"),
    ("LambdaFunctionConfigurations", FUNCTION_DESTINATION, "LambdaFunctionArn"),
)
_ABSENT = {"NoSuchBucket", "404", "NotFound"}
_NO_TAGS = {"NoSuchTagSet", "NoSuchTagSetError"}


class NotificationReadError(StreamAlertError):
    """A bucket whose notification configuration cannot be read: deploying would replace what it holds."""


def read_bucket_states(
    s3: Any, buckets: Iterable[str], prefix: str, modules: Collection[str], *, local: bool
) -> tuple[BucketState, ...]:
    """What each existing bucket holds that the deployment (``prefix``, its ``modules``) did not create,
    in the order given; a bucket that does not exist is left out. Locally, whether a bucket is a stand-in
    of this deployment too. NotificationReadError names every bucket that could not be read."""
    states: list[BucketState] = []
    problems: list[str] = []
    for bucket in buckets:
        try:
            configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
        except s3.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in _ABSENT:
                continue
            problems.append(f"{bucket} ({code or err})")
            continue
        kept = tuple(entry for entry in entries(configuration) if not is_own_entry(entry.id, prefix, modules))
        states.append(
            BucketState(
                bucket=bucket,
                kept=kept,
                eventbridge="EventBridgeConfiguration" in configuration,
                stand_in=local and _is_stand_in(s3, bucket, prefix),
            )
        )
    if problems:
        raise NotificationReadError(
            "cannot read the notification configuration of " + ", ".join(problems) + ": the deploy reads "
            "it to keep the entries it did not create, and writing it unread could remove them; grant "
            "s3:GetBucketNotification on the bucket (scripts/deploy --print-deployer-policy)"
        )
    return tuple(states)


def entries(configuration: Mapping[str, Any]) -> list[NotificationEntry]:
    """The queue, topic and function entries of a ``GetBucketNotificationConfiguration`` answer."""
    found = []
    for key, kind, arn_key in _ENTRY_LISTS:
        for raw in configuration.get(key) or ():
            rules = {
                rule["Name"].lower(): rule["Value"]
                for rule in raw.get("Filter", {}).get("Key", {}).get("FilterRules", ())
            }
            found.append(
                NotificationEntry(
                    id=raw.get("Id", ""),
                    kind=kind,
                    arn=raw[arn_key],
                    events=tuple(raw["Events"]),
                    filter_prefix=rules.get("prefix", ""),
                    filter_suffix=rules.get("suffix", ""),
                )
            )
    return found


def _is_stand_in(s3: Any, bucket: str, prefix: str) -> bool:
    """True when the bucket carries this deployment's stand-in tag (created by a local deploy)."""
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except s3.exceptions.ClientError as err:
        if err.response.get("Error", {}).get("Code") in _NO_TAGS:
            return False
        raise
    return any(tag["Key"] == STAND_IN_TAG and tag["Value"] == prefix for tag in tags)
