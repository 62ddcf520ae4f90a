"""One refresh function on the embedded emulator: Glue and Athena on moto, the queue on moto or in memory
(streamalert_cli.testing.sqs), every AWS call counted by operation in one counter."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws

from apps.athena_refresh.refresher import PartitionRefresher, RefreshSettings
from benchmarks.workload import (
    DATABASE,
    PREFIX,
    REGION,
    BenchTable,
    partition_folder,
)
from streamalert.constants import (
    GLUE_MAX_PARTITIONS_PER_BATCH,
    SQS_MAX_BATCH,
    athena_queue_name,
    athena_workgroup_name,
)
from streamalert_cli.testing.calls import CallCounter
from streamalert_cli.testing.clock import WallClock
from streamalert_cli.testing.sqs import InMemorySqs

QUEUE_NAME = athena_queue_name(PREFIX)


@dataclass
class BenchDeployment:
    """Clients on the emulator for one table, and the counts of every call made through them."""

    table: BenchTable
    sqs: Any
    glue: Any
    athena: Any
    queue_url: str
    counter: CallCounter

    def calls(self) -> Counter[str]:
        """Every AWS call so far, by operation (the in-memory queue's too)."""
        return Counter(self.counter.calls)

    def reset_calls(self) -> None:
        self.counter.reset()

    def send(self, bodies: list[str]) -> None:
        for start in range(0, len(bodies), SQS_MAX_BATCH):
            chunk = bodies[start : start + SQS_MAX_BATCH]
            entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)]
            self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def preload(self, existing: int, total: int) -> None:
        """Write partitions ``existing`` to ``total - 1`` of the table, as earlier runs would have."""
        storage = {
            "Columns": [{"Name": "record", "Type": "string"}],
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        }
        bucket = self.table.route.source.bucket
        for start in range(existing, total, GLUE_MAX_PARTITIONS_PER_BATCH):
            inputs = []
            for index in range(start, min(total, start + GLUE_MAX_PARTITIONS_PER_BATCH)):
                folder = partition_folder(self.table, index)
                values = [part.partition("=")[2] for part in folder.split("/") if "=" in part]
                location = f"s3://{bucket}/{folder}/"
                inputs.append({"Values": values, "StorageDescriptor": {**storage, "Location": location}})
            self.glue.batch_create_partition(
                DatabaseName=DATABASE, TableName=self.table.name, PartitionInputList=inputs
            )

    def refresher(self) -> PartitionRefresher:
        """A new refresher, as a cold container builds it (no long-poll wait: the figures are calls)."""
        return PartitionRefresher.build(
            self.table.block(),
            prefix=PREFIX,
            sqs=self.sqs,
            glue=self.glue,
            athena=self.athena,
            settings=RefreshSettings(receive_wait_seconds=0),
            sleep=lambda _: None,
        )


@contextmanager
def emulated(table: BenchTable, *, queue: str = "memory") -> Iterator[BenchDeployment]:
    """A fresh emulated account holding the database, the table and the queue (``memory`` or ``moto``)."""
    with _aws_environment(), mock_aws():
        glue: Any = boto3.client("glue", region_name=REGION)
        athena = boto3.client("athena", region_name=REGION)
        counter = CallCounter()
        sqs: Any = (
            InMemorySqs(WallClock(), QUEUE_NAME, counter=counter)
            if queue == "memory"
            else boto3.client("sqs", region_name=REGION)
        )
        queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        glue.create_database(DatabaseInput={"Name": DATABASE})
        athena.create_work_group(Name=athena_workgroup_name(PREFIX))
        glue.create_table(DatabaseName=DATABASE, TableInput=_table_input(table))
        counter.attach(glue, athena, *([] if queue == "memory" else [sqs]))
        yield BenchDeployment(table, sqs, glue, athena, queue_url, counter)


def _table_input(table: BenchTable) -> dict[str, Any]:
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in table.partition_keys],
        "StorageDescriptor": {
            "Columns": [{"Name": "record", "Type": "string"}],
            "Location": table.location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        },
    }


@contextmanager
def _aws_environment() -> Iterator[None]:
    """Fake credentials and a fixed region, so that nothing can reach a real account; the environment is
    restored as it was afterwards."""
    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION}
    with mock.patch.dict(os.environ, fake):
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)
        yield
