"""Metrics in the embedded metric format: the shape CloudWatch Logs turns into metrics."""

from __future__ import annotations

import io
import json

from streamalert import metrics


def test_emf_line_declares_every_value_as_a_count_metric() -> None:
    line = metrics.emf_line(
        "Ns", {"FunctionName": "f"}, {"MessagesReceived": 3, "Failures": 0}, 1700000000000
    )

    document = json.loads(line)
    assert document["_aws"] == {
        "Timestamp": 1700000000000,
        "CloudWatchMetrics": [
            {
                "Namespace": "Ns",
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    {"Name": "MessagesReceived", "Unit": "Count"},
                    {"Name": "Failures", "Unit": "Count"},
                ],
            }
        ],
    }
    assert document["FunctionName"] == "f"
    assert document["MessagesReceived"] == 3
    assert document["Failures"] == 0


def test_emit_writes_one_line() -> None:
    stream = io.StringIO()

    metrics.emit("Ns", {"FunctionName": "f"}, {"PartitionsAdded": 2}, stream=stream)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["PartitionsAdded"] == 2
