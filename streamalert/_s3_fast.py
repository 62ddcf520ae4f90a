"""The schema of the fast path of ``s3_events``: msgspec decodes the four fields a refresh reads
(event source and name, bucket name, object key) and skips the rest of the body unread.

Importing this module fails without msgspec; ``s3_events`` then reads every body with the standard
library. Decoding fails (``DECODE_ERRORS``) on every body that is not JSON, on every body where a field
it reads is missing or of another type, and on every record of another source than S3 or of another
event than the four object creations S3 announces (a removal, or a creation named some day later):
``s3_events`` then reads the body the standard way. Literal values
cost no string a record, which matters over thousands of bodies a run.
"""

from __future__ import annotations

from typing import Literal

import msgspec

UNSET = msgspec.UNSET
UnsetType = msgspec.UnsetType
# ValueError: lone surrogates that UTF-8 cannot hold; RecursionError: nesting deeper than Python allows
DECODE_ERRORS = (msgspec.MsgspecError, ValueError, RecursionError)


class Bucket(msgspec.Struct, gc=False):
    name: str


class Object(msgspec.Struct, gc=False):
    key: str


class S3(msgspec.Struct, gc=False):
    bucket: Bucket
    object: Object


class Record(msgspec.Struct, gc=False):
    # S3's own field names. A record of another source, or of another event than an object creation
    # (a removal, a restore), fails to decode: its body is read the standard way.
    eventSource: Literal["aws:s3"]
    s3: S3
    eventName: Literal[
        "ObjectCreated:Put",
        "ObjectCreated:Post",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
        "",  # absent: the standard path reads it as "" too
    ] = ""


class Body(msgspec.Struct, gc=False):
    """A message body: S3 records, or an SNS envelope (``Type``, ``Message``), or an S3 test event."""

    Records: list[Record] = msgspec.field(default_factory=list)
    Type: str | msgspec.UnsetType = UNSET
    Message: str | msgspec.UnsetType = UNSET
    Event: msgspec.Raw | msgspec.UnsetType = UNSET


decode_body = msgspec.json.Decoder(Body).decode
