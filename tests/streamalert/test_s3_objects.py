"""Reading log objects from S3 (moto): gzip or plain, missing objects, failures while fetching."""

from __future__ import annotations

import gzip
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from streamalert.json_records import JsonRecord
from streamalert.s3_events import S3Object
from streamalert.s3_objects import ObjectGoneError, ObjectReadError, S3ObjectReader
from tests.helpers import REGION, FaultyClient

BUCKET = "acme-logs"


@pytest.fixture
def s3(moto: None) -> Any:
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def test_a_gzip_cloudtrail_object(s3: Any) -> None:
    body = gzip.compress(json.dumps({"Records": [{"eventName": "A"}]}).encode())
    s3.put_object(Bucket=BUCKET, Key="AWSLogs/x.json.gz", Body=body)

    items = list(S3ObjectReader(s3).records(S3Object(BUCKET, "AWSLogs/x.json.gz")))

    assert items == [JsonRecord("1.0", {"eventName": "A"})]


def test_a_plain_object_named_gz_is_read_plain(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="x.gz", Body=b'{"a": 1}\n')

    assert [item.position for item in S3ObjectReader(s3).records(S3Object(BUCKET, "x.gz"))] == ["1"]


def test_a_missing_object_is_gone(s3: Any) -> None:
    with pytest.raises(ObjectGoneError, match="s3://acme-logs/nope: no such object"):
        list(S3ObjectReader(s3).records(S3Object(BUCKET, "nope")))


def test_access_denied_is_a_read_error(s3: Any) -> None:
    def denied(real: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    reader = S3ObjectReader(FaultyClient(s3, get_object=denied))  # type: ignore[arg-type]

    with pytest.raises(ObjectReadError, match=r"cannot be fetched.*AccessDenied") as caught:
        list(reader.records(S3Object(BUCKET, "x")))
    assert not isinstance(caught.value, ObjectGoneError)


def test_a_corrupt_gzip_is_a_read_error_after_the_records_before_it(s3: Any) -> None:
    body = gzip.compress(b'{"a": 1}\n' * 5000)
    s3.put_object(Bucket=BUCKET, Key="cut.gz", Body=body[: len(body) // 2])
    read: list[Any] = []

    with pytest.raises(ObjectReadError, match="cannot be read to its end"):
        read.extend(S3ObjectReader(s3).records(S3Object(BUCKET, "cut.gz")))
    assert read
