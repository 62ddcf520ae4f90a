"""The scan that tells the IAM actions a function's code calls (aws_calls.py), on small snippets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.streamalert_cli.terraform.aws_calls import (
    FACTORY_MODULE,
    ScanError,
    called_actions,
    shipped_sources,
)

REPO = Path(__file__).resolve().parents[3]
FACTORY_SOURCE = (REPO / "streamalert" / "aws.py").read_text()


def actions(main: str, **modules: str) -> dict[str, list[str]]:
    """The actions called by a handler module (and others), with the real client factory beside them."""
    sources = {FACTORY_MODULE: FACTORY_SOURCE, "apps.demo.main": textwrap.dedent(main)}
    sources.update({name.replace("__", "."): textwrap.dedent(text) for name, text in modules.items()})
    found = called_actions(sources).actions
    return {action: sorted(map(str, sites)) for action, sites in found.items()}


def test_a_call_on_a_client_of_the_factory_is_its_operations_action() -> None:
    main = """
        from streamalert import aws

        def handler(event, context):
            catalog = aws.glue_client(aws.AwsSettings(region="us-east-1"))
            catalog.batch_create_partition(DatabaseName="d", TableName="t", PartitionInputList=[])
    """

    assert actions(main) == {"glue:BatchCreatePartition": ["apps.demo.main:6"]}


def test_a_call_in_a_method_the_handler_reaches_by_name_counts() -> None:
    main = """
        from streamalert import aws
        from apps.demo.store import Store

        def handler(event, context):
            Store(aws.s3_client(aws.AwsSettings(region="us-east-1"))).save(b"x")
    """
    store = """
        class Store:
            def __init__(self, client):
                self._client = client

            def save(self, body):
                self._write(body)

            def _write(self, body):
                self._client.put_object(Bucket="b", Key="k", Body=body)

            def remove(self):
                self._client.delete_object(Bucket="b", Key="k")
    """

    assert actions(main, apps__demo__store=store) == {"s3:PutObject": ["apps.demo.store:10"]}


def test_operations_of_services_without_a_client_are_not_calls() -> None:
    main = """
        from streamalert import aws

        def handler(event, context, queue):
            client = aws.s3_client(aws.AwsSettings(region="us-east-1"))
            queue.receive_message(QueueUrl="u")
            client.get_object(Bucket="b", Key="k")
    """

    assert set(actions(main)) == {"s3:GetObject"}


@pytest.mark.parametrize(
    ("call", "action"),
    [
        ('client.send_message_batch(QueueUrl="u", Entries=[])', "sqs:SendMessage"),
        ('client.delete_message_batch(QueueUrl="u", Entries=[])', "sqs:DeleteMessage"),
        ('client.get_queue_url(QueueName="q")', "sqs:GetQueueUrl"),
    ],
)
def test_an_operation_is_authorized_by_its_iam_action(call: str, action: str) -> None:
    main = f"""
        from streamalert import aws

        def handler(event, context):
            client = aws.client("sqs", aws.AwsSettings(region="us-east-1"))
            {call}
    """

    assert set(actions(main)) == {action}


def test_a_paginator_calls_the_operation_it_is_named_after() -> None:
    main = """
        from streamalert import aws

        def handler(event, context):
            client = aws.s3_client(aws.AwsSettings(region="us-east-1"))
            for page in client.get_paginator("list_objects_v2").paginate(Bucket="b"):
                pass
    """

    assert set(actions(main)) == {"s3:ListBucket"}


AMBIGUOUS = """
    from streamalert import aws
    from apps.demo.catalog import look

    def handler(event, context):
        settings = aws.AwsSettings(region="us-east-1")
        look(aws.glue_client(settings), aws.athena_client(settings))
"""


def test_an_operation_name_two_services_share_is_refused() -> None:
    catalog = """
        def look(glue, athena):
            glue.get_database(Name="d")
    """

    shared = r"apps.demo.catalog:3: .get_database\(\) is an operation of athena and glue"
    with pytest.raises(ScanError, match=shared):
        actions(AMBIGUOUS, apps__demo__catalog=catalog)


def test_the_client_types_a_module_imports_settle_a_shared_name() -> None:
    catalog = """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from mypy_boto3_glue import GlueClient

        def look(glue: GlueClient, athena):
            glue.get_database(Name="d")
    """

    found = actions(AMBIGUOUS, apps__demo__catalog=catalog)

    assert set(found) == {"glue:GetDatabase"}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("aws.client(name, settings)", "a client whose service is not a literal"),
        ('boto3.resource("s3")', "a boto3 resource"),
        ('aws.s3_client(settings).upload_file("f", "b", "k")', r".upload_file\(\) of s3"),
        ("aws.s3_client(settings).get_paginator(name)", "a paginator whose operation is not a literal"),
    ],
)
def test_calls_the_scan_cannot_tell_are_refused(code: str, message: str) -> None:
    main = f"""
        import boto3
        from streamalert import aws

        def handler(event, context, name):
            settings = aws.AwsSettings(region="us-east-1")
            {code}
    """

    with pytest.raises(ScanError, match=message):
        actions(main)


def test_a_functions_code_is_what_its_handler_imports() -> None:
    refresh = shipped_sources("athena_refresh", REPO)
    rules = shipped_sources("rule_processor", REPO)

    assert {"apps.athena_refresh.main", "streamalert.glue", "streamalert.aws", "streamalert"} <= set(refresh)
    assert not any(name.startswith(("streamalert_cli", "apps.rule")) for name in refresh)
    assert any(name.startswith("rules.") for name in rules)  # imported by name, not by an import statement
