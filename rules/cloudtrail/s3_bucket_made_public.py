"""An S3 bucket opened to the world: a public ACL, a policy allowing anyone, or its public access block
removed."""

from __future__ import annotations

import json
from typing import Any

from rules.cloudtrail import CLOUDTRAIL, as_list, succeeded
from streamalert.constants import ALERTS_S3_OUTPUT
from streamalert.rules import Record, lookup, rule

# Tuples, not sets: a value of an odd record may be a list, which a set cannot look up
_PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
# Removing the block at bucket level (API DeletePublicAccessBlock) or for the whole account (S3 Control)
_BLOCK_REMOVALS = (
    "DeleteBucketPublicAccessBlock",
    "DeletePublicAccessBlock",
    "DeleteAccountPublicAccessBlock",
)
# Condition keys that keep a statement with Principal "*" to known callers, as IAM Access Analyzer
# judges it: such a statement does not make the bucket public
_RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "aws:username",
    }
)


@rule(logs=[CLOUDTRAIL], outputs=[ALERTS_S3_OUTPUT])
def s3_bucket_made_public(record: Record) -> bool:
    if record.get("eventSource") not in ("s3.amazonaws.com", None) or not succeeded(record):
        return False
    event_name = record.get("eventName")
    if event_name in _BLOCK_REMOVALS:
        return True
    parameters = record.get("requestParameters")
    if not isinstance(parameters, dict):
        return False
    if event_name == "PutBucketAcl":
        return _public_acl(parameters)
    if event_name == "PutBucketPolicy":
        return _public_policy(parameters.get("bucketPolicy"))
    return False


def _public_acl(parameters: dict[str, Any]) -> bool:
    canned = {str(acl).lower() for acl in as_list(parameters.get("x-amz-acl"))}
    if canned & _PUBLIC_CANNED_ACLS:
        return True
    grants = as_list(lookup(parameters, "AccessControlPolicy", "AccessControlList", "Grant"))
    return any(lookup(grant, "Grantee", "URI") in _PUBLIC_GROUPS for grant in grants)


def _public_policy(policy: Any) -> bool:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, dict):
        return False
    return any(_public_statement(statement) for statement in as_list(policy.get("Statement")))


def _public_statement(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if not _anyone(statement.get("Principal")):
        return False
    conditions = statement.get("Condition")
    if not isinstance(conditions, dict):
        return True
    keys = {
        str(key).lower() for operator in conditions.values() if isinstance(operator, dict) for key in operator
    }
    return not keys & _RESTRICTING_CONDITION_KEYS


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False
