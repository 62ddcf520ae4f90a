"""The one AWS client factory: region, retries and timeouts are decided here and nowhere else.

Endpoints are not: boto3's standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables
point every client at an emulator or a private endpoint without code of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class AwsSettings:
    """What every client of one function shares."""

    region: str
    max_attempts: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


def client(service: str, settings: AwsSettings) -> Any:
    """A boto3 client with botocore's standard retry mode (throttling and 5xx retried with backoff)."""
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=settings.region,
        config=Config(
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        ),
    )


def sqs_client(settings: AwsSettings) -> SQSClient:
    result: SQSClient = client("sqs", settings)
    return result


def glue_client(settings: AwsSettings) -> GlueClient:
    result: GlueClient = client("glue", settings)
    return result


def athena_client(settings: AwsSettings) -> AthenaClient:
    result: AthenaClient = client("athena", settings)
    return result


def s3_client(settings: AwsSettings) -> S3Client:
    result: S3Client = client("s3", settings)
    return result
