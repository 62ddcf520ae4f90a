"""The planner's per-folder memory gives the needs and reasons that working out every object alone gives."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.athena_refresh.plan import Need, Planner
from apps.athena_refresh.routing import SourceRouter
from config_schemas.models import RefreshType, Source, TableRoute
from streamalert.glue import TableInfo
from streamalert.partitions import (
    PartitionKeyError,
    check_repairable,
    check_under_table,
    conform_to_table,
    partition_from_key,
)
from streamalert.s3_events import NotificationError, read_notification
from streamalert.sqs import QueueMessage

ROUTES = (
    TableRoute(Source("acme.streamalerts"), "alerts", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "cloudtrail"), "cloudtrail", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "vpcflow"), "vpcflow", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-waf"), "waf", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-legacy"), "legacy", RefreshType.REPAIR_HIVE_TABLE),
)
TABLES = {
    "alerts": ("dt",),
    "cloudtrail": ("dt",),
    "vpcflow": ("dt",),
    "waf": ("region", "dt"),
    "legacy": ("dt",),
}


def table_info(table: str) -> TableInfo:
    """The table as the catalog holds it: its LOCATION is its source's folder."""
    source = next(route.source for route in ROUTES if route.table == table)
    folder = f"{source.prefix}/" if source.prefix else ""
    return TableInfo(table, TABLES[table], {"Location": f"s3://{source.bucket}/{folder}"})


FOLDERS = [
    "alerts/dt=2024-01-01-05",
    "alerts/dt=bad'value",
    "alerts/DT=2024-01-01-06",
    "cloudtrail/2024/01/02/03",
    "cloudtrail/2024/13/02/03",
    "cloudtrail",
    "vpcflow/dt=2024-02-01-00",
    "vpcflow/region=x/dt=1",
    "region=us-east-1/dt=2024-01-01-05",
    "dt=2024-01-01-05",
    "",
]
objects = st.tuples(
    st.sampled_from(["acme.streamalerts", "acme-data", "acme-waf", "acme-legacy", "elsewhere"]),
    st.sampled_from(FOLDERS),
    st.sampled_from(["a.json", "b c.json", "x%2Fy.json", "_$folder$", ""]),
)


def expected_needs(bucket: str, key: str, router: SourceRouter) -> Need | None:
    """The need of one object worked out alone, as the planner did before it remembered folders."""
    route = router.route(bucket, key)
    if route is None:
        return None
    table = table_info(route.table)
    try:
        partition = conform_to_table(partition_from_key(bucket, key), table.partition_keys)
        if route.refresh_type is RefreshType.REPAIR_HIVE_TABLE:
            check_repairable(partition, table.location)
        else:
            check_under_table(partition, table.location)
    except PartitionKeyError:
        return None
    return Need(route.table, partition)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(objects, min_size=1, max_size=3), min_size=1, max_size=30))
def test_planner_remembering_folders_gives_what_each_object_alone_gives(
    messages: list[list[tuple[str, str, str]]],
) -> None:
    router = SourceRouter(ROUTES)
    queue_messages = []
    for index, announced in enumerate(messages):
        records = [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": quote(f"{folder}/{name}" if folder else name, safe="/")},
                },
            }
            for bucket, folder, name in announced
        ]
        queue_messages.append(QueueMessage(f"m{index}", f"r{index}", json.dumps({"Records": records})))

    plan = Planner(router, table_info).plan(queue_messages)

    first_location: dict[tuple[str, tuple[str, ...]], str] = {}  # a partition's folder: the first planned
    for planned in plan.messages:
        try:
            notification = read_notification(planned.message.body)
        except NotificationError:
            assert (planned.needs, len(planned.keep_reasons)) == (set(), 1)
            continue
        needs = {obj: expected_needs(obj.bucket, obj.key, router) for obj in notification.objects}
        for obj, need in needs.items():
            if need is not None and need.partition is not None:
                where = (need.table, need.partition.values)
                if first_location.setdefault(where, need.partition.location) != need.partition.location:
                    needs[obj] = None
        unmet = sum(need is None for need in needs.values())
        assert planned.needs == {need for need in needs.values() if need is not None}
        assert len(planned.keep_reasons) == len(notification.problems) + unmet
