"""The refresh run end to end on moto: what gets registered, what gets deleted, what stays."""

from __future__ import annotations

import json

import pytest

from streamalert import logger
from streamalert.deadline import Deadline
from streamalert.glue import DatabaseNotFoundError
from tests.apps.athena_refresh.conftest import DATABASE
from tests.helpers import S3_TEST_EVENT, FakeContext, s3_body, sns_wrapped

CATALOG_WRITES = {"BatchCreatePartition", "StartQueryExecution"}


def run(refresher, remaining_ms: float = 60_000, tick_ms: float = 0):
    return refresher.run_scheduled(Deadline.from_context(FakeContext(remaining_ms, tick_ms)))


def test_glue_source_partitions_are_registered_then_messages_deleted(deployment, make_refresher):
    deployment.send(
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-06/b.json")),
    )

    summary = run(make_refresher())

    assert deployment.partitions("alerts") == {
        ("2024-01-01-05",): "s3://acme.streamalerts/alerts/dt=2024-01-01-05/",
        ("2024-01-01-06",): "s3://acme.streamalerts/alerts/dt=2024-01-01-06/",
    }
    assert summary == {
        "messages_received": 2,
        "messages_deleted": 2,
        "messages_kept": 0,
        "partitions_added": {"alerts": 2},
        "tables_repaired": [],
    }
    assert deployment.messages_left() == 0
    assert deployment.calls["StartQueryExecution"] == 0, "Glue mode sends no Athena query"


def test_glue_partition_carries_the_table_storage_with_its_own_location(deployment, make_refresher):
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))

    run(make_refresher())

    partition = deployment.glue.get_partition(
        DatabaseName=DATABASE, TableName="alerts", PartitionValues=["2024-01-01-05"]
    )["Partition"]
    descriptor = partition["StorageDescriptor"]
    assert descriptor["Location"] == "s3://acme.streamalerts/alerts/dt=2024-01-01-05/"
    assert descriptor["Columns"] == [{"Name": "record", "Type": "string"}]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_firehose_layout_under_a_bucket_prefix_source(deployment, make_refresher):
    deployment.send(s3_body(("acme-data", "cloudtrail/2024/01/02/03/events-1.gz")))

    run(make_refresher())

    assert deployment.partitions("cloudtrail") == {
        ("2024-01-02-03",): "s3://acme-data/cloudtrail/2024/01/02/03/"
    }
    assert deployment.messages_left() == 0


def test_prefix_source_matches_whole_segments_only(deployment, make_refresher):
    deployment.send(s3_body(("acme-data", "cloudtrail2/2024/01/02/03/events-1.gz")))

    summary = run(make_refresher())

    assert deployment.partitions("cloudtrail") == {}
    assert summary["messages_kept"] == 1
    assert deployment.messages_left() == 1


def test_each_source_goes_to_its_own_table(deployment, make_refresher):
    deployment.send(
        s3_body(
            ("acme.streamalerts", "alerts/dt=2024-02-01-00/a.json"),
            ("acme-data", "cloudtrail/2024/02/01/01/c.gz"),
        ),
        s3_body(("acme-data", "vpcflow/dt=2024-02-01-02/v.gz")),
    )

    summary = run(make_refresher())

    assert list(deployment.partitions("alerts")) == [("2024-02-01-00",)]
    assert list(deployment.partitions("cloudtrail")) == [("2024-02-01-01",)]
    assert summary["partitions_added"] == {"alerts": 1, "cloudtrail": 1, "vpcflow": 1}
    assert any("`vpcflow`" in query for query in deployment.queries())
    assert not any("`alerts`" in query or "`cloudtrail`" in query for query in deployment.queries())


def test_hive_sources_send_add_partition_statements(deployment, make_refresher):
    deployment.send(
        s3_body(("acme-waf", "logs/region=us-east-1/dt=2024-03-01-10/w.json")),
        s3_body(("acme-waf", "logs/region=eu-west-1/dt=2024-03-01-10/w.json")),
    )

    summary = run(make_refresher())

    assert deployment.queries() == [
        "ALTER TABLE `streamalert`.`waf` ADD IF NOT EXISTS"
        "\nPARTITION (`region` = 'us-east-1', `dt` = '2024-03-01-10') "
        "LOCATION 's3://acme-waf/logs/region=us-east-1/dt=2024-03-01-10/'"
        "\nPARTITION (`region` = 'eu-west-1', `dt` = '2024-03-01-10') "
        "LOCATION 's3://acme-waf/logs/region=eu-west-1/dt=2024-03-01-10/'"
    ]
    assert summary["messages_deleted"] == 2


def test_repair_table_runs_once_per_run_for_tables_with_new_objects(deployment, make_refresher):
    deployment.send(*(s3_body(("acme-legacy", f"x/dt=2024-01-01-0{i}/f.json")) for i in range(5)))

    summary = run(make_refresher())

    assert deployment.queries() == ["MSCK REPAIR TABLE `streamalert`.`legacy`"]
    assert summary["tables_repaired"] == ["legacy"]
    assert deployment.messages_left() == 0


