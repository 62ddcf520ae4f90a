"""The shipped CloudTrail rules on sample logs: every sample record raises exactly the alerts it should."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.rule_processor.classifier import Classifier
from rules.cloudtrail.console_login_without_mfa import console_login_without_mfa
from rules.cloudtrail.root_account_use import root_account_use
from rules.cloudtrail.s3_bucket_made_public import s3_bucket_made_public
from streamalert.config import load_config
from streamalert.rules import load_rules
from tests.helpers import REPO

SAMPLES = REPO / "tests" / "fixtures" / "logs" / "cloudtrail"

# eventID of each sample record -> the rules it must set off (and no others)
EXPECTED: dict[str, set[str]] = {
    "root-console-login-with-mfa": {"root_account_use"},
    "root-creates-access-key": {"root_account_use"},
    "iam-user-console-login-without-mfa": {"console_login_without_mfa"},
    "root-console-login-without-mfa": {"root_account_use", "console_login_without_mfa"},
    "acl-grants-all-users": {"s3_bucket_made_public"},
    "acl-grants-authenticated-users-alone": {"s3_bucket_made_public"},
    "canned-acl-public-read": {"s3_bucket_made_public"},
    "policy-allows-everyone": {"s3_bucket_made_public"},
    "policy-allows-every-aws-principal": {"s3_bucket_made_public"},
    "policy-anyone-over-tls-only": {"s3_bucket_made_public"},
    "public-access-block-deleted": {"s3_bucket_made_public"},
    "iam-user-console-login-with-mfa": set(),
    "failed-console-login-without-mfa": set(),
    "sso-console-login": set(),
    "aws-service-acting-for-root": set(),
    "aws-service-event-with-root-identity": set(),
    "acl-owner-only": set(),
    "acl-all-users-denied": set(),
    "policy-anyone-through-vpc-endpoint": set(),
    "policy-denies-everyone": set(),
    "policy-allows-one-account": set(),
    "describe-instances": set(),
}


def sample_records() -> list[dict[str, Any]]:
    return [
        record
        for path in sorted(SAMPLES.glob("*.json"))
        for record in json.loads(path.read_text())["Records"]
    ]


RECORDS = {record["eventID"]: record for record in sample_records()}
CLASSIFIER = Classifier(load_config(REPO / "conf").logs.log_types)


def test_every_sample_has_an_expectation() -> None:
    assert sorted(RECORDS) == sorted(EXPECTED)


@pytest.mark.parametrize("event_id", sorted(EXPECTED))
def test_sample_sets_off_exactly_its_rules(event_id: str) -> None:
    record = RECORDS[event_id]
    log_type = CLASSIFIER.classify(record)
    assert log_type == "cloudtrail:events"
    rules = load_rules().for_log_type()[log_type]

    assert {rule.name for rule in rules if rule.function(record)} == EXPECTED[event_id]


@pytest.mark.parametrize("rule", [root_account_use, console_login_without_mfa, s3_bucket_made_public])
def test_every_rule_has_a_sample_that_sets_it_off(rule: Any) -> None:
    assert any(rule.__name__ in rules for rules in EXPECTED.values())


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"userIdentity": "Root"},
        {"eventName": "ConsoleLogin", "additionalEventData": None, "userIdentity": {"type": "IAMUser"}},
        {"eventName": "PutBucketAcl", "requestParameters": None},
        {"eventName": "PutBucketAcl", "requestParameters": {"AccessControlPolicy": "odd"}},
        {"eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": "not json"}},
        {"eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": {"Statement": ["odd", 7]}}},
        {"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com", "requestParameters": []},
        {
            "eventName": ["ConsoleLogin"],
            "eventSource": ["s3.amazonaws.com"],
            "userIdentity": {"type": ["Root"]},
        },
        {
            "eventName": "PutBucketAcl",
            "requestParameters": {
                "x-amz-acl": [["public-read"]],
                "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": ["AllUsers"]}}]}},
            },
        },
        {
            "eventName": "PutBucketPolicy",
            "requestParameters": {
                "bucketPolicy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": [["*"]]}}}
            },
        },
    ],
)
def test_rules_answer_false_on_odd_records(record: dict[str, Any]) -> None:
    for rule in (root_account_use, console_login_without_mfa, s3_bucket_made_public):
        assert rule(record) is False


def test_a_policy_written_as_a_json_string_is_read() -> None:
    policy = json.dumps({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"}})
    record = {"eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": policy}}

    assert s3_bucket_made_public(record) is True
