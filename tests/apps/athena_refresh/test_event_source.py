"""The SQS event-source invocation: report what was not handled, never delete."""

from __future__ import annotations

from typing import Any

from streamalert.deadline import Deadline
from streamalert.sqs import QueueMessage, messages_from_event
from tests.apps.athena_refresh.conftest import DATABASE
from tests.helpers import FakeContext, s3_body


def test_reports_exactly_the_messages_not_fully_handled(deployment, make_refresher):
    deployment.send(
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
        "not json",
        s3_body(("unmapped-bucket", "x/dt=2024-01-01-05/a.json")),
        s3_body(("acme-waf", "logs/region=us-east-1/dt=2024-03-01-10/w.json")),
    )
    messages = deployment.received_messages(4)
    deployment.calls.reset()
    bad = {m.message_id for m in messages if "not json" in m.body or "unmapped-bucket" in m.body}

    result = make_refresher().run_event_source(messages, Deadline.from_context(FakeContext()))

    assert {failure["itemIdentifier"] for failure in result["batchItemFailures"]} == bad
    assert deployment.calls["DeleteMessageBatch"] == 0
    assert deployment.calls["ReceiveMessage"] == 0
    assert list(deployment.partitions("alerts")) == [("2024-01-01-05",)]


def test_missing_database_reports_every_message_as_failed(deployment, make_refresher):
    deployment.send(*(s3_body(("acme.streamalerts", f"alerts/dt=2024-01-01-05/{n}.json")) for n in range(3)))
    messages = deployment.received_messages(3)
    deployment.glue.delete_database(Name=DATABASE)

    result = make_refresher().run_event_source(messages, Deadline.from_context(FakeContext()))

    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(
        m.message_id for m in messages
    )


def sqs_event(messages: list[QueueMessage], bodies: dict[str, Any]) -> dict[str, Any]:
    """The event-source invocation of the messages, with the bodies given by message id replacing theirs."""
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": bodies.get(m.message_id, m.body),
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
    }


def test_null_body_is_reported_alone_and_its_neighbours_handled(deployment, make_refresher):
    deployment.send(
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
        s3_body(("acme-waf", "logs/region=us-east-1/dt=2024-03-01-10/w.json")),
        s3_body(("acme-data", "cloudtrail/2024/01/02/03/t.json")),
    )
    received = deployment.received_messages(3)
    nulled = next(m.message_id for m in received if "acme-waf" in m.body)
    messages = messages_from_event(sqs_event(received, {nulled: None}))
    assert messages is not None

    result = make_refresher().run_event_source(messages, Deadline.from_context(FakeContext()))

    assert result["batchItemFailures"] == [{"itemIdentifier": nulled}]
    assert list(deployment.partitions("alerts")) == [("2024-01-01-05",)]
    assert list(deployment.partitions("cloudtrail")) == [("2024-01-02-03",)]
