"""Every AWS call a refresh run makes, held to its lower bound: a run that makes one call too many fails.

Runs on the emulator with the in-memory queue (fast); counts calls, never seconds.
"""

from __future__ import annotations

import pytest

from benchmarks.bounds import CATALOG_WRITES, OPERATIONS
from benchmarks.calls import Measured, cold_run, partitions_for, scale_runs, warm_rerun
from config_schemas.models import RefreshType

TYPES = list(RefreshType)


def assert_at_bound(run: Measured) -> None:
    assert set(run.calls) <= set(OPERATIONS), f"unexpected operations: {run.calls}"
    assert not run.over, f"{run.shape.refresh_type.value} M={run.shape.messages}: over the bound {run.over}"


@pytest.mark.parametrize("messages", [10, 100])
@pytest.mark.parametrize("refresh_type", TYPES, ids=lambda t: t.value)
def test_cold_run_makes_no_call_over_its_bound(refresh_type: RefreshType, messages: int) -> None:
    run = cold_run(refresh_type, messages, partitions_for(messages))

    assert_at_bound(run)
    assert run.calls["ReceiveMessage"] >= messages // 10 + 1
    assert run.calls["DeleteMessageBatch"] == messages // 10


@pytest.mark.parametrize("refresh_type", TYPES, ids=lambda t: t.value)
def test_a_run_that_receives_nothing_writes_nothing(refresh_type: RefreshType) -> None:
    run = cold_run(refresh_type, 0, 0)

    assert_at_bound(run)
    assert run.catalog_writes == 0
    assert run.calls["ReceiveMessage"] == 1


@pytest.mark.parametrize("refresh_type", TYPES, ids=lambda t: t.value)
def test_warm_container_reads_the_table_again_and_asks_the_catalog_again(refresh_type: RefreshType) -> None:
    run = warm_rerun(refresh_type, 100, partitions_for(100))

    assert_at_bound(run)
    assert not {"GetQueueUrl", "GetDatabase"} & set(run.calls)
    assert run.calls["GetTable"] == 1, "a schema change reaches the next run"
    assert sum(run.calls.get(operation, 0) for operation in CATALOG_WRITES) == 1, (
        "what an earlier run wrote may be gone since: the catalog is asked again"
    )


@pytest.mark.parametrize("refresh_type", TYPES, ids=lambda t: t.value)
def test_calls_do_not_grow_with_the_partitions_already_in_the_catalog(refresh_type: RefreshType) -> None:
    runs = list(scale_runs(refresh_type, levels=(0, 1_000)))

    for run in runs:
        assert_at_bound(run)
    # the empty polls at the end vary with the calls in flight when the queue ran dry
    first, second = ({k: n for k, n in run.calls.items() if k != "ReceiveMessage"} for run in runs)
    assert first == second