def test_url_encoded_keys_are_decoded(deployment, make_refresher):
    deployment.send(
        json.dumps(
            {
                "Records": [
                    {
                        "eventSource": "aws:s3",
                        "eventName": "ObjectCreated:Put",
                        "s3": {
                            "bucket": {"name": "acme-waf"},
                            "object": {"key": "my+logs/region%3Dus-east-1/dt%3D2024-03-01-10%2Fw.json"},
                        },
                    }
                ]
            }
        )
    )

    run(make_refresher())

    assert "LOCATION 's3://acme-waf/my logs/region=us-east-1/dt=2024-03-01-10/'" in deployment.queries()[0]


def test_message_with_several_records_is_one_message_deleted_once(deployment, make_refresher):
    deployment.send(
        s3_body(
            ("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json"),
            ("acme.streamalerts", "alerts/dt=2024-01-01-05/b.json"),
            ("acme.streamalerts", "alerts/dt=2024-01-01-07/c.json"),
        )
    )

    summary = run(make_refresher())

    assert summary["messages_received"] == 1
    assert summary["messages_deleted"] == 1
    assert summary["partitions_added"] == {"alerts": 2}
    assert deployment.calls["DeleteMessageBatch"] == 1


def test_sns_wrapped_notification(deployment, make_refresher):
    deployment.send(sns_wrapped(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json"))))

    run(make_refresher())

    assert list(deployment.partitions("alerts")) == [("2024-01-01-05",)]
    assert deployment.messages_left() == 0


def test_test_events_and_folder_markers_are_deleted_without_any_write(deployment, make_refresher):
    deployment.send(
        S3_TEST_EVENT,
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05_$folder$")),
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/")),
    )

    summary = run(make_refresher())

    assert summary["messages_deleted"] == 3
    assert not CATALOG_WRITES & set(deployment.calls.sequence)


def test_a_test_event_is_logged_at_debug_with_what_was_done(deployment, make_refresher, capsys):
    logger.configure("debug")
    deployment.send(S3_TEST_EVENT)

    run(make_refresher())

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    said = [line for line in lines if line["message"].startswith("S3 test event")]
    assert len(said) == 1
    assert said[0]["level"] == "DEBUG"
    assert "deleted" in said[0]["message"]


@pytest.mark.parametrize(
    "body", ["not json", "{}", '{"Records": []}', '{"Records": [{"eventSource": "aws:sqs"}]}']
)
def test_bodies_without_s3_records_stay_for_the_dead_letter_queue(deployment, make_refresher, body, capsys):
    logger.configure("info")
    deployment.send(body, s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1
    assert summary["messages_deleted"] == 1, "the good message beside it is not held back"
    errors = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert any(e["level"] == "ERROR" and "not an S3 notification" in e["context"]["reason"] for e in errors)


def test_rejected_keys_never_reach_a_query_and_their_message_stays(deployment, make_refresher, capsys):
    logger.configure("info")
    deployment.send(
        s3_body(("acme-waf", "logs/region=us-east-1/dt=2024'; DROP TABLE x; --/w.json")),
        s3_body(("acme-waf", "logs/region=us-east-1/dt=2024-03-01-10/w.json")),
    )

    summary = run(make_refresher())

    assert len(deployment.queries()) == 1
    assert "DROP" not in deployment.queries()[0]
    assert summary["messages_kept"] == 1
    log = capsys.readouterr().err
    assert "acme-waf" in log
    assert "DROP TABLE" in log, "the error log names the rejected key"


def test_unmapped_bucket_stays_on_the_queue(deployment, make_refresher):
    deployment.send(s3_body(("someone-else", "x/dt=2024-01-01-05/a.json")))

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1
    assert deployment.messages_left() == 1


def test_partition_columns_that_differ_from_the_table_are_rejected(deployment, make_refresher):
    deployment.send(s3_body(("acme.streamalerts", "alerts/date=2024-01-01-05/a.json")))

    summary = run(make_refresher())

    assert deployment.partitions("alerts") == {}
    assert summary["messages_kept"] == 1


def test_missing_database_raises_before_receiving_anything(deployment, make_refresher):
    deployment.glue.delete_database(Name=DATABASE)
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))
    deployment.calls.reset()

    with pytest.raises(DatabaseNotFoundError, match=r"'streamalert'.*CREATE DATABASE streamalert"):
        run(make_refresher())

    assert deployment.calls["ReceiveMessage"] == 0
    assert deployment.messages_left() == 1


def test_missing_table_keeps_its_messages_and_names_the_table(deployment, make_refresher, capsys):
    logger.configure("info")
    deployment.glue.delete_table(DatabaseName=DATABASE, Name="cloudtrail")
    deployment.send(
        s3_body(("acme-data", "cloudtrail/2024/01/02/03/c.gz")),
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
    )

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1
    assert summary["messages_deleted"] == 1
    errors = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert any(e["level"] == "ERROR" and e.get("context", {}).get("table") == "cloudtrail" for e in errors)


def test_existing_partitions_count_as_registered(deployment, make_refresher):
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))
    run(make_refresher())
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/b.json")))

    summary = run(make_refresher())  # a new container: it does not know the partition exists

    assert summary["messages_deleted"] == 1
    assert deployment.messages_left() == 0


