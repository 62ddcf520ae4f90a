"""scripts/destroy: which resources a targeted destroy takes, and which it keeps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streamalert_cli.destroy import destroy_targets
from streamalert_cli.processors import by_name
from streamalert_cli.terraform.context import DeployTarget, shared_context
from tests.streamalert_cli.terraform.conftest import fixture_config

STATE = [
    "aws_s3_bucket.local_bucket_acme_firehose_data",
    "aws_s3_bucket_notification.bucket_acme_firehose_data",
    "aws_s3_bucket_notification.bucket_acme_streamalerts",
    "module.athena_refresh.aws_glue_catalog_database.streamalert",
    "module.athena_refresh.aws_glue_catalog_table.alerts",
    "module.athena_refresh.aws_lambda_alias.production",
    "module.athena_refresh.aws_lambda_function.refresh",
    "module.athena_refresh.aws_s3_bucket.alerts",
    "module.athena_refresh.aws_s3_bucket.results",
    "module.athena_refresh.aws_s3_bucket_public_access_block.alerts",
    "module.athena_refresh.aws_s3_bucket_server_side_encryption_configuration.alerts",
    "module.athena_refresh.aws_sqs_queue.notifications",
    "module.rule_processor.aws_lambda_function.rules",
]


def deployment(local: bool) -> Any:
    config = fixture_config("basic")
    athena = by_name("athena")
    context = athena.module_context(config)
    return SimpleNamespace(
        selected=(athena,),
        module_contexts={athena.module: context},
        shared=shared_context(config, DeployTarget(local=local), [context]),
    )


def test_the_data_and_catalog_are_kept() -> None:
    targets, kept = destroy_targets(deployment(local=True), STATE)

    assert kept == [
        "module.athena_refresh.aws_glue_catalog_database.streamalert",
        "module.athena_refresh.aws_glue_catalog_table.alerts",
        "module.athena_refresh.aws_s3_bucket.alerts",
        "module.athena_refresh.aws_s3_bucket_public_access_block.alerts",
        "module.athena_refresh.aws_s3_bucket_server_side_encryption_configuration.alerts",
    ]
    assert targets == [
        "aws_s3_bucket.local_bucket_acme_firehose_data",
        "aws_s3_bucket_notification.bucket_acme_firehose_data",
        "aws_s3_bucket_notification.bucket_acme_streamalerts",
        "module.athena_refresh.aws_lambda_alias.production",
        "module.athena_refresh.aws_lambda_function.refresh",
        "module.athena_refresh.aws_s3_bucket.results",
        "module.athena_refresh.aws_sqs_queue.notifications",
    ]


def test_other_processors_are_never_targeted() -> None:
    targets, kept = destroy_targets(deployment(local=False), STATE)

    assert not any(address.startswith("module.rule_processor.") for address in targets + kept)
    assert "aws_s3_bucket.local_bucket_acme_firehose_data" not in targets
