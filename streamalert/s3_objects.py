"""Log objects of S3 read as records: streamed, gzip or plain, within the limits of ``json_records``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from streamalert.exceptions import StreamAlertError
from streamalert.json_records import READ_ERRORS, JsonProblem, JsonRecord, Limits, read_records
from streamalert.s3_events import S3Object

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_GONE_CODES = frozenset({"NoSuchKey", "404"})


class ObjectReadError(StreamAlertError):
    """An object that could not be read (access denied, a network failure, a corrupt gzip)."""


class ObjectGoneError(ObjectReadError):
    """The object does not exist (any more): reading it again will not help."""


class S3ObjectReader:
    """Reads the records of log objects with the client it is given."""

    def __init__(self, client: S3Client, limits: Limits | None = None) -> None:
        self._client = client
        self.limits = limits or Limits()

    def records(self, s3_object: S3Object) -> Iterator[JsonRecord | JsonProblem]:
        """The object's records as they are read (see ``streamalert.json_records``).

        Raises ObjectGoneError for a missing object, ObjectReadError when the object cannot be fetched or
        read to its end; the records yielded before the error stand.
        """
        try:
            response = self._client.get_object(Bucket=s3_object.bucket, Key=s3_object.key)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in _GONE_CODES:
                raise ObjectGoneError(f"{s3_object}: no such object") from err
            raise ObjectReadError(f"{s3_object}: cannot be fetched: {err}") from err
        except BotoCoreError as err:
            raise ObjectReadError(f"{s3_object}: cannot be fetched: {err}") from err
        body = response["Body"]
        try:
            yield from read_records(body, self.limits)
        except (*READ_ERRORS, BotoCoreError) as err:
            raise ObjectReadError(f"{s3_object}: cannot be read to its end: {err}") from err
        finally:
            body.close()
