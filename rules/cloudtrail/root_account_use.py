"""The root user did something: CIS AWS Foundations 1.7 / 4.3, "avoid the use of the root user"."""

from __future__ import annotations

from rules.cloudtrail import CLOUDTRAIL
from streamalert.constants import ALERTS_S3_OUTPUT, LOG_OUTPUT
from streamalert.rules import Record, lookup, rule


@rule(logs=[CLOUDTRAIL], outputs=[ALERTS_S3_OUTPUT, LOG_OUTPUT])
def root_account_use(record: Record) -> bool:
    """Root credentials used by a person or a program; not AWS acting on the account's behalf (events
    with ``invokedBy``, or of type ``AwsServiceEvent``), as in the CIS benchmark's metric filter."""
    return (
        lookup(record, "userIdentity", "type") == "Root"
        and lookup(record, "userIdentity", "invokedBy") is None
        and record.get("eventType") != "AwsServiceEvent"
    )
