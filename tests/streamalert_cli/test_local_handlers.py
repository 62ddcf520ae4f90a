"""The --local proof runs each deployed function from the zip this deploy uploaded, once its bytes are
those its alias runs, with events the handlers' own parsers read."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from apps.rule_processor.inputs import s3_notification
from streamalert.s3_events import S3Object
from streamalert.sqs import messages_from_event
from streamalert_cli.common import StepFailed
from streamalert_cli.local_handlers import DeployedHandlers, s3_event, sqs_event
from streamalert_cli.packaging import Package
from streamalert_cli.processors import by_name
from streamalert_cli.zip_runner import LambdaRuntime
from tests.helpers import REGION

SOURCE_BUCKET = "acme-streamalert-source"
ALERT_FUNCTION = "acme_streamalert_alert_processor"
NOT_RUN = LambdaRuntime("no-python-runs", Path("no-libraries"))  # for the hops refused before running


def test_the_s3_event_announces_the_object() -> None:
    s3_object = S3Object("acme-cloudtrail-logs", "local-check/a b+c.json")

    notification = s3_notification(s3_event(s3_object, 12, "us-east-1"))

    assert notification is not None
    assert notification.objects == (s3_object,)


def test_the_sqs_event_carries_every_message() -> None:
    received = [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"},
        {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "[]"},
    ]

    messages = messages_from_event(sqs_event(received, "arn:aws:sqs:us-east-1:1:q", "us-east-1"))

    assert messages is not None
    assert [(m.message_id, m.receipt_handle, m.body) for m in messages] == [
        ("m1", "r1", "{}"),
        ("m2", "r2", "[]"),
    ]


def deploy_alert_function(package: Package, *, uploaded: bytes = b"", deployed: bytes = b"") -> None:
    """As the deploy leaves them: ``uploaded`` at the zip's key, an alias running ``deployed`` (both the
    zip's bytes unless given)."""
    data = package.path.read_bytes()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=SOURCE_BUCKET)
    s3.put_object(Bucket=SOURCE_BUCKET, Key=package.key, Body=uploaded or data)
    s3.put_object(Bucket=SOURCE_BUCKET, Key="deployed.zip", Body=deployed or data)
    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name=REGION)
    version = client.create_function(
        FunctionName=ALERT_FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="apps.alert_processor.main.handler",
        Code={"S3Bucket": SOURCE_BUCKET, "S3Key": "deployed.zip"},
        Timeout=30,
        Publish=True,
    )["Version"]
    client.create_alias(FunctionName=ALERT_FUNCTION, Name="production", FunctionVersion=version)


def handlers(package: Package, runtime: LambdaRuntime = NOT_RUN) -> DeployedHandlers:
    return DeployedHandlers(
        lambda_client=boto3.client("lambda", region_name=REGION),
        s3_client=boto3.client("s3", region_name=REGION),
        source_bucket=SOURCE_BUCKET,
        packages={"alert_processor": package},
        runtime=runtime,
        prefix="acme",
        endpoint="http://127.0.0.1:9",  # the alert handler calls no AWS for an empty event
        region=REGION,
    )


@pytest.mark.usefixtures("moto")
def test_the_alias_runs_from_the_uploaded_zip(
    alert_package: Package, runtime: LambdaRuntime, tmp_path: Path
) -> None:
    deploy_alert_function(alert_package)
    log_path = tmp_path / "alert-handler.log"

    run = handlers(alert_package, runtime).invoke(
        by_name("alert"), {}, step="alert handler", log_path=log_path
    )

    assert run.result == {"batchItemFailures": []}
    assert "Not an SQS event" in log_path.read_text()


@pytest.mark.usefixtures("moto")
def test_an_alias_that_runs_other_code_fails_the_hop(alert_package: Package, tmp_path: Path) -> None:
    deploy_alert_function(alert_package, deployed=b"another zip")

    with pytest.raises(
        StepFailed, match=f"alert handler failed: {ALERT_FUNCTION}:production does not run s3://"
    ):
        handlers(alert_package).invoke(by_name("alert"), {}, step="alert handler", log_path=tmp_path / "log")


@pytest.mark.usefixtures("moto")
def test_an_uploaded_object_that_is_not_the_built_zip_fails_the_hop(
    alert_package: Package, tmp_path: Path
) -> None:
    deploy_alert_function(alert_package, uploaded=b"another zip")

    with pytest.raises(StepFailed, match=r"is not the zip this deploy built"):
        handlers(alert_package).invoke(by_name("alert"), {}, step="alert handler", log_path=tmp_path / "log")
