"""The deployment and the traffic that every benchmark runs on: tables, routes and realistic S3 bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote_plus

from config_schemas.models import AthenaRefreshConfig, RefreshType, Source, TableRoute

REGION = "us-east-1"
PREFIX = "bench"
DATABASE = "streamalert"
RESULTS_BUCKET = f"{PREFIX}-streamalert-athena-results"
# The Lambda's longest timeout: the benchmark measures calls, never a run cut short by its deadline
LAMBDA_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class BenchTable:
    """A table of the benchmark deployment, the route its objects take and how its keys look."""

    route: TableRoute
    partition_keys: tuple[str, ...]
    layout: str  # "hive" (dt=YYYY-MM-DD-HH/), "hive2" (region=/dt=/) or "firehose" (YYYY/MM/DD/HH/)

    @property
    def name(self) -> str:
        return self.route.table

    @property
    def location(self) -> str:
        """The table's LOCATION: its source's folder."""
        source = self.route.source
        return f"s3://{source.bucket}/{source.prefix}/" if source.prefix else f"s3://{source.bucket}/"

    def block(self) -> AthenaRefreshConfig:
        """The refresh block of the benchmark deployment, this table its one route."""
        return AthenaRefreshConfig(
            enabled=True,
            log_level="info",
            memory=128,
            timeout=int(LAMBDA_TIMEOUT_SECONDS),
            refresh_interval="rate(10 minutes)",
            routes=(self.route,),
            database_name=DATABASE,
            results_bucket=RESULTS_BUCKET,
        )


def _table(bucket: str, prefix: str, name: str, kind: RefreshType, layout: str) -> BenchTable:
    keys = ("region", "dt") if layout == "hive2" else ("dt",)
    return BenchTable(TableRoute(Source(bucket, prefix), name, kind), keys, layout)


# One table per refresh type, as the call benchmark measures each type on its own.
TABLE_BY_TYPE: dict[RefreshType, BenchTable] = {
    RefreshType.ADD_GLUE_PARTITION: _table(
        "bench.streamalerts", "alerts", "alerts", RefreshType.ADD_GLUE_PARTITION, "hive"
    ),
    RefreshType.ADD_HIVE_PARTITION: _table(
        "bench-data", "vpcflow", "vpcflow", RefreshType.ADD_HIVE_PARTITION, "hive"
    ),
    RefreshType.REPAIR_HIVE_TABLE: _table(
        "bench-legacy", "", "legacy", RefreshType.REPAIR_HIVE_TABLE, "hive"
    ),
}

# The mixed traffic of the throughput benchmark: the three computed-partition layouts, two buckets.
MIXED_TABLES: tuple[BenchTable, ...] = (
    _table("bench.streamalerts", "alerts", "alerts", RefreshType.ADD_GLUE_PARTITION, "hive"),
    _table("bench-data", "cloudtrail", "cloudtrail", RefreshType.ADD_GLUE_PARTITION, "firehose"),
    _table("bench-data", "vpcflow", "vpcflow", RefreshType.ADD_HIVE_PARTITION, "hive"),
    _table("bench-waf", "", "waf", RefreshType.ADD_HIVE_PARTITION, "hive2"),
)

_WAF_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def partition_folder(table: BenchTable, index: int) -> str:
    """The folder (no bucket, no '/' at its end) of the table's ``index``-th partition, one an hour."""
    day, hour = divmod(index, 24)
    year, rest = divmod(day, 336)
    month, dom = divmod(rest, 28)
    stamp = (2024 - year, month + 1, dom + 1, hour)
    base = f"{table.route.source.prefix}/" if table.route.source.prefix else ""
    if table.layout == "firehose":
        return f"{base}{stamp[0]:04d}/{stamp[1]:02d}/{stamp[2]:02d}/{stamp[3]:02d}"
    dt = f"dt={stamp[0]:04d}-{stamp[1]:02d}-{stamp[2]:02d}-{stamp[3]:02d}"
    if table.layout == "hive2":
        return f"{base}region={_WAF_REGIONS[index % len(_WAF_REGIONS)]}/{dt}"
    return f"{base}{dt}"


def s3_record(bucket: str, key: str, sequence: int) -> dict[str, object]:
    """One record as S3 writes it (every field of the 2.1 event; the key URL-encoded, '=' as %3D)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": f"2024-01-02T03:{sequence // 60 % 60:02d}:{sequence % 60:02d}.{sequence % 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": f"10.0.{sequence // 256 % 256}.{sequence % 256}"},
        "responseElements": {
            "x-amz-request-id": f"C3D13FE5{sequence:08X}",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD+"
            f"{sequence:012d}AbCdEfGh",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "streamalert-athena-refresh-notification",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": 1024 + sequence % 4096,
                "eTag": f"d41d8cd98f00b204e98009{sequence:010x}",
                "versionId": f"096fKKXTRTtl3on89fVO.nfljtsv6q{sequence % 100:02d}",
                "sequencer": f"0055AED6DC{sequence:08X}",
            },
        },
    }


def notification_body(bucket: str, key: str, sequence: int) -> str:
    """A message body announcing one object, as SQS delivers it from S3 (about 1 KB)."""
    return json.dumps({"Records": [s3_record(bucket, key, sequence)]})


def object_key(table: BenchTable, partition_index: int, sequence: int) -> str:
    """A Firehose-style object name inside the table's partition."""
    folder = partition_folder(table, partition_index)
    return f"{folder}/{table.name}-delivery-1-2024-01-02-03-04-05-{sequence:08x}-5e6f-7a8b-9c0d.json.gz"


def bodies_for(table: BenchTable, messages: int, partitions: int, first_partition: int = 0) -> list[str]:
    """``messages`` bodies, one object each, spread round-robin over ``partitions`` distinct partitions."""
    return [
        notification_body(
            table.route.source.bucket, object_key(table, first_partition + i % partitions, i), i
        )
        for i in range(messages)
    ]


def mixed_bodies(messages: int, partitions_per_table: int) -> list[str]:
    """The throughput workload: one object a message, round-robin over the mixed tables."""
    bodies = []
    for i in range(messages):
        table = MIXED_TABLES[i % len(MIXED_TABLES)]
        key = object_key(table, (i // len(MIXED_TABLES)) % partitions_per_table, i)
        bodies.append(notification_body(table.route.source.bucket, key, i))
    return bodies
