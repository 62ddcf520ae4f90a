"""The functions' handlers as the local proof runs them: each from the zip this deploy uploaded, checked to
be the code of its deployed alias, in the functions' runtime (``streamalert_cli.zip_runner``) with the
deployed configuration (handler, timeout, memory, variables) and the emulator's endpoint; and the events
Lambda would build for them (S3 notification, SQS batch)."""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from streamalert.constants import LAMBDA_ALIAS
from streamalert.s3_events import S3Object
from streamalert_cli.common import StepFailed
from streamalert_cli.packaging import Package
from streamalert_cli.processors import Processor
from streamalert_cli.zip_runner import LambdaFunction, LambdaRuntime, ZipRun, emulator_environment, run_zip


class DeployedHandlers:
    """Invokes the deployed functions of one local deploy from their uploaded zips."""

    def __init__(
        self,
        *,
        lambda_client: Any,
        s3_client: Any,
        source_bucket: str,
        packages: Mapping[str, Package],
        runtime: LambdaRuntime,
        prefix: str,
        endpoint: str,
        region: str,
    ) -> None:
        self._lambda = lambda_client
        self._s3 = s3_client
        self._source_bucket = source_bucket
        self._packages = packages
        self._runtime = runtime
        self._prefix = prefix
        self._aws_environment = emulator_environment(endpoint, region)

    def invoke(self, processor: Processor, event: Mapping[str, Any], *, step: str, log_path: Path) -> ZipRun:
        """Run the processor's production alias on ``event`` from the zip this deploy uploaded for it,
        once its bytes are checked to be those built and those the alias runs."""
        package = self._packages[processor.module]
        function_name = processor.function_name(self._prefix)
        configuration = self._lambda.get_function_configuration(
            FunctionName=function_name, Qualifier=LAMBDA_ALIAS
        )
        function = LambdaFunction(
            name=configuration["FunctionName"],
            handler=configuration["Handler"],
            timeout=configuration["Timeout"],
            memory=configuration["MemorySize"],
            version=configuration["Version"],
            environment=configuration.get("Environment", {}).get("Variables", {}),
        )
        with tempfile.TemporaryDirectory(prefix="uploaded-zip-") as scratch:
            zip_path = Path(scratch) / f"{processor.app}.zip"
            location = f"s3://{self._source_bucket}/{package.key}"
            data = self._s3.get_object(Bucket=self._source_bucket, Key=package.key)["Body"].read()
            digest = hashlib.sha256(data).digest()
            if digest.hex() != package.sha256_hex:
                raise StepFailed(step, f"{location} is not the zip this deploy built ({package.path})")
            if base64.b64encode(digest).decode() != configuration["CodeSha256"]:
                raise StepFailed(step, f"{function_name}:{LAMBDA_ALIAS} does not run {location}")
            zip_path.write_bytes(data)
            return run_zip(
                zip_path,
                function,
                event,
                runtime=self._runtime,
                aws_environment=self._aws_environment,
                step=step,
                log_path=log_path,
                source=location,
            )


def s3_event(s3_object: S3Object, size: int, region: str) -> dict[str, Any]:
    """The event S3 gives a function for one new object (the fields the handlers read, and a few more)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": s3_object.bucket, "arn": f"arn:aws:s3:::{s3_object.bucket}"},
                    # S3 URL-encodes the key in its events (a space as "+")
                    "object": {"key": quote_plus(s3_object.key, safe="/"), "size": size},
                },
            }
        ]
    }


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping gives a function for received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def one_line(result: Mapping[str, Any]) -> str:
    """A handler's result as compact JSON for a progress line."""
    return json.dumps(result, sort_keys=True, separators=(", ", ": "))
