"""CloudWatch metrics written as log lines in the embedded metric format: no API call, no extra latency."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import TextIO


def emf_line(
    namespace: str, dimensions: Mapping[str, str], values: Mapping[str, int | float], timestamp_ms: int
) -> str:
    """One embedded-metric-format JSON object: CloudWatch Logs turns its values into metrics (unit Count)."""
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                }
            ],
        },
        **dimensions,
        **values,
    }
    return json.dumps(document, sort_keys=False)


def emit(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, int | float],
    stream: TextIO | None = None,
) -> None:
    """Write the metrics to stdout (Lambda sends stdout to CloudWatch Logs)."""
    print(
        emf_line(namespace, dimensions, values, int(time.time() * 1000)),
        file=stream or sys.stdout,
        flush=True,
    )