def test_warm_container_reads_each_table_once_a_run_and_asks_the_catalog_every_run(
    deployment, make_refresher
):
    refresher = make_refresher()
    for name in ("a", "b", "c"):
        deployment.send(s3_body(("acme.streamalerts", f"alerts/dt=2024-01-01-05/{name}.json")))
        run(refresher)

    assert deployment.calls["GetDatabase"] == 1
    assert deployment.calls["GetQueueUrl"] == 1
    assert deployment.calls["GetTable"] == 3, "table metadata is read once a run, never kept across runs"
    assert deployment.calls["BatchCreatePartition"] == 3, "no memory of written partitions across runs"
    assert deployment.messages_left() == 0


def test_one_partition_of_many_messages_is_written_once_a_run(deployment, make_refresher):
    deployment.send(*(s3_body(("acme.streamalerts", f"alerts/dt=2024-01-01-05/{n}.json")) for n in range(30)))

    run(make_refresher())

    assert deployment.calls["GetTable"] == 1
    assert deployment.calls["BatchCreatePartition"] == 1
    assert deployment.messages_left() == 0


def test_a_partition_dropped_since_an_earlier_run_is_registered_again(deployment, make_refresher):
    refresher = make_refresher()
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))
    run(refresher)
    deployment.glue.delete_partition(
        DatabaseName=DATABASE, TableName="alerts", PartitionValues=["2024-01-01-05"]
    )
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/b.json")))

    run(refresher)  # the same warm container

    assert deployment.partitions("alerts") == {
        ("2024-01-01-05",): "s3://acme.streamalerts/alerts/dt=2024-01-01-05/"
    }
    assert deployment.messages_left() == 0


def test_a_schema_change_reaches_the_partitions_of_the_next_run(deployment, make_refresher):
    refresher = make_refresher()
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")))
    run(refresher)
    table = deployment.glue.get_table(DatabaseName=DATABASE, Name="alerts")["Table"]
    descriptor = {**table["StorageDescriptor"], "Columns": [{"Name": "rule", "Type": "string"}]}
    deployment.glue.update_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "alerts",
            "PartitionKeys": table["PartitionKeys"],
            "StorageDescriptor": descriptor,
        },
    )
    deployment.send(s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-06/b.json")))

    run(refresher)  # the same warm container

    partition = deployment.glue.get_partition(
        DatabaseName=DATABASE, TableName="alerts", PartitionValues=["2024-01-01-06"]
    )["Partition"]
    assert partition["StorageDescriptor"]["Columns"] == [{"Name": "rule", "Type": "string"}]


def test_messages_are_deleted_only_after_the_commit(deployment, make_refresher):
    deployment.send(
        s3_body(("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json")),
        s3_body(("acme-data", "vpcflow/dt=2024-02-01-02/v.gz")),
    )

    run(make_refresher())

    sequence = deployment.calls.sequence
    assert sequence.index("DeleteMessageBatch") > sequence.index("BatchCreatePartition")
    assert sequence.index("DeleteMessageBatch") > max(
        i for i, name in enumerate(sequence) if name == "GetQueryExecution"
    )


def test_an_empty_queue_costs_one_receive_and_no_catalog_write(deployment, make_refresher):
    summary = run(make_refresher())

    assert summary["messages_received"] == 0
    assert deployment.calls["ReceiveMessage"] == 1
    assert not CATALOG_WRITES & set(deployment.calls.sequence)


def add_partition(deployment, table: str, values: list[str], location: str) -> None:
    deployment.glue.create_partition(
        DatabaseName=DATABASE,
        TableName=table,
        PartitionInput={"Values": values, "StorageDescriptor": {"Location": location}},
    )


@pytest.mark.parametrize(
    ("source", "key", "table"),
    [
        ("acme.streamalerts", "alerts/dt=2024-01-01-05/a.json", "alerts"),  # Glue mode
        ("acme-data", "vpcflow/dt=2024-01-01-05/v.gz", "vpcflow"),  # ALTER TABLE mode
    ],
)
def test_partition_registered_at_another_folder_keeps_the_message(
    deployment, make_refresher, source, key, table
):
    add_partition(deployment, table, ["2024-01-01-05"], "s3://elsewhere/processing-failed/dt=2024-01-01-05/")
    deployment.send(s3_body((source, key)))

    summary = run(make_refresher())

    assert summary["messages_kept"] == 1, "its objects would never be searchable: it must not be deleted"
    assert deployment.messages_left() == 1


def test_partition_registered_at_the_same_folder_counts_as_registered(deployment, make_refresher):
    add_partition(deployment, "vpcflow", ["2024-01-01-05"], "s3://acme-data/vpcflow/dt=2024-01-01-05/")
    deployment.send(s3_body(("acme-data", "vpcflow/dt=2024-01-01-05/v.gz")))

    summary = run(make_refresher())

    assert summary["messages_deleted"] == 1
