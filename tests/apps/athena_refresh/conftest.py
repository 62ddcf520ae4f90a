"""A moto account laid out like a deployment: data buckets, the queue, the catalog and its tables."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.athena.models import athena_backends

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from config_schemas.models import (
    Account,
    AthenaRefreshConfig,
    Config,
    GlobalConfig,
    LambdaConfig,
    RefreshType,
    Source,
    TableRoute,
)
from streamalert.constants import athena_queue_name, athena_workgroup_name
from streamalert.sqs import QueueMessage
from streamalert_cli.testing.calls import CallCounter
from tests.helpers import ACCOUNT_ID, REGION

PREFIX = "acme"
DATABASE = "streamalert"
QUEUE = athena_queue_name(PREFIX)

# table -> partition keys
TABLES: dict[str, tuple[str, ...]] = {
    "alerts": ("dt",),
    "cloudtrail": ("dt",),
    "vpcflow": ("dt",),
    "waf": ("region", "dt"),
    "legacy": ("dt",),
}
# table -> its LOCATION: every partition folder lies under it
LOCATIONS: dict[str, str] = {
    "alerts": "s3://acme.streamalerts/alerts/",
    "cloudtrail": "s3://acme-data/cloudtrail/",
    "vpcflow": "s3://acme-data/vpcflow/",
    "waf": "s3://acme-waf/",
    "legacy": "s3://acme-legacy/x/",
}

# Each route as a user writes it in lambda.json
ROUTES = (
    TableRoute(Source("acme.streamalerts"), "alerts", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "cloudtrail"), "cloudtrail", RefreshType.ADD_GLUE_PARTITION),
    TableRoute(Source("acme-data", "vpcflow"), "vpcflow", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-waf"), "waf", RefreshType.ADD_HIVE_PARTITION),
    TableRoute(Source("acme-legacy"), "legacy", RefreshType.REPAIR_HIVE_TABLE),
)


def make_config(routes: tuple[TableRoute, ...] = ROUTES, *, enabled: bool = True) -> Config:
    block = AthenaRefreshConfig(
        enabled=enabled,
        log_level="debug",
        memory=128,
        timeout=60,
        refresh_interval="rate(10 minutes)",
        routes=routes,
        database_name=DATABASE,
        results_bucket=f"{PREFIX}-streamalert-athena-results",
    )
    return Config(GlobalConfig(Account(ACCOUNT_ID, PREFIX, REGION)), LambdaConfig(block))


class OneCallAtATime:
    """A client whose API calls run one at a time, whichever thread makes them: moto's in-process SQS
    is not thread-safe (two deletes at once can bring a deleted message back), real SQS is. The drain's
    threads still make their calls in any order; each call is atomic, as on AWS."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name not in self._client.meta.method_to_api_mapping:
            return real

        def call(**params: Any) -> Any:
            with self._lock:
                return real(**params)

        return call


@dataclass
class Deployment:
    """Clients on the moto account, plus what a test needs to drive and inspect a refresh."""

    sqs: Any
    glue: Any
    athena: Any
    queue_url: str
    calls: CallCounter = field(default_factory=CallCounter)

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def messages_left(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def partitions(self, table: str) -> dict[tuple[str, ...], str]:
        """values -> location of every partition the catalog holds for the table."""
        paginator = self.glue.get_paginator("get_partitions")
        return {
            tuple(p["Values"]): p["StorageDescriptor"]["Location"]
            for page in paginator.paginate(DatabaseName=DATABASE, TableName=table)
            for p in page["Partitions"]
        }

    def queries(self) -> list[str]:
        """The statements Athena received (moto accepts them and runs nothing)."""
        executions = athena_backends[ACCOUNT_ID][REGION].executions
        return [execution.query for execution in executions.values()]

    def received_messages(self, count: int) -> list[QueueMessage]:
        """Take messages off the queue as SQS would hand them to an event-source invocation."""
        messages: list[QueueMessage] = []
        while len(messages) < count:
            response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages.extend(
                QueueMessage(m["MessageId"], m["ReceiptHandle"], m["Body"])
                for m in response.get("Messages", [])
            )
        return messages


def create_table(glue: Any, name: str, partition_keys: tuple[str, ...], location: str | None = None) -> None:
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in partition_keys],
            "StorageDescriptor": {
                "Columns": [{"Name": "record", "Type": "string"}],
                "Location": location or LOCATIONS[name],
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        },
    )


@pytest.fixture
def deployment(moto: None) -> Deployment:
    sqs = OneCallAtATime(boto3.client("sqs", region_name=REGION))
    glue = boto3.client("glue", region_name=REGION)
    athena = boto3.client("athena", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    glue.create_database(DatabaseInput={"Name": DATABASE})
    athena.create_work_group(Name=athena_workgroup_name(PREFIX))
    for name, keys in TABLES.items():
        create_table(glue, name, keys, LOCATIONS[name])
    deployment = Deployment(sqs=sqs, glue=glue, athena=athena, queue_url=queue_url)
    deployment.calls.attach(sqs, glue, athena)
    return deployment


@pytest.fixture
def make_refresher(deployment: Deployment) -> Callable[..., PartitionRefresher]:
    """Builds a refresher on the deployment's (counted) clients; keyword arguments override its parts."""

    def build(config: Config | None = None, **overrides: Any) -> PartitionRefresher:
        block = (config or make_config()).athena_refresh
        assert block is not None
        return PartitionRefresher.build(
            block,
            prefix=PREFIX,
            sqs=overrides.pop("sqs", deployment.sqs),
            glue=overrides.pop("glue", deployment.glue),
            athena=overrides.pop("athena", deployment.athena),
            settings=overrides.pop("settings", RefreshSettings(receive_wait_seconds=0)),
            sleep=lambda _: None,
            **overrides,
        )

    return build
