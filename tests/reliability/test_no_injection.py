"""Property tests: whatever keys, bucket names and table names arrive, no statement carries a character that
could end a literal or an identifier, every statement follows the one grammar the refresher writes, and
every partition it registers is a folder of an object that was announced.

The refresher runs end to end on recording clients (no AWS): what they receive is what AWS would receive.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from config_schemas.fields import bucket_name_problem, identifier_problem
from config_schemas.models import AthenaRefreshConfig, RefreshType, Source, TableRoute
from streamalert.athena import (
    UnsafeQueryError,
    add_partition_statements,
    repair_table_statement,
)
from streamalert.constants import ATHENA_MAX_QUERY_BYTES
from streamalert.deadline import Deadline
from streamalert.partitions import Partition
from streamalert.sqs import QueueMessage
from tests.helpers import FakeContext, s3_record
from tests.reliability.fault_injection import parse_statement

SAFE_VALUE = re.compile(r"[A-Za-z0-9\-_.:/ ]+")
BREAKOUT = re.compile(r"['\\\x00-\x1f\x7f]")

NASTY = (
    "'",
    '"',
    "\\",
    ";",
    "`",
    "=",
    "%",
    "+",
    "\n",
    "\x00",
    "\x85",
    "\u2028",
    " ",
    "--",
    "/*",
    "é",
    "\uff12",
)
ENCODED = ("%27", "%3D", "%2F", "%5C", "%0A", "%00", "%C2%85", "%E9", "%")
pieces = st.one_of(st.sampled_from(NASTY + ENCODED), st.text(max_size=4))
segment = st.lists(pieces, max_size=4).map("".join).filter(lambda text: "/" not in text)
column = st.one_of(st.sampled_from(("dt", "DT", "region", "d t", "dt'", "dt`")), segment)
value = st.one_of(st.sampled_from(("2024-01-01-05", "us-east-1", "a b", "x:y")), segment)
hive = st.lists(st.tuples(column, value).map("=".join), min_size=1, max_size=2)
digits = st.sampled_from(
    ("2024", "01", "02", "12", "23", "24", "30", "\uff12\uff10\uff12\uff14", "\u0660\u0661")
)
firehose = st.lists(digits, min_size=4, max_size=4)
structured = st.builds(
    lambda prefix, folders, name: "/".join([*prefix, *folders, name]),
    st.lists(segment, max_size=2),
    st.one_of(hive, firehose),
    segment,
)
raw_key = st.one_of(structured, st.text(min_size=1, max_size=60))
bucket = st.one_of(
    st.sampled_from(("acme-data", "a.b-c", "acme'x", "Acme", "a")),
    st.from_regex(r"[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]", fullmatch=True),
    st.text(min_size=1, max_size=12),
)
table = st.one_of(st.sampled_from(("waf", "alerts", "_t1")), st.text(min_size=1, max_size=8))


class RecordingAthena:
    """Athena that accepts every statement at once, and keeps them."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def start_query_execution(self, **params: Any) -> dict[str, Any]:
        self.queries.append(params["QueryString"])
        return {"QueryExecutionId": str(len(self.queries) - 1)}

    def get_query_execution(self, **params: Any) -> dict[str, Any]:
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}


class RecordingGlue:
    """A Glue catalog whose every table has the partition keys given, and that accepts every partition."""

    def __init__(self, partition_keys: tuple[str, ...], location: str) -> None:
        self.partition_keys = partition_keys
        self.location = location
        self.inputs: list[dict[str, Any]] = []

    def get_database(self, **params: Any) -> dict[str, Any]:
        return {"Database": {"Name": params["Name"]}}

    def get_table(self, **params: Any) -> dict[str, Any]:
        keys = [{"Name": key, "Type": "string"} for key in self.partition_keys]
        descriptor = {"Location": self.location}
        return {"Table": {"Name": params["Name"], "PartitionKeys": keys, "StorageDescriptor": descriptor}}

    def batch_create_partition(self, **params: Any) -> dict[str, Any]:
        self.inputs.extend(params["PartitionInputList"])
        return {"Errors": []}


def run(bucket: str, keys: list[tuple[str, bool]], table: str, partition_keys: tuple[str, ...]) -> Any:
    """Announce the keys (URL-encoded as S3 does, or raw) under ``g/`` (a Glue source) and ``h/`` (an Athena
    source) of the bucket."""
    glue, athena = RecordingGlue(partition_keys, f"s3://{bucket}/"), RecordingAthena()
    routes = (
        TableRoute(Source(bucket, "g"), table, RefreshType.ADD_GLUE_PARTITION),
        TableRoute(Source(bucket, "h"), table, RefreshType.ADD_HIVE_PARTITION),
    )
    block = AthenaRefreshConfig(
        enabled=True,
        log_level="info",
        memory=128,
        timeout=60,
        refresh_interval="rate(10 minutes)",
        routes=routes,
        database_name="streamalert",
        results_bucket="r",
    )
    refresher = PartitionRefresher.build(
        block,
        prefix="acme",
        sqs=None,
        glue=glue,
        athena=athena,
        settings=RefreshSettings(receive_wait_seconds=0),
        sleep=lambda _: None,
    )
    bodies = [
        json.dumps({"Records": [s3_record(bucket, f"{folder}/{key}", encode=encode)]})
        for key, encode in keys
        for folder in ("g", "h")
    ]
    messages = [QueueMessage(f"m{n}", f"r{n}", body) for n, body in enumerate(bodies)]
    refresher.run_event_source(messages, Deadline.from_context(FakeContext()))
    return glue, athena


