"""A successful console sign-in without MFA: CIS AWS Foundations 4.2 (3.2 in v1.4)."""

from __future__ import annotations

from rules.cloudtrail import CLOUDTRAIL, succeeded
from streamalert.constants import ALERTS_S3_OUTPUT
from streamalert.rules import Record, lookup, rule

# Federated and SSO sign-ins (AssumedRole, FederatedUser...) record MFAUsed "No" because MFA happens at
# the identity provider: only users whose password AWS checks are in scope, as in the CIS filter.
_PASSWORD_USERS = ("IAMUser", "Root")


@rule(logs=[CLOUDTRAIL], outputs=[ALERTS_S3_OUTPUT])
def console_login_without_mfa(record: Record) -> bool:
    return (
        record.get("eventName") == "ConsoleLogin"
        and lookup(record, "userIdentity", "type") in _PASSWORD_USERS
        and lookup(record, "additionalEventData", "MFAUsed") == "No"
        and lookup(record, "responseElements", "ConsoleLogin") == "Success"
        and succeeded(record)
    )