def announced_objects(bucket: str, keys: list[tuple[str, bool]]) -> set[str]:
    objects = set()
    for key, encode in keys:
        decoded = unquote_plus(quote_plus(key, safe="/")) if encode else unquote_plus(key)
        objects |= {f"s3://{bucket}/g/{decoded}", f"s3://{bucket}/h/{decoded}"}
    return objects


def check_partition(values: tuple[str, ...], location: str, bucket: str, objects: set[str]) -> None:
    for text in (*values, location):
        assert not BREAKOUT.search(text), f"{text!r} could end a literal"
    assert location.startswith(f"s3://{bucket}/")
    assert location.endswith("/")
    assert any(obj.startswith(location) for obj in objects), f"{location!r} holds no announced object"
    assert all(any(f"={v}/" in obj or v.replace("-", "/") in obj for obj in objects) for v in values)


scenario = given(
    bucket=bucket,
    keys=st.lists(st.tuples(raw_key, st.booleans()), min_size=1, max_size=4),
    table=table,
    partition_keys=st.sampled_from((("dt",), ("region", "dt"), ("dt'",))),
)
quick = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@scenario
def test_every_statement_and_partition_is_well_formed_and_announced(
    bucket: str, keys: list[tuple[str, bool]], table: str, partition_keys: tuple[str, ...]
) -> None:
    if identifier_problem(table, "table") or bucket_name_problem(bucket):
        return  # the config schema refuses it: it never reaches the refresher
    glue, athena = run(bucket, keys, table, partition_keys)
    objects = announced_objects(bucket, keys)

    for query in athena.queries:
        assert len(query.encode()) <= ATHENA_MAX_QUERY_BYTES
        statement = parse_statement(query)  # the strict grammar, or ValueError
        assert (statement.database, statement.table) == ("streamalert", table)
        for columns, values, location in statement.partitions:
            assert columns == partition_keys
            check_partition(values, location, bucket, objects)
    for partition in glue.inputs:
        check_partition(
            tuple(partition["Values"]), partition["StorageDescriptor"]["Location"], bucket, objects
        )


def registered_text(bucket: str, keys: list[tuple[str, bool]], table: str) -> list[str]:
    glue, athena = run(bucket, keys, table, ("dt",))
    texts = [text for query in athena.queries for text in query.split("'")[1::2]]
    return texts + [v for p in glue.inputs for v in (*p["Values"], p["StorageDescriptor"]["Location"])]


@quick
@scenario
@example(
    bucket="acme-data",
    keys=[("cloudtrail/\uff12\uff10\uff12\uff14/01/02/03/x", True)],
    table="t",
    partition_keys=("dt",),
)
def test_partition_values_are_plain_ascii(
    bucket: str, keys: list[tuple[str, bool]], table: str, partition_keys: tuple[str, ...]
) -> None:
    glue, athena = run(bucket, keys, "t", partition_keys)
    values = [v for q in athena.queries for _c, vs, _l in parse_statement(q).partitions for v in vs]
    values += [v for p in glue.inputs for v in p["Values"]]
    assert all(SAFE_VALUE.fullmatch(v) for v in values), values


@quick
@scenario
@example(bucket="acme-data", keys=[("a\x85b/dt=1/x", False)], table="t", partition_keys=("dt",))
def test_locations_hold_no_control_character(
    bucket: str, keys: list[tuple[str, bool]], table: str, partition_keys: tuple[str, ...]
) -> None:
    glue, athena = run(bucket, keys, "t", partition_keys)
    locations = [loc for q in athena.queries for _c, _v, loc in parse_statement(q).partitions]
    locations += [p["StorageDescriptor"]["Location"] for p in glue.inputs]
    assert not [loc for loc in locations if any(unicodedata.category(c) == "Cc" for c in loc)]


@settings(max_examples=200, deadline=None)
@given(database=table, name=table, count=st.integers(1, 60), max_bytes=st.integers(300, 2000))
def test_statement_builders_refuse_or_split_faithfully(
    database: str, name: str, count: int, max_bytes: int
) -> None:
    partitions = [
        Partition(("dt",), (f"2024-01-{n:04d}",), f"s3://b/t/dt=2024-01-{n:04d}/") for n in range(count)
    ]
    try:
        statements = add_partition_statements(database, name, partitions, max_bytes=max_bytes)
        repair = repair_table_statement(database, name)
    except UnsafeQueryError:
        assert identifier_problem(database, "database") or identifier_problem(name, "table")
        return
    assert parse_statement(repair).repair
    carried = [p for _statement, members in statements for p in members]
    assert carried == partitions, "every partition exactly once, in order"
    for statement, members in statements:
        assert len(statement.encode()) <= max_bytes
        parsed = parse_statement(statement)
        assert [(p.columns, p.values, p.location) for p in members] == list(parsed.partitions)
